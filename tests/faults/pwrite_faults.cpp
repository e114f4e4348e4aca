#include "pwrite_faults.hpp"

#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <unistd.h>

// The names `ld --wrap=NAME` gives the real functions and their stand-ins.
// NOLINTBEGIN(bugprone-reserved-identifier)
extern "C" ssize_t __real_pwrite(int fd, const void* buf, size_t n, off_t at);
extern "C" ssize_t __wrap_pwrite(int fd, const void* buf, size_t n, off_t at);
extern "C" int __real_fdatasync(int fd);
extern "C" int __wrap_fdatasync(int fd);
// NOLINTEND(bugprone-reserved-identifier)

namespace pwrite_faults {

namespace {

struct pending {
  fault what;
  int error;
  bool direct_only;
};

// The journal's segment spare writes and syncs from a thread of its own.
std::mutex mtx;
std::optional<pending> next_fault;
bool has_struck = false;

bool is_segment(int fd) {
  std::error_code ec;
  auto target =
      std::filesystem::read_symlink("/proc/self/fd/" + std::to_string(fd), ec);
  return !ec && target.extension() == ".log";
}

bool is_direct(int fd) {
  return (::fcntl(fd, F_GETFL) & O_DIRECT) != 0;
}

/// The armed fault, disarmed, when it applies to this call on `fd` (a
/// sync or a write).
std::optional<pending> strike(int fd, bool sync_call) {
  std::lock_guard<std::mutex> guard{mtx};
  if (!next_fault || (next_fault->what == fault::sync_fails) != sync_call ||
      !is_segment(fd) || (next_fault->direct_only && !is_direct(fd)))
    return std::nullopt;
  auto out = next_fault;
  next_fault.reset();
  has_struck = true;
  return out;
}

} // namespace

armed::armed(fault what, int error, bool direct_only) {
  std::lock_guard<std::mutex> guard{mtx};
  next_fault = pending{what, error, direct_only};
  has_struck = false;
}

armed::~armed() {
  std::lock_guard<std::mutex> guard{mtx};
  next_fault.reset();
}

bool armed::struck() const {
  std::lock_guard<std::mutex> guard{mtx};
  return has_struck;
}

} // namespace pwrite_faults

extern "C" ssize_t __wrap_pwrite(int fd, const void* buf, size_t n, off_t at) {
  auto fault = pwrite_faults::strike(fd, false);
  if (!fault)
    return __real_pwrite(fd, buf, n, at);
  if (fault->what == pwrite_faults::fault::write_then_fail)
    (void)__real_pwrite(fd, buf, n, at);
  errno = fault->error;
  return -1;
}

extern "C" int __wrap_fdatasync(int fd) {
  auto fault = pwrite_faults::strike(fd, true);
  if (!fault)
    return __real_fdatasync(fd);
  errno = fault->error;
  return -1;
}
