// The file journal's made segments: files of zeros at their full length,
// prepared in the background, and what recovery does with a crash's
// leftovers in them.

#include "domain/error.hpp"
#include "segment_fixture.hpp"
#include "storage/event_codec.hpp"

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <fstream>
#include <unistd.h>

namespace {

namespace fs = std::filesystem;
using argus::domain::event;
using argus::storage::journal_backend;
using journal_fixture::big_event;
using journal_fixture::fill_segments;
using journal_fixture::first_seq_of;
using journal_fixture::held_direct;
using journal_fixture::make_event;
using journal_fixture::open_in_made_segment;
using journal_fixture::open_journal;
using journal_fixture::replay_all;
using journal_fixture::segment_bytes;
using journal_fixture::segment_files;
using journal_fixture::temp_folder;
using journal_fixture::unaligned_segment_bytes;
using journal_fixture::writes_direct;

size_t record_bytes(const event& e) {
  std::string bytes;
  argus::storage::encode(e, bytes);
  return 8 + bytes.size();
}

void overwrite(const fs::path& file, size_t offset, const std::string& bytes) {
  std::fstream f{file, std::ios::in | std::ios::out | std::ios::binary};
  f.seekp(static_cast<std::streamoff>(offset));
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string read_all(const fs::path& file) {
  std::ifstream in{file, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, {}};
}

/// The offset in `segment` where the record of `seq` starts, from the
/// lengths of the records before it (all made by `big_event`).
size_t offset_of(const fs::path& segment, uint64_t seq) {
  size_t offset = 0;
  for (auto s = first_seq_of(segment); s < seq; ++s)
    offset += record_bytes(big_event(s));
  return offset;
}

} // namespace

TEST_CASE("a journal moves to segments made at their full length of zeros",
          "[unit]") {
  temp_folder dir;
  // Made segments are written directly where the file system allows it
  // and their length is whole blocks; through the page cache otherwise.
  auto length =
      GENERATE(static_cast<uint64_t>(segment_bytes), unaligned_segment_bytes);
  bool direct = writes_direct(dir.path, length);
  uint64_t seq = 1;
  {
    auto j = open_in_made_segment(dir.path, length, seq);
    auto made = segment_files(dir.path).back();
    CHECK(fs::file_size(made) == length);
    CHECK(held_direct(made) == direct);
    CHECK_FALSE(held_direct(segment_files(dir.path).front()));
    // A few more go into the same made segment; its length stays.
    for (int i = 0; i < 3; ++i, ++seq)
      REQUIRE_FALSE(j->append({big_event(seq)}));
    CHECK(segment_files(dir.path).size() == 2);
    CHECK(fs::file_size(made) == length);
  }
  auto j = open_journal(dir.path, length);
  CHECK(*j->last_seq() == seq - 1);
  // Appending after a reopen continues after the last record, in order.
  REQUIRE_FALSE(j->append({big_event(seq)}));
  CHECK(held_direct(segment_files(dir.path).back()) == direct);
  auto all = replay_all(*j);
  REQUIRE(all.size() == seq);
  for (size_t i = 0; i < all.size(); ++i)
    CHECK(all[i].seq == i + 1);
  // Made segments keep being used as the journal goes on.
  fill_segments(*j, dir.path, 4, ++seq);
  CHECK(fs::file_size(segment_files(dir.path)[2]) == length);
}

TEST_CASE("a write torn in a made segment is cleared, the records before it "
          "kept",
          "[unit]") {
  temp_folder dir;
  uint64_t seq = 1;
  auto j = open_in_made_segment(dir.path, segment_bytes, seq);
  auto segment = segment_files(dir.path).back();
  // The last write: two records in one append, never acknowledged.
  auto first = seq;
  REQUIRE_FALSE(j->append({big_event(first), big_event(first + 1)}));
  j.reset();
  auto first_at = offset_of(segment, first);
  auto second_at = offset_of(segment, first + 1);
  auto sector_after = [](size_t offset) { return (offset / 512 + 1) * 512; };

  SECTION("a sector inside its second record never reached the disk") {
    overwrite(segment, sector_after(second_at), std::string(512, '\0'));
    auto reopened = open_journal(dir.path);
    CHECK(*reopened->last_seq() == first);
  }
  SECTION("its first sector never reached the disk, the rest did") {
    // The first record's header reads as the end of the records; the
    // second record, whole behind it, must not come back later.
    overwrite(segment, first_at,
              std::string(sector_after(first_at) - first_at, '\0'));
    auto reopened = open_journal(dir.path);
    CHECK(*reopened->last_seq() == first - 1);
    auto bytes = read_all(segment);
    CHECK(bytes.find_first_not_of('\0', first_at) == std::string::npos);
    // Written again with the same numbers; a later recovery finds exactly
    // these, not the old second record after them.
    REQUIRE_FALSE(reopened->append({big_event(first)}));
  }
  auto reopened = open_journal(dir.path);
  auto all = replay_all(*reopened);
  REQUIRE(all.size() == first);
  CHECK(all.back().seq == first);
  CHECK(read_all(segment).find_first_not_of(
            '\0', first_at + record_bytes(big_event(first))) ==
        std::string::npos);
}

TEST_CASE("damage inside a made segment refuses to open", "[unit]") {
  temp_folder dir;
  uint64_t seq = 1;
  {
    auto j = open_journal(dir.path);
    fill_segments(*j, dir.path, 3, seq);
  }
  auto segments = segment_files(dir.path);
  SECTION("a changed byte in a record with records after it") {
    auto last = segments.back();
    REQUIRE_FALSE(open_journal(dir.path)->append({big_event(seq)}));
    // Inside the padding of the segment's first record.
    overwrite(last, 100, "y");
    auto j =
        argus::storage::open_file_journal(dir.path.string(), segment_bytes);
    REQUIRE_FALSE(j);
    CHECK(argus::message_of(j.error()).find(last.string()) !=
          std::string::npos);
  }
  SECTION("bytes after the records of a segment before the last") {
    // Acknowledged records there would have been lost.
    auto middle = segments[1];
    overwrite(middle, segment_bytes - 100, "stray");
    auto j =
        argus::storage::open_file_journal(dir.path.string(), segment_bytes);
    REQUIRE_FALSE(j);
    CHECK(argus::message_of(j.error()).find(middle.string()) !=
          std::string::npos);
  }
}

TEST_CASE("when no segment can be made, records go into empty files",
          "[unit]") {
  temp_folder dir;
  // The spare's place is taken by a folder that cannot be removed.
  fs::create_directories(dir.path / "segment.spare" / "keep");
  uint64_t seq = 1;
  {
    auto j = open_journal(dir.path);
    fill_segments(*j, dir.path, 3, seq);
    auto segments = segment_files(dir.path);
    // Each rolled over once full (written, not made); the last is begun.
    CHECK(fs::file_size(segments[0]) >= segment_bytes);
    CHECK(fs::file_size(segments[1]) >= segment_bytes);
    CHECK(fs::file_size(segments[2]) < segment_bytes);
  }
  auto j = open_journal(dir.path);
  CHECK(*j->last_seq() == seq - 1);
  CHECK(replay_all(*j).size() == seq - 1);
}
