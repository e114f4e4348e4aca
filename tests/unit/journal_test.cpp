// The ingest journal: the file backend's records, torn tails, damage and
// trimming, and the group-commit front's numbering, order and failures.

#include "actors/journal.hpp"
#include "domain/error.hpp"
#include "journal_fixture.hpp"
#include "storage/event_codec.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

namespace {

namespace fs = std::filesystem;
using argus::actors::journal;
using argus::domain::event;
using argus::storage::journal_backend;
using argus::storage::open_file_journal;
using journal_fixture::first_seq_of;
using journal_fixture::make_event;
using journal_fixture::replay_all;
using journal_fixture::segment_files;
using journal_fixture::temp_folder;

fs::path only_segment(const fs::path& dir) {
  auto segments = segment_files(dir);
  REQUIRE(segments.size() == 1);
  return segments.front();
}

} // namespace

TEST_CASE("the event codec round-trips every field", "[unit]") {
  auto e = make_event(42, "k");
  e.act = argus::domain::action::resolve;
  e.sev = argus::domain::severity::medium;
  std::string bytes;
  argus::storage::encode(e, bytes);
  event back;
  REQUIRE(argus::storage::decode(bytes, back));
  CHECK(back.seq == 42);
  CHECK(back.dedup_key == "k");
  CHECK(back.event_manager_id == "m1");
  CHECK(back.summary == e.summary);
  CHECK(back.class_name == "db");
  CHECK(back.details == e.details);
  CHECK(back.has_grouping_value);
  CHECK(back.grouping_value == "db");
  CHECK(back.window == e.window);
  CHECK(back.received_at == e.received_at);
  CHECK(back.act == argus::domain::action::resolve);
  CHECK(back.sev == argus::domain::severity::medium);
  // Truncated or padded bytes are not an event.
  CHECK_FALSE(argus::storage::decode(bytes.substr(0, bytes.size() - 1), back));
  CHECK_FALSE(argus::storage::decode(bytes + "x", back));
}

TEST_CASE("the event codec keeps an event's end, actor and ack timeout, and "
          "reads records written before them",
          "[unit]") {
  auto e = make_event(7, "k");
  e.act = argus::domain::action::acknowledge;
  e.expires_at = argus::domain::from_millis(1'700'000'000'000);
  e.actor = "ana";
  e.ack_timeout = std::chrono::minutes{30};
  std::string bytes;
  argus::storage::encode(e, bytes);
  event back;
  REQUIRE(argus::storage::decode(bytes, back));
  CHECK(back.act == argus::domain::action::acknowledge);
  CHECK(back.expires_at == e.expires_at);
  CHECK(back.actor == "ana");
  CHECK(back.ack_timeout == e.ack_timeout);
  // Version 2 (expires_at, no actor or ack timeout) is this record without
  // its last two fields (and version 4's auto-resolve limit after them).
  e.actor.clear();
  bytes.clear();
  argus::storage::encode(e, bytes);
  auto v2 =
      bytes.substr(0, bytes.size() - sizeof(uint32_t) - 2 * sizeof(int64_t));
  v2[0] = 2;
  event old;
  REQUIRE(argus::storage::decode(v2, old));
  CHECK(old.dedup_key == "k");
  CHECK(old.expires_at == e.expires_at);
  CHECK(old.actor.empty());
  CHECK(old.ack_timeout == argus::domain::duration{0});
  // A version from the future is not read.
  bytes[0] = 5;
  CHECK_FALSE(argus::storage::decode(bytes, back));
}

TEST_CASE("the event codec keeps the auto-resolve limit, and reads records "
          "of format 3 without it",
          "[unit][auto_resolve]") {
  auto e = make_event(9, "k");
  e.ack_timeout = std::chrono::minutes{30};
  e.auto_resolve_after = std::chrono::seconds{90};
  std::string bytes;
  argus::storage::encode(e, bytes);
  CHECK(bytes[0] == 4);
  event back;
  REQUIRE(argus::storage::decode(bytes, back));
  CHECK(back.auto_resolve_after == e.auto_resolve_after);
  CHECK(back.ack_timeout == e.ack_timeout);
  // Version 3 is this record without its last field.
  auto v3 = bytes.substr(0, bytes.size() - sizeof(int64_t));
  v3[0] = 3;
  event old;
  REQUIRE(argus::storage::decode(v3, old));
  CHECK(old.ack_timeout == e.ack_timeout);
  CHECK(old.auto_resolve_after == argus::domain::duration{0});
  // A version 4 record cut short is not an event.
  v3[0] = 4;
  CHECK_FALSE(argus::storage::decode(v3, old));
}

