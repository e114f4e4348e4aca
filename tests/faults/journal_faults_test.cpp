// The file journal when the disk fails a write: a file system that refuses
// direct writes in the middle of a segment, and a write or sync that fails
// after the bytes reached the file. Neither may lose an acknowledged record
// or let recovery replay one the caller was told failed.

#include "pwrite_faults.hpp"
#include "unit/segment_fixture.hpp"

#include <catch2/catch.hpp>

#include <cerrno>

namespace {

using namespace journal_fixture;
using pwrite_faults::armed;
using pwrite_faults::fault;

/// Checks that `all` holds the events 1 to `last`, in order.
void check_consecutive(const std::vector<event>& all, uint64_t last) {
  REQUIRE(all.size() == last);
  for (size_t i = 0; i < all.size(); ++i)
    CHECK(all[i].seq == i + 1);
}

/// A failure after the bytes reached the file, in a journal whose made
/// segments are `length` bytes long.
struct late_failure {
  uint64_t length;
  fault what;
  const char* name;
};

} // namespace

TEST_CASE("a direct write refused mid-segment goes through the page cache "
          "from then on, and nothing is lost",
          "[unit]") {
  temp_folder dir;
  if (!takes_direct(dir.path)) {
    WARN("no direct writes in " << dir.path << ": nothing to refuse");
    return;
  }
  uint64_t seq = 1;
  {
    auto j = open_in_made_segment(dir.path, segment_bytes, seq);
    auto segment = segment_files(dir.path).back();
    REQUIRE(held_direct(segment));

    armed refusal{fault::refuse, EINVAL, true};
    REQUIRE_FALSE(j->append({big_event(seq++)}));
    CHECK(refusal.struck());
    CHECK_FALSE(held_direct(segment));
    REQUIRE_FALSE(j->append({big_event(seq++)}));
    // Refused for good: the next made segment is not tried either.
    fill_segments(*j, dir.path, 3, seq);
    CHECK_FALSE(held_direct(segment_files(dir.path).back()));
  }
  auto j = open_journal(dir.path);
  CHECK(*j->last_seq() == seq - 1);
  check_consecutive(replay_all(*j), seq - 1);
}

TEST_CASE("a write that fails after reaching the file is taken back: "
          "recovery never replays it, and the retry takes its place",
          "[unit]") {
  temp_folder dir;
  // Whole blocks: written directly where the file system allows it (no
  // fdatasync to fail then); 512 bytes more: through the page cache.
  auto failure = GENERATE(values<late_failure>(
      {{segment_bytes, fault::write_then_fail, "a failed direct write"},
       {unaligned_segment_bytes, fault::write_then_fail, "a failed write"},
       {unaligned_segment_bytes, fault::sync_fails, "a failed fdatasync"}}));
  INFO(failure.name << ", written directly: "
                    << writes_direct(dir.path, failure.length));
  uint64_t seq = 1;
  auto j = open_in_made_segment(dir.path, failure.length, seq);
  auto segment = segment_files(dir.path).back();
  bool direct = held_direct(segment);
  {
    armed late{failure.what, EIO, false};
    // Two whole records in the file that the caller is told were not
    // stored: left there, a restart would replay them as accepted.
    REQUIRE(j->append({big_event(seq), big_event(seq + 1)}));
    CHECK(late.struck());
  }
  // Only EINVAL turns direct writes off.
  CHECK(held_direct(segment) == direct);

  SECTION("a restart replays none of it") {
    j = open_journal(dir.path, failure.length);
    CHECK(*j->last_seq() == seq - 1);
    check_consecutive(replay_all(*j), seq - 1);
  }
  SECTION("the same journal writes the retry where it failed") {}
  // Either way (Catch runs the test once per section), the caller's
  // retry, shorter than what failed, under the same number.
  REQUIRE_FALSE(j->append({make_event(seq, "retried")}));
  REQUIRE_FALSE(j->append({big_event(seq + 1)}));
  seq += 2;
  j = open_journal(dir.path, failure.length);
  CHECK(*j->last_seq() == seq - 1);
  auto all = replay_all(*j);
  check_consecutive(all, seq - 1);
  CHECK(all[seq - 3].dedup_key == "retried");
}
