// The file journal: segment files `journal-<first seq>.log` in one folder,
// each a sequence of records [u32 length][u32 crc32][encoded event].
#include "config/log.hpp"
#include "domain/error.hpp"
#include "storage/event_codec.hpp"
#include "storage/journal.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <map>
#include <sys/stat.h>
#include <unistd.h>

namespace argus::storage {

namespace fs = std::filesystem;

namespace {

/// Segments roll over at this size; trimming drops whole segments.
constexpr off_t segment_bytes = 16 * 1024 * 1024;
constexpr size_t header_bytes = 8;
/// No single event comes near this (bodies are limited far below it); a
/// larger length field means damage, not data.
constexpr uint32_t max_record_bytes = 64 * 1024 * 1024;

caf::error io_error(const std::string& what, const fs::path& file) {
  auto reason = std::strerror(errno);
  // A full disk or a read-only folder means "try later", not a bug.
  auto code =
      errno == ENOSPC || errno == EROFS || errno == EACCES || errno == EDQUOT
          ? ec::unavailable
          : ec::internal;
  return make_error(code, "journal: cannot " + what + " " + file.string() +
                              ": " + reason);
}

uint32_t checksum(std::string_view bytes) {
  return static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(bytes.data()),
            static_cast<uInt>(bytes.size())));
}

std::string segment_name(uint64_t first_seq) {
  char name[48];
  std::snprintf(name, sizeof name, "journal-%020llu.log",
                static_cast<unsigned long long>(first_seq));
  return name;
}

bool read_file(const fs::path& file, std::string& out) {
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  out.clear();
  char buf[1 << 16];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0)
    out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return n == 0;
}

bool write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    auto n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

/// Walks the records of one segment's bytes; stops at the end or at the
/// first record that does not check out.
struct record_walk {
  std::string_view bytes;
  size_t offset = 0;

  enum class step { record, end, torn, damaged };

  step next(domain::event& e) {
    if (offset == bytes.size())
      return step::end;
    if (bytes.size() - offset < header_bytes)
      return step::torn;
    uint32_t length = 0;
    uint32_t crc = 0;
    std::memcpy(&length, bytes.data() + offset, 4);
    std::memcpy(&crc, bytes.data() + offset + 4, 4);
    if (length > max_record_bytes)
      return step::damaged;
    if (bytes.size() - offset - header_bytes < length)
      return step::torn;
    auto payload = bytes.substr(offset + header_bytes, length);
    if (checksum(payload) != crc || !decode(payload, e))
      // The last record of the file may be half-written by a crash.
      return offset + header_bytes + length == bytes.size() ? step::torn
                                                            : step::damaged;
    offset += header_bytes + length;
    return step::record;
  }
};

class file_journal final : public journal_backend {
public:
  explicit file_journal(fs::path dir) : dir_(std::move(dir)) {}

  ~file_journal() override {
    if (fd_ >= 0)
      ::close(fd_);
  }

  /// Scans every segment: finds the last sequence number, discards a torn
  /// tail, and refuses damage anywhere else.
  caf::error open() {
    std::error_code fs_err;
    fs::create_directories(dir_, fs_err);
    if (fs_err)
      return make_error(ec::unavailable, "journal: cannot create folder " +
                                             dir_.string() + ": " +
                                             fs_err.message());
    for (auto& entry : fs::directory_iterator(dir_, fs_err)) {
      auto name = entry.path().filename().string();
      if (name.rfind("journal-", 0) == 0 && name.size() > 12 &&
          name.substr(name.size() - 4) == ".log")
        segments_[std::stoull(name.substr(8, name.size() - 12))] = entry.path();
    }
    if (fs_err)
      return make_error(ec::internal, "journal: cannot list " + dir_.string() +
                                          ": " + fs_err.message());
    std::string bytes;
    for (auto it = segments_.begin(); it != segments_.end(); ++it) {
      bool last = std::next(it) == segments_.end();
      if (!read_file(it->second, bytes))
        return io_error("read", it->second);
      record_walk walk{bytes};
      domain::event e;
      record_walk::step s;
      while ((s = walk.next(e)) == record_walk::step::record)
        last_seq_ = e.seq;
      if (s == record_walk::step::end)
        continue;
      if (s == record_walk::step::damaged || !last)
        return make_error(ec::internal,
                          "journal: damaged record in " + it->second.string() +
                              " at byte " + std::to_string(walk.offset) +
                              "; refusing to start rather than lose or "
                              "misapply accepted events");
      LOG_WARNING("journal: discarding a torn last record ("
                  << bytes.size() - walk.offset << " bytes at byte "
                  << walk.offset << " of " << it->second.string()
                  << "), left by a crash before it was acknowledged");
      if (::truncate(it->second.c_str(), static_cast<off_t>(walk.offset)) != 0)
        return io_error("truncate", it->second);
    }
    return {};
  }