TEST_CASE("the file journal keeps appended events across reopening", "[unit]") {
  temp_folder dir;
  {
    auto j = open_file_journal(dir.path.string());
    REQUIRE(j);
    CHECK(*(*j)->last_seq() == 0);
    REQUIRE_FALSE((*j)->append({make_event(1, "a"), make_event(2, "b")}));
    REQUIRE_FALSE((*j)->append({make_event(3, "c")}));
    CHECK(*(*j)->last_seq() == 3);
  }
  auto j = open_file_journal(dir.path.string());
  REQUIRE(j);
  CHECK(*(*j)->last_seq() == 3);
  auto all = replay_all(**j);
  REQUIRE(all.size() == 3);
  CHECK(all[0].dedup_key == "a");
  CHECK(all[2].seq == 3);
  auto after = replay_all(**j, 2);
  REQUIRE(after.size() == 1);
  CHECK(after[0].dedup_key == "c");
  // Appending after a reopen continues the same segment.
  REQUIRE_FALSE((*j)->append({make_event(4, "d")}));
  CHECK(replay_all(**j).size() == 4);
}

TEST_CASE("a torn last record is discarded and everything before it kept",
          "[unit]") {
  temp_folder dir;
  {
    auto j = open_file_journal(dir.path.string());
    REQUIRE(j);
    REQUIRE_FALSE((*j)->append({make_event(1, "a"), make_event(2, "b")}));
  }
  auto segment = only_segment(dir.path);
  auto full = fs::file_size(segment);
  SECTION("cut inside the last record") {
    fs::resize_file(segment, full - 3);
  }
  SECTION("cut inside the last header") {
    // Record 2 starts right after record 1; keep 5 bytes of its header.
    auto j = open_file_journal(dir.path.string());
    REQUIRE(j);
    std::string bytes;
    argus::storage::encode(make_event(1, "a"), bytes);
    fs::resize_file(segment, 8 + bytes.size() + 5);
  }
  auto j = open_file_journal(dir.path.string());
  REQUIRE(j);
  CHECK(*(*j)->last_seq() == 1);
  auto all = replay_all(**j);
  REQUIRE(all.size() == 1);
  CHECK(all[0].dedup_key == "a");
  // The file was cut back, so new records follow the good ones.
  REQUIRE_FALSE((*j)->append({make_event(2, "b2")}));
  CHECK(replay_all(**j).back().dedup_key == "b2");
}

TEST_CASE("damage before the tail refuses to open, naming the file", "[unit]") {
  temp_folder dir;
  {
    auto j = open_file_journal(dir.path.string());
    REQUIRE(j);
    REQUIRE_FALSE((*j)->append(
        {make_event(1, "a"), make_event(2, "b"), make_event(3, "c")}));
  }
  auto segment = only_segment(dir.path);
  {
    // Flip a byte inside the first record's payload.
    std::fstream f{segment, std::ios::in | std::ios::out | std::ios::binary};
    f.seekp(12);
    f.put('\x7f');
  }
  auto j = open_file_journal(dir.path.string());
  REQUIRE_FALSE(j);
  CHECK(argus::message_of(j.error()).find(segment.string()) !=
        std::string::npos);
}

TEST_CASE("a journal folder that cannot be created is an error", "[unit]") {
  temp_folder dir;
  auto file = dir.path / "plain-file";
  std::ofstream{file} << "x";
  auto j = open_file_journal((file / "journal").string());
  REQUIRE_FALSE(j);
  CHECK(argus::message_of(j.error()).find("journal") != std::string::npos);
}

TEST_CASE("trimming drops whole segments that are applied", "[unit]") {
  temp_folder dir;
  auto j = open_file_journal(dir.path.string());
  REQUIRE(j);
  // Large events fill segments (16 MiB each) quickly.
  std::string big(512 * 1024, 'x');
  uint64_t seq = 0;
  for (int i = 0; i < 70; ++i) {
    ++seq;
    auto e = make_event(seq, "k" + std::to_string(seq));
    e.details = big;
    REQUIRE_FALSE((*j)->append({e}));
  }
  auto segments = [&] { return segment_files(dir.path).size(); };
  REQUIRE(segments() >= 2);
  auto before = segments();
  // Through the second-to-last record of the first segment: it is kept.
  auto second_starts = first_seq_of(segment_files(dir.path)[1]);
  REQUIRE(second_starts >= 2);
  REQUIRE_FALSE((*j)->trim_through(second_starts - 2));
  CHECK(segments() == before);
  REQUIRE_FALSE((*j)->trim_through(seq));
  CHECK(segments() == 1); // the segment being written always stays
  auto rest = replay_all(**j, 0);
  REQUIRE_FALSE(rest.empty());
  CHECK(rest.back().seq == seq);
}

namespace {

/// A backend in memory that can be told to fail.
struct fake_backend : journal_backend {
  std::mutex mtx;
  std::vector<event> stored;
  std::atomic<bool> fail{false};
  std::atomic<int> appends{0};

