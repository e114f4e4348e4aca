// The journal's direct writer: whole blocks written through O_DIRECT, the
// bytes before the end kept, so that the file reads as the bytes appended
// followed by the zeros it held.

#include "journal_fixture.hpp"
#include "storage/direct_writer.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>

namespace {

namespace fs = std::filesystem;
using argus::storage::direct_writer;
using journal_fixture::temp_folder;

constexpr size_t file_bytes = size_t{64} * 1024;

fs::path zero_file(const fs::path& dir) {
  auto file = dir / "segment";
  std::ofstream{file, std::ios::binary} << std::string(file_bytes, '\0');
  return file;
}

std::string read_all(const fs::path& file) {
  std::ifstream in{file, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, {}};
}

/// The bytes a file of zeros holds after `written` was appended at its
/// start.
std::string expected(const std::string& written) {
  return written + std::string(file_bytes - written.size(), '\0');
}

/// `n` bytes that differ from their neighbours, so that a misplaced block
/// shows.
std::string bytes_of(size_t n, char first) {
  std::string out(n, '\0');
  for (size_t i = 0; i < n; ++i)
    out[i] = static_cast<char>('a' + (first - 'a' + i) % 26);
  return out;
}

/// A file of zeros in a folder of its own, and a direct writer at its
/// start: null where the file system takes no direct writes (tmpfs before
/// Linux 6.6, some FUSE file systems); the journal writes through the page
/// cache there, and the journal tests cover that path.
struct zero_segment {
  temp_folder dir;
  fs::path file = zero_file(dir.path);
  std::unique_ptr<direct_writer> writer = direct_writer::open(file, 0);

  /// Whether there is a writer to test, warning where there is none.
  bool writable() const {
    if (!writer)
      WARN("no direct writes in " << dir.path << ": " << std::strerror(errno));
    return writer != nullptr;
  }
};

} // namespace

TEST_CASE("the direct writer appends across block boundaries and reopens "
          "inside a block",
          "[unit]") {
  zero_segment segment;
  if (!segment.writable())
    return;
  auto& [dir, file, writer] = segment;
  std::string written;
  // Within a block, exactly to its end, across one boundary, across
  // several, and a single byte.
  for (size_t n : {100, 3996, 5000, 9000, 1}) {
    auto bytes = bytes_of(n, static_cast<char>('a' + n % 26));
    REQUIRE(writer->append(bytes));
    written += bytes;
    CHECK(writer->end() == static_cast<off_t>(written.size()));
    CHECK(read_all(file) == expected(written));
  }
  writer.reset();

  // Reopened where the records end, mid-block: the bytes before the end
  // in that block stay.
  auto reopened = direct_writer::open(file, static_cast<off_t>(written.size()));
  REQUIRE(reopened);
  REQUIRE(reopened->append("tail"));
  written += "tail";
  CHECK(read_all(file) == expected(written));
}

TEST_CASE("the direct writer's clear zeros past the end and keeps the end",
          "[unit]") {
  zero_segment segment;
  if (!segment.writable())
    return;
  auto& [dir, file, writer] = segment;
  auto kept = bytes_of(700, 'k');
  REQUIRE(writer->append(kept));
  // What a failed append may have left behind the end.
  {
    std::fstream f{file, std::ios::in | std::ios::out | std::ios::binary};
    f.seekp(700);
    f << bytes_of(5000, 'x');
  }
  REQUIRE(writer->clear(5000));
  CHECK(writer->end() == 700);
  CHECK(read_all(file) == expected(kept));
  REQUIRE(writer->append("next"));
  CHECK(read_all(file) == expected(kept + "next"));
}
