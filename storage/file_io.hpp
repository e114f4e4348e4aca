#pragma once

#include <caf/error.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <sys/types.h>

/// Positional writes for the file journal and its segment spare: whole
/// buffers, retried on EINTR and short writes.
namespace argus::storage {

/// Writes all of `bytes` at `offset`; false (errno set) on failure.
bool write_at(int fd, std::string_view bytes, off_t offset);

/// Writes `length` zero bytes at `offset`; false (errno set) on failure.
bool write_zeros(int fd, off_t offset, off_t length);

/// The journal's error for a failed `what` ("write", "create", ...) on
/// `file`, from errno: `ec::unavailable` for a full disk or a read-only or
/// forbidden folder (try later), `ec::internal` otherwise.
caf::error io_error(const std::string& what, const std::filesystem::path& file);

/// Syncs `dir`'s entries, so that a file created or renamed in it keeps
/// its name after a crash.
void sync_folder(const std::filesystem::path& dir);

} // namespace argus::storage
