// A guard against SIGBUS on image mappings.
//
// Reserving an image's blocks (image_io::reserve_blocks) means the disk
// filling up can no longer fault a store to the mapping. What still can is
// the file losing its pages under us: another process truncating it, or the
// file system failing. Without a guard the kernel's SIGBUS ends the daemon
// and the host loses the module mid-command. With it, the faulting page of a
// guarded mapping is replaced by a zero page of anonymous memory (the same
// as what a truncated file reads as), the access completes, and the range
// counts the loss: the module keeps serving and reports that its image no
// longer holds what it writes. A SIGBUS anywhere else keeps its default
// action (the process ends, as before).
#pragma once

#include <cstdint>

namespace vmodem::nand::mapping_guard {

// Guards [base, base + size). Returns a slot for release(), or -1 when all
// slots are taken (the range is then unguarded). Thread-safe.
int guard(void* base, std::uint64_t size);
void release(int slot);
// Pages of the slot's range replaced since guard(): each was lost from the
// file. Thread-safe, lock-free.
std::uint64_t lost_pages(int slot);

}  // namespace vmodem::nand::mapping_guard
