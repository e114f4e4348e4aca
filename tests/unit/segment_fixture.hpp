#pragma once
// What the tests of the file journal's segments share: small segments, a
// journal filled to a number of them, and whether a segment is written
// directly.

#include "journal_fixture.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <fstream>
#include <memory>
#include <unistd.h>

namespace journal_fixture {

using argus::domain::event;
using argus::storage::journal_backend;

/// Small segments, so that tests fill several quickly.
inline constexpr int64_t segment_bytes = int64_t{64} * 1024;
/// A segment length that is not whole blocks: its segments are written
/// through the page cache (a direct write rounded up would grow them).
inline constexpr uint64_t unaligned_segment_bytes = segment_bytes + 512;

inline std::unique_ptr<journal_backend>
open_journal(const fs::path& dir, uint64_t length = segment_bytes) {
  auto j = argus::storage::open_file_journal(dir.string(),
                                             static_cast<int64_t>(length));
  REQUIRE(j);
  return std::move(*j);
}

/// Whether this process holds `file` open for direct, synchronous writes
/// (O_DIRECT and O_DSYNC: with no fdatasync after them, the O_DSYNC is
/// what makes them durable), from its descriptors' flags in
/// /proc/self/fdinfo.
inline bool held_direct(const fs::path& file) {
  for (auto& fd : fs::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (fs::read_symlink(fd.path(), ec) != file)
      continue;
    std::ifstream info{"/proc/self/fdinfo/" + fd.path().filename().string()};
    std::string key;
    std::string flags;
    while (info >> key >> flags) {
      if (key != "flags:")
        continue;
      auto bits = std::stoul(flags, nullptr, 8);
      if ((bits & O_DIRECT) != 0 && (bits & O_DSYNC) == O_DSYNC)
        return true;
    }
  }
  return false;
}

/// Whether the file system under `dir` takes direct writes.
inline bool takes_direct(const fs::path& dir) {
  auto probe = dir / "probe";
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_DIRECT, 0644);
  if (fd >= 0)
    ::close(fd);
  fs::remove(probe);
  return fd >= 0;
}

/// Whether made segments of `length` bytes in `dir` are written directly:
/// whole blocks long, on a file system that takes direct writes.
inline bool writes_direct(const fs::path& dir, uint64_t length) {
  return length % 4096 == 0 && takes_direct(dir);
}

/// An event whose record takes about 2 KiB.
inline event big_event(uint64_t seq) {
  auto e = make_event(seq, "k" + std::to_string(seq));
  e.details = R"({"pad":")" + std::string(2000, 'x') + R"("})";
  return e;
}

/// Appends single events until the journal holds `count` segments; the
/// next sequence number to use is in `seq`.
inline void fill_segments(journal_backend& j, const fs::path& dir, size_t count,
                          uint64_t& seq) {
  for (int i = 0; i < 200 && segment_files(dir).size() < count; ++i) {
    REQUIRE_FALSE(j.append({big_event(seq)}));
    ++seq;
  }
  REQUIRE(segment_files(dir).size() == count);
}

/// A journal in `dir` with segments of `length` bytes, filled until it
/// writes its second segment, the first made one; events from `seq` on,
/// and `seq` is the next to use.
inline std::unique_ptr<journal_backend>
open_in_made_segment(const fs::path& dir, uint64_t length, uint64_t& seq) {
  auto j = open_journal(dir, length);
  fill_segments(*j, dir, 2, seq);
  return j;
}

} // namespace journal_fixture
