// The file journal: segment files `journal-<first seq>.log` in one folder,
// each a sequence of records [u32 length][u32 crc32][encoded event]. A
// segment is made at its full length of zeros before use (see
// segment_spare.hpp), so the records end at the first all-zero header;
// the first segment of a new journal starts as an empty file instead and
// is left for a made one as soon as that is ready.
#include "config/log.hpp"
#include "domain/error.hpp"
#include "storage/direct_writer.hpp"
#include "storage/event_codec.hpp"
#include "storage/file_io.hpp"
#include "storage/journal.hpp"
#include "storage/segment_spare.hpp"

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

constexpr size_t header_bytes = 8;
/// No single event comes near this (bodies are limited far below it); a
/// larger length field means damage, not data.
constexpr uint32_t max_record_bytes = 64 * 1024 * 1024;
/// The unit a disk writes whole or not at all. A record that a crash tore
/// reads as zeros in the sectors that did not reach the disk, as its
/// segment held zeros there before.
constexpr size_t sector_bytes = 512;
/// The spare is made in the background once the segment being written
/// holds this share of its length: a node that never journals much (a
/// test, a quiet node) never writes a whole segment of zeros.
constexpr off_t spare_after_share = 16;

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

bool all_zero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(),
                     [](char c) { return c == '\0'; });
}

/// Walks the records of one segment's bytes; stops at the end of the
/// records (the file's end or an all-zero header) or at the first record
/// that does not check out.
struct record_walk {
  std::string_view bytes;
  size_t offset = 0;

  enum class step { record, end, bad };

  step next(domain::event& e) {
    auto rest = bytes.size() - offset;
    if (rest == 0)
      return step::end;
    if (rest < header_bytes)
      return all_zero(bytes.substr(offset)) ? step::end : step::bad;
    uint32_t length = 0;
    uint32_t crc = 0;
    std::memcpy(&length, bytes.data() + offset, 4);
    std::memcpy(&crc, bytes.data() + offset + 4, 4);
    if (length == 0 && crc == 0)
      return step::end; // no record encodes to nothing: this is the zeros
    if (length > max_record_bytes || rest - header_bytes < length)
      return step::bad;
    auto payload = bytes.substr(offset + header_bytes, length);
    if (checksum(payload) != crc || !decode(payload, e))
      return step::bad;
    offset += header_bytes + length;
    return step::record;
  }

  /// Whether the bad record at `offset` is one a crash tore rather than
  /// damage: it runs past the file's end or ends there (an appended file
  /// cut short), or a piece of it between sector boundaries is all zeros
  /// (a sector of a made segment that the write never reached).
  bool torn() const {
    uint32_t length = 0;
    if (bytes.size() - offset >= 4)
      std::memcpy(&length, bytes.data() + offset, 4);
    auto end = offset + header_bytes + static_cast<size_t>(length);
    if (bytes.size() - offset < header_bytes || end >= bytes.size())
      return true;
    for (auto from = offset; from < end;) {
      auto to = std::min(end, (from / sector_bytes + 1) * sector_bytes);
      if (all_zero(bytes.substr(from, to - from)))
        return true;
      from = to;
    }
    return false;
  }
};

class file_journal final : public journal_backend {
public:
  file_journal(fs::path dir, off_t segment_bytes)
      : dir_(std::move(dir)), segment_bytes_(segment_bytes) {}

  ~file_journal() override {
    if (fd_ >= 0)
      ::close(fd_);
  }

