#include "storage/segment_spare.hpp"
#include "domain/error.hpp"
#include "storage/file_io.hpp"

#include <algorithm>
#include <cstdio>
#include <fcntl.h>
#include <unistd.h>

namespace argus::storage {

segment_spare::segment_spare(std::filesystem::path file, off_t bytes)
    : file_(std::move(file)), bytes_(bytes) {
  // A spare left by an earlier run may be half made.
  std::error_code ignored;
  std::filesystem::remove(file_, ignored);
  worker_ = std::thread{[this] { run(); }};
}

segment_spare::~segment_spare() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    stopping_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

void segment_spare::request() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (state_ != state::idle)
    return;
  state_ = state::making;
  changed_.notify_all();
}

bool segment_spare::ready() {
  std::lock_guard<std::mutex> guard{mtx_};
  return state_ == state::ready;
}

caf::error segment_spare::take(const std::filesystem::path& to) {
  std::unique_lock<std::mutex> lock{mtx_};
  if (state_ == state::idle) {
    state_ = state::making;
    changed_.notify_all();
  }
  changed_.wait(lock, [this] { return state_ != state::making; });
  auto outcome = state_;
  state_ = state::idle;
  if (outcome == state::failed)
    return std::move(failure_);
  if (std::rename(file_.c_str(), to.c_str()) != 0)
    return io_error("rename the spare segment to", to);
  return {};
}

bool segment_spare::stopping() {
  std::lock_guard<std::mutex> guard{mtx_};
  return stopping_;
}

void segment_spare::run() {
  std::unique_lock<std::mutex> lock{mtx_};
  for (;;) {
    changed_.wait(lock,
                  [this] { return stopping_ || state_ == state::making; });
    if (stopping_)
      return;
    lock.unlock();
    auto err = make_file();
    lock.lock();
    failure_ = std::move(err);
    state_ = failure_ ? state::failed : state::ready;
    changed_.notify_all();
  }
}

caf::error segment_spare::make_file() {
  int fd =
      ::open(file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    return io_error("create", file_);
  // Written zeros, not fallocate: ext4 keeps fallocated blocks as
  // "unwritten" and the first write into each still commits metadata.
  // A MiB at a time, so that a node shutting down does not wait for it.
  constexpr off_t step = 1 << 20;
  bool ok = true;
  for (off_t at = 0; ok && at < bytes_ && !stopping(); at += step)
    ok = write_zeros(fd, at, std::min(step, bytes_ - at));
  auto stopped = stopping();
  ok = ok && !stopped && ::fdatasync(fd) == 0;
  auto err = ok        ? caf::error{}
             : stopped ? make_error(ec::unavailable, "journal: stopping")
                       : io_error("write", file_);
  ::close(fd);
  return err;
}

} // namespace argus::storage
