#include "pwrite_faults.hpp"

#include <atomic>
#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <unistd.h>

// The names `ld --wrap=pwrite` gives the real function and its stand-in.
// NOLINTNEXTLINE(bugprone-reserved-identifier)
extern "C" ssize_t __real_pwrite(int fd, const void* buf, size_t n, off_t at);
// NOLINTNEXTLINE(bugprone-reserved-identifier)
extern "C" ssize_t __wrap_pwrite(int fd, const void* buf, size_t n, off_t at);

namespace pwrite_faults {

namespace {

struct armed_fault {
  fault what;
  int error;
  bool direct_only;
};

// The journal's segment spare writes from a thread of its own.
std::mutex mtx;
std::optional<armed_fault> armed;
std::atomic<size_t> strikes{0};

bool is_segment(int fd) {
  std::error_code ec;
  auto target =
      std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
  return !ec && target.extension() == ".log";
}

bool is_direct(int fd) {
  return (::fcntl(fd, F_GETFL) & O_DIRECT) != 0;
}

/// The fault for this write, disarmed, if one is armed and it applies.
std::optional<armed_fault> take(int fd) {
  std::lock_guard<std::mutex> guard{mtx};
  if (!armed || !is_segment(fd) || (armed->direct_only && !is_direct(fd)))
    return std::nullopt;
  auto out = armed;
  armed.reset();
  return out;
}

} // namespace

void arm(fault what, int error, bool direct_only) {
  std::lock_guard<std::mutex> guard{mtx};
  armed = armed_fault{what, error, direct_only};
}

size_t struck() {
  return strikes.load();
}

} // namespace pwrite_faults

extern "C" ssize_t __wrap_pwrite(int fd, const void* buf, size_t n, off_t at) {
  using namespace pwrite_faults;
  auto strike = take(fd);
  if (!strike)
    return __real_pwrite(fd, buf, n, at);
  if (strike->what == fault::write_then_fail)
    (void)__real_pwrite(fd, buf, n, at);
  strikes.fetch_add(1);
  errno = strike->error;
  return -1;
}