  /// Scans every segment: finds the last sequence number, clears what a
  /// crash left past the last record, and refuses damage anywhere else.
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
      if (last)
        data_end_ = static_cast<off_t>(walk.offset);
      auto left = bytes.find_first_not_of('\0', walk.offset);
      if (s == record_walk::step::end && left == std::string::npos)
        continue;
      // Past the records of the last segment lies only what a crash cut
      // short: the one write in flight, never acknowledged. Anywhere else
      // bytes there mean acknowledged records were lost.
      if (!last || (s == record_walk::step::bad && !walk.torn()))
        return make_error(ec::internal,
                          "journal: damaged record in " + it->second.string() +
                              " at byte " + std::to_string(walk.offset) +
                              "; refusing to start rather than lose or "
                              "misapply accepted events");
      auto upto = bytes.find_last_not_of('\0') + 1;
      LOG_WARNING("journal: discarding "
                  << upto - walk.offset << " bytes after byte " << walk.offset
                  << " of " << it->second.string()
                  << ", left by a crash before they were acknowledged");
      if (auto err = clear(it->second, walk.offset, upto))
        return err;
    }
    return {};
  }

  caf::expected<uint64_t> last_seq() override { return last_seq_; }

  caf::error append(const std::vector<domain::event>& events) override {
    if (events.empty())
      return {};
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
    auto length = static_cast<off_t>(buffer_.size());
    if (auto err = make_room(events.front().seq, length))
      return err;
    auto file = segments_.rbegin()->second;
    if (!write_records(length)) {
      auto err = io_error("write", file);
      take_back(length, file);
      return err;
    }
    size_ += length;
    file_bytes_ = std::max(file_bytes_, size_);
    last_seq_ = events.back().seq;
    if (size_ >= segment_bytes_ / spare_after_share)
      spare().request();
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
  /// Writes buffer_ (`length` bytes) at the end of the records, durably:
  /// directly into a made segment where the file system allows it,
  /// through the page cache and `fdatasync` otherwise.
  bool write_records(off_t length) {
    if (direct_ && size_ + length > file_bytes_)
      direct_.reset(); // a batch longer than a segment grows the file
    if (direct_) {
      if (direct_->append(buffer_))
        return true;
      if (errno != EINVAL)
        return false;
      LOG_WARNING("journal: writing through the page cache, as direct "
                  "writes are refused: "
                  << std::strerror(errno));
      direct_.reset();
      direct_refused_ = true;
    }
    return write_at(fd_, buffer_, size_) && ::fdatasync(fd_) == 0;
  }

  /// Opens the made segment `file` for direct writes at the end of its
  /// records, unless the file system takes none (then the page cache
  /// serves from now on, as for an ordinary file) or the file's length is
  /// not whole blocks (a write rounded up to a block would grow it).
  void open_direct(const fs::path& file) {
    direct_.reset();
    constexpr auto block = static_cast<off_t>(direct_writer::block_bytes);
    if (direct_refused_ || file_bytes_ % block != 0)
      return;
    direct_ = direct_writer::open(file, size_);
    if (direct_)
      return;
    if (errno == EINVAL) {
      LOG_INFO("journal: writing through the page cache, as "
               << dir_.string() << " takes no direct writes");
      direct_refused_ = true;
    } else {
      // Out of descriptors, a failed read: this segment only.
      LOG_WARNING("journal: writing "
                  << file.string()
                  << " through the page cache: " << std::strerror(errno));
    }
  }

  /// Zeros bytes `from` to `upto` of `file`, a crash's leftovers past its
  /// last good record, so that records written there later are not
  /// followed by older ones a later recovery would take for theirs.
  caf::error clear(const fs::path& file, size_t from, size_t upto) {
    int fd = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
      return io_error("open", file);
    bool ok = write_zeros(fd, static_cast<off_t>(from),
                          static_cast<off_t>(upto - from)) &&
              ::fdatasync(fd) == 0;
    auto err = ok ? caf::error{} : io_error("clear the end of", file);
    ::close(fd);
    return err;
  }

  /// Opens the segment to write `length` bytes into: the newest, or a new
  /// one starting at `first_seq` when the newest is full, or is an empty
  /// file begun while no made one was ready and now one is.
  caf::error make_room(uint64_t first_seq, off_t length) {
    if (fd_ < 0 && !segments_.empty()) {
      auto file = segments_.rbegin()->second;
      fd_ = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd_ < 0)
        return io_error("open", file);
      struct stat st {};
      ::fstat(fd_, &st);
      size_ = data_end_;
      file_bytes_ = st.st_size;
      if (file_bytes_ >= segment_bytes_)
        open_direct(file);
    }
    if (fd_ >= 0) {
      bool made = file_bytes_ >= segment_bytes_;
      // A batch longer than a whole segment goes into one alone.
      if (made && (size_ + length <= file_bytes_ || size_ == 0))
        return {};
      if (!made && size_ < segment_bytes_ && !spare().ready())
        return {};
    }
    return start_segment(first_seq);
  }

  /// Starts the segment `first_seq`: the spare, waiting for it unless this
  /// is a new journal's first, or an empty file when none can be made.
  caf::error start_segment(uint64_t first_seq) {
    auto file = dir_ / segment_name(first_seq);
    bool made = false;
    if (fd_ >= 0 || spare().ready()) {
      if (auto err = spare().take(file))
        LOG_WARNING("journal: appending to a new empty segment, as "
                    << message_of(err));
      else
        made = true;
    }
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      return io_error(made ? "open" : "create", file);
    // The new name must survive a crash too.
    sync_folder(dir_);
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = fd;
    segments_[first_seq] = file;
    size_ = 0;
    file_bytes_ = made ? segment_bytes_ : 0;
    if (made)
      open_direct(file);
    else
      direct_.reset();
    return {};
  }

  /// Undoes a failed write of `length` bytes at the end of the records as
  /// far as it can, so no record is left to be taken for an acknowledged
  /// one.
  void take_back(off_t length, const fs::path& file) {
    if (direct_) {
      if (!direct_->clear(length))
        LOG_ERROR("journal: cannot clear a failed write in " << file.string());
      return;
    }
    auto end = size_ + length;
    if (end > file_bytes_ && ::ftruncate(fd_, file_bytes_) != 0)
      LOG_ERROR("journal: cannot cut back " << file.string());
    auto within = std::min(end, file_bytes_) - size_;
    if (within > 0 && !write_zeros(fd_, size_, within)) {
      LOG_ERROR("journal: cannot clear a failed write in " << file.string());
      return;
    }
    // The failed records may be on the disk already (a sync that failed
    // after the write): the zeros over them must be too.
    if (::fdatasync(fd_) != 0)
      LOG_ERROR("journal: cannot sync the clearing of a failed write in "
                << file.string());
  }

  /// Made on first use: a journal that is only read never starts it.
  segment_spare& spare() {
    if (!spare_)
      spare_ = std::make_unique<segment_spare>(dir_ / "segment.spare",
                                               segment_bytes_);
    return *spare_;
  }

  fs::path dir_;
  off_t segment_bytes_;
  std::map<uint64_t, fs::path> segments_;
  uint64_t last_seq_ = 0;
  /// Where the newest segment's records end, as recovery found it.
  off_t data_end_ = 0;
  int fd_ = -1;
  /// Where the records of the segment being written end.
  off_t size_ = 0;
  /// The length of the segment being written: its made length, or its end
  /// for an empty file begun without a spare.
  off_t file_bytes_ = 0;
  std::string buffer_;
  /// Writes the made segment being written, where direct writes work.
  std::unique_ptr<direct_writer> direct_;
  /// Set once the file system refused direct writes: not tried again.
  bool direct_refused_ = false;
  std::unique_ptr<segment_spare> spare_;
};

} // namespace

caf::expected<std::unique_ptr<journal_backend>>
open_file_journal(const std::string& dir, int64_t segment_bytes) {
  auto result =
      std::make_unique<file_journal>(dir, static_cast<off_t>(segment_bytes));
  if (auto err = result->open())
    return err;
  return std::unique_ptr<journal_backend>{std::move(result)};
}

} // namespace argus::storage
