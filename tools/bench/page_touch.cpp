// What a first touch of fresh anonymous memory costs on this machine, per
// 4 KiB page (docs/benchmarks.md, "Issue 15: eleventh round"). A heap that
// grows pays it for every page it takes from the kernel, so it prices each
// byte Argus keeps per alert. Three ways to get the pages, each over the
// same amount of memory mapped in 1 MiB chunks (the size tcmalloc asks the
// kernel for at least):
//   touched   one write per page: one page fault each
//   populate  mmap with MAP_POPULATE: the kernel fills the chunk at once
//   advise    madvise(MADV_POPULATE_WRITE) on the mapped chunk (Linux 5.14)
// The memory is never unmapped, so every page is fresh.
//
//   build/bin/page_touch [--mib N] [--rounds R]
#include <sys/mman.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

constexpr size_t chunk_bytes = size_t{1} << 20;
constexpr size_t page_bytes = 4096;
#ifndef MADV_POPULATE_WRITE
constexpr int MADV_POPULATE_WRITE = 23; // older headers lack it
#endif

enum class way { touched, populate, advise };

char* map_chunk(way how) {
  int flags = MAP_PRIVATE | MAP_ANONYMOUS;
  if (how == way::populate)
    flags |= MAP_POPULATE;
  void* p = mmap(nullptr, chunk_bytes, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (p == MAP_FAILED) {
    std::perror("page_touch: mmap");
    std::exit(1);
  }
  if (how == way::advise && madvise(p, chunk_bytes, MADV_POPULATE_WRITE) != 0) {
    std::perror("page_touch: madvise(MADV_POPULATE_WRITE)");
    std::exit(1);
  }
  return static_cast<char*>(p);
}

/// Microseconds per page to get `total` bytes of fresh memory `how`, each
/// page written once (as a heap does when it first uses the page).
double micros_per_page(way how, size_t total) {
  auto start = std::chrono::steady_clock::now();
  for (size_t done = 0; done < total; done += chunk_bytes) {
    char* chunk = map_chunk(how);
    for (size_t at = 0; at < chunk_bytes; at += page_bytes)
      chunk[at] = 1;
  }
  std::chrono::duration<double, std::micro> took =
      std::chrono::steady_clock::now() - start;
  return took.count() / static_cast<double>(total / page_bytes);
}

} // namespace

int main(int argc, char** argv) {
  size_t mib = 1024;
  int rounds = 2;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--mib" && i + 1 < argc) {
      mib = std::strtoull(argv[++i], nullptr, 10);
    } else if (arg == "--rounds" && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: page_touch [--mib N] [--rounds R]\n");
      return 2;
    }
  }
  size_t total = mib * chunk_bytes;
  for (int round = 1; round <= rounds; ++round) {
    double touched = micros_per_page(way::touched, total);
    double populate = micros_per_page(way::populate, total);
    double advise = micros_per_page(way::advise, total);
    std::printf("round %d, %zu MiB each: us per 4 KiB page: touched %.2f, "
                "MAP_POPULATE %.2f, MADV_POPULATE_WRITE %.2f\n",
                round, mib, touched, populate, advise);
  }
  return 0;
}
