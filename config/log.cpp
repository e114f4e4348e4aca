#include "config/log.hpp"

#include "domain/types.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>

namespace argus::log {

namespace {

std::atomic<int> min_level{static_cast<int>(level::info)};
std::mutex out_mutex;

const char* name_of(level lvl) {
  switch (lvl) {
  case level::debug:
    return "DEBUG";
  case level::info:
    return "INFO";
  case level::warning:
    return "WARN";
  default:
    return "ERROR";
  }
}

} // namespace

void set_level(const std::string& name) {
  auto lvl = level::info;
  if (name == "debug")
    lvl = level::debug;
  else if (name == "warning")
    lvl = level::warning;
  else if (name == "error")
    lvl = level::error;
  min_level = static_cast<int>(lvl);
}

bool enabled(level lvl) {
  return static_cast<int>(lvl) >= min_level;
}

void write(level lvl, const std::string& line) {
  auto now = domain::to_rfc3339(std::chrono::system_clock::now());
  std::lock_guard<std::mutex> guard{out_mutex};
  std::fprintf(stderr, "%s %-5s %s\n", now.c_str(), name_of(lvl), line.c_str());
}

} // namespace argus::log
