#pragma once
// Write failures on demand, for the tests of what the journal does when
// the disk fails it. This test program is linked with `--wrap=pwrite` and
// `--wrap=fdatasync`, so every `pwrite` and `fdatasync` the storage code
// makes comes here first; an armed fault fails the next one into a
// journal segment, and all others go through.

#include <cstddef>

namespace pwrite_faults {

enum class fault {
  /// `pwrite` writes nothing and fails, as a file system refusing the
  /// write does.
  refuse,
  /// `pwrite` writes the bytes, then fails, as a write whose error came
  /// after its data reached the file may have.
  write_then_fail,
  /// `fdatasync` fails after a good write: the bytes are in the file,
  /// perhaps on the disk.
  sync_fails,
};

/// Fails the next `pwrite` (or `fdatasync`, for `sync_fails`) on a journal
/// segment (a `.log` file) with `error`; with `direct_only`, only a write
/// made through `O_DIRECT`. Disarmed when it strikes or the `armed` object
/// goes.
class armed {
public:
  armed(fault what, int error, bool direct_only);
  ~armed();
  armed(const armed&) = delete;
  armed& operator=(const armed&) = delete;

  /// Whether the fault has struck.
  bool struck() const;
};

} // namespace pwrite_faults
