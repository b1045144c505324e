/* The CLI's allocator settings (Sources/kmtalk/AllocatorTuning.swift says why): glibc's
 * mallopt, which Swift's Glibc module does not import. */
#include "kmtalk_host.h"

#include <malloc.h>

int kmtalk_host_keep_freed_memory(int mmap_threshold, int trim_threshold, int top_pad) {
    return mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1 && mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1 &&
        mallopt(M_TOP_PAD, top_pad) == 1;
}
