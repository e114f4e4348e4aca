#pragma once
// What the file journal's tests share: a folder of their own, events to
// journal, and reading the journal back.

#include "domain/event.hpp"
#include "storage/journal.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace journal_fixture {

namespace fs = std::filesystem;

struct temp_folder {
  fs::path path;
  temp_folder() {
    std::random_device rd;
    path = fs::temp_directory_path() /
           ("argus-journal-test-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~temp_folder() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

inline argus::domain::event make_event(uint64_t seq, const std::string& dedup) {
  argus::domain::event e;
  e.seq = seq;
  e.event_manager_id = "m1";
  e.dedup_key = dedup;
  e.summary = "summary of " + dedup;
  e.class_name = "db";
  e.details = R"({"host":"a"})";
  e.has_grouping_value = true;
  e.grouping_value = "db";
  e.window = std::chrono::minutes{5};
  e.received_at = argus::domain::from_millis(1'000 + static_cast<int64_t>(seq));
  return e;
}

inline std::vector<argus::domain::event>
replay_all(argus::storage::journal_backend& b, uint64_t after = 0) {
  std::vector<argus::domain::event> out;
  REQUIRE_FALSE(
      b.replay(after, [&](argus::domain::event& e) { out.push_back(e); }));
  return out;
}

/// The journal's segment files in `dir`, oldest first (not its spare).
inline std::vector<fs::path> segment_files(const fs::path& dir) {
  std::vector<fs::path> out;
  for (auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".log")
      out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

/// The first sequence number of a segment, from its name.
inline uint64_t first_seq_of(const fs::path& segment) {
  auto name = segment.filename().string();
  return std::stoull(name.substr(8, name.size() - 12));
}

} // namespace journal_fixture
