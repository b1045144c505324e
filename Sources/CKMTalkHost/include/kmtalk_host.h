/*
 * How the kmtalk CLI reaches the library: it loads libKMTalk.so at run time, as the
 * Python package does, and calls it through the functions of include/kmtalk.h, which
 * this target defines as forwarders into the loaded library (kmtalk_host_functions.h,
 * generated from the header by scripts/gen-host-loader.py). So the CLI is a host of the
 * C API like any other program and uses the very library it ships with.
 *
 * Where the library is looked for, first found wins:
 *   1. $KMTALK_LIBRARY (a path to the file; when set it must load),
 *   2. beside the executable: libKMTalk.so (a build folder),
 *   3. ../lib/libKMTalk.so.<ABI major> and ../lib/libKMTalk.so from the executable
 *      (the dist/ layout: bin/kmtalk, lib/),
 *   4. libKMTalk.so.<ABI major>, then libKMTalk.so, on the system's library path.
 * A library whose ABI major version differs from the header's is refused.
 */
#ifndef KMTALK_HOST_H
#define KMTALK_HOST_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Loads the library (once; later calls return the first outcome). Returns 0 on success;
 * otherwise 1 with a readable reason (the paths tried and why each failed) copied into
 * `error` (NUL-terminated, truncated to `error_size`). Thread-safe.
 * A forwarder called before this loads the library itself and, if that fails, prints the
 * reason to stderr and exits with status 70: the CLI calls this first to report it well.
 */
int kmtalk_host_load(char *error, size_t error_size);

/** The path of the loaded library, or NULL before a successful kmtalk_host_load(). */
const char *kmtalk_host_library_path(void);

/**
 * The address of `name` in the loaded library (loading it as kmtalk_host_load() does),
 * or NULL: for what the library links that hosts may measure (OpenBLAS's cblas_sgemm
 * in `kmtalk bench`).
 */
void *kmtalk_host_symbol(const char *name);

/**
 * glibc malloc settings for a process that makes many large, short-lived allocations:
 * blocks up to `mmap_threshold` bytes come from the heap (not their own mmap), up to
 * `trim_threshold` bytes of free memory stay in the process, and the heap grows by
 * `top_pad` extra bytes at a time. Returns 1 when all three were applied.
 */
int kmtalk_host_keep_freed_memory(int mmap_threshold, int trim_threshold, int top_pad);

#ifdef __cplusplus
}
#endif

#endif