  caf::expected<uint64_t> last_seq() override {
    std::lock_guard<std::mutex> guard{mtx};
    return stored.empty() ? 0 : stored.back().seq;
  }
  caf::error append(const std::vector<event>& events) override {
    ++appends;
    if (fail)
      return argus::make_error(argus::ec::unavailable, "disk full");
    std::lock_guard<std::mutex> guard{mtx};
    stored.insert(stored.end(), events.begin(), events.end());
    return {};
  }
  caf::error replay(uint64_t, const std::function<void(event&)>&) override {
    return {};
  }
  caf::error trim_through(uint64_t) override { return {}; }
};

} // namespace

TEST_CASE("group commit numbers events in delivery order and shares appends",
          "[unit]") {
  auto backend = std::make_unique<fake_backend>();
  auto* raw = backend.get();
  std::mutex delivered_mtx;
  std::vector<uint64_t> delivered;
  journal j{std::move(backend), 7, [&](std::vector<event>& events) {
              std::lock_guard<std::mutex> guard{delivered_mtx};
              for (auto& e : events)
                delivered.push_back(e.seq);
            }};
  constexpr int threads = 8;
  constexpr int per_thread = 200;
  // Catch2's assertions are not thread-safe: the callers count failures.
  std::atomic<int> failed{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t)
    callers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i)
        if (j.append(
                {make_event(0, std::to_string(t) + "-" + std::to_string(i))}))
          ++failed;
    });
  for (auto& c : callers)
    c.join();
  CHECK(failed == 0);
  REQUIRE(delivered.size() == threads * per_thread);
  // After the applied mark, consecutive, and delivered in that order.
  for (size_t i = 0; i < delivered.size(); ++i)
    CHECK(delivered[i] == 8 + i);
  CHECK(raw->stored.size() == delivered.size());
  // Concurrent callers shared fsyncs.
  CHECK(raw->appends < threads * per_thread);
  // Every stored event carries its acceptance time, never decreasing.
  for (size_t i = 1; i < raw->stored.size(); ++i)
    CHECK(raw->stored[i].received_at >= raw->stored[i - 1].received_at);
}

TEST_CASE("a failed append accepts nothing and burns no sequence numbers",
          "[unit]") {
  auto backend = std::make_unique<fake_backend>();
  auto* raw = backend.get();
  std::vector<uint64_t> delivered;
  journal j{std::move(backend), 0, [&](std::vector<event>& events) {
              for (auto& e : events)
                delivered.push_back(e.seq);
            }};
  raw->fail = true;
  auto err = j.append({make_event(0, "a")});
  REQUIRE(err);
  CHECK(argus::code_of(err) == argus::ec::unavailable);
  CHECK(delivered.empty());
  raw->fail = false;
  REQUIRE_FALSE(j.append({make_event(0, "b")}));
  REQUIRE(delivered.size() == 1);
  CHECK(delivered[0] == 1);
}

namespace {

/// A backend whose appends wait at a gate the test opens, one at a time.
struct gated_backend : fake_backend {
  std::mutex gate_mtx;
  std::condition_variable gate_cv;
  int entered = 0;
  int opened = 0;

  caf::error append(const std::vector<event>& events) override {
    std::unique_lock<std::mutex> lock{gate_mtx};
    auto mine = ++entered;
    gate_cv.notify_all();
    gate_cv.wait(lock, [&] { return opened >= mine; });
    lock.unlock();
    return fake_backend::append(events);
  }
  void wait_entered(int n) {
    std::unique_lock<std::mutex> lock{gate_mtx};
    gate_cv.wait(lock, [&] { return entered >= n; });
  }
  void open_one() {
    std::lock_guard<std::mutex> guard{gate_mtx};
    ++opened;
    gate_cv.notify_all();
  }
};

} // namespace

TEST_CASE("a caller that queues during a commit waits for the next one",
          "[unit]") {
  auto backend = std::make_unique<gated_backend>();
  auto* raw = backend.get();
  std::vector<uint64_t> delivered;
  journal j{std::move(backend), 0, [&](std::vector<event>& events) {
              for (auto& e : events)
                delivered.push_back(e.seq);
            }};
  std::atomic<bool> first_done{false};
  std::atomic<bool> second_done{false};
  std::thread first{[&] {
    REQUIRE_FALSE(j.append({make_event(0, "first")}));
    first_done = true;
  }};
  raw->wait_entered(1); // the first commit is under way
  std::thread second{[&] {
    REQUIRE_FALSE(j.append({make_event(0, "second")}));
    second_done = true;
  }};
  raw->open_one(); // the first commit ends; the second caller is not in it
  first.join();
  CHECK(first_done);
  CHECK_FALSE(second_done);
  raw->wait_entered(2);
  CHECK_FALSE(second_done);
  raw->open_one();
  second.join();
  CHECK(second_done);
  CHECK(raw->appends == 2);
  CHECK(delivered == std::vector<uint64_t>{1, 2});
}
