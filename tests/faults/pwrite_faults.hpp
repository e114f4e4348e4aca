#pragma once
// Write failures on demand, for the tests of what the journal does when
// the disk fails it. This test program is linked with `--wrap=pwrite`, so
// every `pwrite` the storage code makes comes here first; an armed fault
// fails the next one into a journal segment, and all others go through.

#include <cstddef>

namespace pwrite_faults {

enum class fault {
  /// Write nothing and fail, as a file system refusing the write does.
  refuse,
  /// Write the bytes, then fail, as a write whose sync reported an error
  /// may have left them in the file.
  write_then_fail,
};

/// Fails the next `pwrite` into a journal segment (a `.log` file) with
/// `error`; with `direct_only`, only one made through `O_DIRECT`.
void arm(fault what, int error, bool direct_only);

/// How many armed faults have struck.
size_t struck();

} // namespace pwrite_faults