  caf::expected<uint64_t> last_seq() override { return last_seq_; }

  caf::error append(const std::vector<domain::event>& events) override {
    if (events.empty())
      return {};
    if (auto err = ensure_segment(events.front().seq))
      return err;
    buffer_.clear();
    for (auto& e : events) {
      auto start = buffer_.size();
      buffer_.append(header_bytes, '\0');
      encode(e, buffer_);
      auto length =
          static_cast<uint32_t>(buffer_.size() - start - header_bytes);
      auto crc = checksum(
          std::string_view{buffer_}.substr(start + header_bytes, length));
      std::memcpy(&buffer_[start], &length, 4);
      std::memcpy(&buffer_[start + 4], &crc, 4);
    }
    auto file = segments_.rbegin()->second;
    if (!write_all(fd_, buffer_) || ::fdatasync(fd_) != 0) {
      auto err = io_error("write", file);
      // Cut back what may have been written, so no half record is left to
      // be taken for an acknowledged one.
      if (::ftruncate(fd_, size_) != 0)
        LOG_ERROR("journal: cannot cut back " << file.string());
      return err;
    }
    size_ += static_cast<off_t>(buffer_.size());
    last_seq_ = events.back().seq;
    return {};
  }

  caf::error replay(uint64_t after,
                    const std::function<void(domain::event&)>& fn) override {
    std::string bytes;
    for (auto& [first, file] : segments_) {
      if (!read_file(file, bytes))
        return io_error("read", file);
      record_walk walk{bytes};
      domain::event e;
      while (walk.next(e) == record_walk::step::record)
        if (e.seq > after)
          fn(e);
    }
    return {};
  }

  caf::error trim_through(uint64_t seq) override {
    // A segment can go once the next one starts at or below seq + 1; the
    // segment being written always stays.
    while (segments_.size() > 1) {
      auto second = std::next(segments_.begin());
      if (second->first > seq + 1)
        break;
      std::error_code fs_err;
      fs::remove(segments_.begin()->second, fs_err);
      if (fs_err)
        return make_error(ec::internal, "journal: cannot remove " +
                                            segments_.begin()->second.string() +
                                            ": " + fs_err.message());
      segments_.erase(segments_.begin());
    }
    return {};
  }

private:
  /// Opens the newest segment for appending, or starts a new one when there
  /// is none or it is full.
  caf::error ensure_segment(uint64_t first_seq) {
    if (fd_ >= 0 && size_ < segment_bytes)
      return {};
    if (fd_ < 0 && !segments_.empty()) {
      auto file = segments_.rbegin()->second;
      fd_ = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
      if (fd_ < 0)
        return io_error("open", file);
      struct stat st {};
      ::fstat(fd_, &st);
      size_ = st.st_size;
      if (size_ < segment_bytes)
        return {};
    }
    if (fd_ >= 0)
      ::close(fd_);
    auto file = dir_ / segment_name(first_seq);
    fd_ = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0)
      return io_error("create", file);
    // The new file's name must survive a crash too.
    int dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
      ::fsync(dir_fd);
      ::close(dir_fd);
    }
    segments_[first_seq] = file;
    size_ = 0;
    return {};
  }

  fs::path dir_;
  std::map<uint64_t, fs::path> segments_;
  uint64_t last_seq_ = 0;
  int fd_ = -1;
  off_t size_ = 0;
  std::string buffer_;
};

} // namespace

caf::expected<std::unique_ptr<journal_backend>>
open_file_journal(const std::string& dir) {
  auto result = std::make_unique<file_journal>(dir);
  if (auto err = result->open())
    return err;
  return std::unique_ptr<journal_backend>{std::move(result)};
}

} // namespace argus::storage
