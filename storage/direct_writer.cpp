#include "storage/direct_writer.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace argus::storage {

namespace {

constexpr size_t block = direct_writer::block_bytes;

size_t round_up(size_t n) {
  return (n + block - 1) / block * block;
}

} // namespace

std::unique_ptr<direct_writer>
direct_writer::open(const std::filesystem::path& file, off_t end) {
  int fd = ::open(file.c_str(), O_RDWR | O_DIRECT | O_DSYNC | O_CLOEXEC);
  if (fd < 0)
    return nullptr;
  // The block's head through the page cache: a direct read would need an
  // aligned buffer for a few hundred bytes read once.
  auto from = end / static_cast<off_t>(block) * static_cast<off_t>(block);
  std::string head(static_cast<size_t>(end - from), '\0');
  if (!head.empty()) {
    int reader = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    auto n = reader < 0 ? -1 : ::pread(reader, head.data(), head.size(), from);
    auto saved = errno;
    if (reader >= 0)
      ::close(reader);
    if (n != static_cast<ssize_t>(head.size())) {
      ::close(fd);
      errno = n < 0 ? saved : EIO;
      return nullptr;
    }
  }
  return std::unique_ptr<direct_writer>{
      new direct_writer(fd, end, std::move(head))};
}

direct_writer::direct_writer(int fd, off_t end, std::string head)
    : fd_(fd), end_(end), head_(std::move(head)) {}

direct_writer::~direct_writer() {
  ::close(fd_);
}

bool direct_writer::append(std::string_view bytes) {
  if (!write_blocks(bytes.data(), bytes.size()))
    return false;
  // The new end's block head: the tail of what was just written, or of
  // the old head followed by it.
  auto new_end = end_ + static_cast<off_t>(bytes.size());
  auto keep = static_cast<size_t>(new_end % static_cast<off_t>(block));
  if (keep <= bytes.size())
    head_.assign(bytes.substr(bytes.size() - keep));
  else
    head_.append(bytes);
  end_ = new_end;
  return true;
}

bool direct_writer::clear(off_t length) {
  return write_blocks(nullptr, static_cast<size_t>(length));
}

bool direct_writer::write_blocks(const char* bytes, size_t length) {
  auto total = round_up(head_.size() + length);
  if (total > capacity_) {
    void* p = nullptr;
    if (::posix_memalign(&p, block, total) != 0) {
      errno = ENOMEM;
      return false;
    }
    buffer_.reset(static_cast<char*>(p));
    capacity_ = total;
  }
  auto* out = buffer_.get();
  std::memcpy(out, head_.data(), head_.size());
  if (bytes != nullptr)
    std::memcpy(out + head_.size(), bytes, length);
  else
    std::memset(out + head_.size(), 0, length);
  std::memset(out + head_.size() + length, 0, total - head_.size() - length);
  auto from = end_ - static_cast<off_t>(head_.size());
  for (size_t done = 0; done < total;) {
    // A short direct write ends on a block boundary, so the rest stays
    // aligned.
    auto n = ::pwrite(fd_, out + done, total - done,
                      from + static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    if (n == 0) {
      errno = EIO;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

} // namespace argus::storage
