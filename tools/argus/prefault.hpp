#pragma once

namespace argus {

/// Makes tcmalloc prefault the memory it takes from the kernel, a chunk
/// (1 MiB or more) at a time, instead of one page fault per 4 KiB page as
/// the heap first uses it. A growing heap pays a first touch for every
/// page, and a fault per page costs more than the kernel filling the chunk
/// at once (`build/bin/page_touch`; on this project's machines 10-16 µs a
/// page against 5-11): about 15% less CPU per event on the batch path and
/// 20% per new group (docs/benchmarks.md, issue 15, eleventh round).
/// Memory tcmalloc gives back and reuses later faults as before. Does
/// nothing where the kernel lacks MADV_POPULATE_WRITE (before Linux 5.14).
/// Call once, before threads start allocating.
void prefault_heap_growth();

} // namespace argus
