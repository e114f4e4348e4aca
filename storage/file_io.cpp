#include "storage/file_io.hpp"
#include "domain/error.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace argus::storage {

bool write_at(int fd, std::string_view bytes, off_t offset) {
  size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::pwrite(fd, bytes.data() + done, bytes.size() - done,
                      offset + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

bool write_zeros(int fd, off_t offset, off_t length) {
  static const std::string zeros(1 << 20, '\0');
  while (length > 0) {
    auto step = std::min<off_t>(length, static_cast<off_t>(zeros.size()));
    if (!write_at(fd, std::string_view{zeros}.substr(0, step), offset))
      return false;
    offset += step;
    length -= step;
  }
  return true;
}

caf::error io_error(const std::string& what,
                    const std::filesystem::path& file) {
  auto reason = std::strerror(errno);
  // A full disk or a read-only folder means "try later", not a bug.
  auto code =
      errno == ENOSPC || errno == EROFS || errno == EACCES || errno == EDQUOT
          ? ec::unavailable
          : ec::internal;
  return make_error(code, "journal: cannot " + what + " " + file.string() +
                              ": " + reason);
}

void sync_folder(const std::filesystem::path& dir) {
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

} // namespace argus::storage
