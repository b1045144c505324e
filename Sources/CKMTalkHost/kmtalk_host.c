/* The kmtalk CLI's link to libKMTalk.so: loading, and a forwarder per C API function
 * (include/kmtalk_host.h says why and where the library is looked for). */
#define _GNU_SOURCE
#define KMT_NO_DEPRECATION_WARNINGS
#include "kmtalk.h"
#include "kmtalk_host.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KMT_STRINGIFY_(x) #x
#define KMT_STRINGIFY(x) KMT_STRINGIFY_(x)
#define KMT_ABI_SONAME "libKMTalk.so." KMT_STRINGIFY(KMT_VERSION_MAJOR)

enum {
#define KMT_HOST_FUNCTION(result, name, parameters, arguments) KMT_HOST_INDEX_##name,
#define KMT_HOST_PROCEDURE(name, parameters, arguments) KMT_HOST_INDEX_##name,
#include "kmtalk_host_functions.h"
#undef KMT_HOST_FUNCTION
#undef KMT_HOST_PROCEDURE
    KMT_HOST_COUNT
};

static const char *const names[KMT_HOST_COUNT] = {
#define KMT_HOST_FUNCTION(result, name, parameters, arguments) #name,
#define KMT_HOST_PROCEDURE(name, parameters, arguments) #name,
#include "kmtalk_host_functions.h"
#undef KMT_HOST_FUNCTION
#undef KMT_HOST_PROCEDURE
};

static void *functions[KMT_HOST_COUNT];
static void *library;
static char library_path[PATH_MAX];
static char load_error[4096];
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

/* Appends to load_error. */
static void note(const char *format, ...) {
    size_t used = strlen(load_error);
    if (used + 1 >= sizeof load_error) return;
    va_list args;
    va_start(args, format);
    vsnprintf(load_error + used, sizeof load_error - used, format, args);
    va_end(args);
}

/* dlopen()s `path`; on failure notes why. Returns 1 when loaded. */
static int try_open(const char *path) {
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *reason = dlerror();
        note("\n  %s: %s", path, reason ? reason : "cannot load");
        return 0;
    }
    int32_t (*version)(void) = (int32_t (*)(void))dlsym(handle, "kmt_version_number");
    if (!version) {
        note("\n  %s: not libKMTalk (no kmt_version_number)", path);
        dlclose(handle);
        return 0;
    }
    int32_t found = version();
    if (found / 10000 != KMT_VERSION_MAJOR) {
        note("\n  %s: version %d.%d.%d, but this kmtalk needs ABI %d.x", path, found / 10000, found / 100 % 100,
             found % 100, KMT_VERSION_MAJOR);
        dlclose(handle);
        return 0;
    }
    library = handle;
    /* The path the loader used, for messages and `kmtalk --version`-style reports. */
    Dl_info info;
    void *symbol = dlsym(handle, "kmt_version");
    const char *resolved = symbol && dladdr(symbol, &info) && info.dli_fname ? info.dli_fname : path;
    snprintf(library_path, sizeof library_path, "%s", resolved);
    return 1;
}

/* Tries `directory`/`name` when the file exists. */
static int try_beside(const char *directory, const char *name) {
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", directory, name) >= (int)sizeof path) return 0;
    if (access(path, F_OK) != 0) return 0;
    return try_open(path);
}

static void load(void) {
    note("libKMTalk.so not found or not usable; tried:");
    const char *override = getenv("KMTALK_LIBRARY");
    if (override && *override) {
        if (!try_open(override)) note("\n($KMTALK_LIBRARY is set: unset it to search the usual places)");
    } else {
        char executable[PATH_MAX];
        ssize_t length = readlink("/proc/self/exe", executable, sizeof executable - 1);
        int found = 0;
        if (length > 0) {
            executable[length] = 0;
            char *slash = strrchr(executable, '/');
            if (slash) {
                *slash = 0;
                found = try_beside(executable, "libKMTalk.so") || try_beside(executable, "../lib/" KMT_ABI_SONAME)
                    || try_beside(executable, "../lib/libKMTalk.so");
            }
        }
        if (!found && !try_open(KMT_ABI_SONAME)) try_open("libKMTalk.so");
        if (!library) note("\n(set KMTALK_LIBRARY to the library's path, or build it: swift build)");
    }
    if (!library) return;
    load_error[0] = 0;
    for (int index = 0; index < KMT_HOST_COUNT; index++) functions[index] = dlsym(library, names[index]);
}

int kmtalk_host_load(char *error, size_t error_size) {
    pthread_once(&load_once, load);
    if (library) return 0;
    if (error && error_size) snprintf(error, error_size, "%s", load_error);
    return 1;
}

const char *kmtalk_host_library_path(void) {
    return library ? library_path : NULL;
}

void *kmtalk_host_symbol(const char *name) {
    if (!name) return NULL;
    /* Already in the program (a binary that links the engine itself)? */
    void *symbol = dlsym(RTLD_DEFAULT, name);
    if (symbol) return symbol;
    pthread_once(&load_once, load);
    return library ? dlsym(library, name) : NULL;
}

/* The function `index` of the loaded library; exits with the reason when there is none. */
static void *resolved(int index) {
    pthread_once(&load_once, load);
    if (!library) {
        fprintf(stderr, "kmtalk: %s\n", load_error);
        exit(70);
    }
    if (!functions[index]) {
        fprintf(stderr, "kmtalk: %s has no %s: the library is older than this kmtalk\n", library_path, names[index]);
        exit(70);
    }
    return functions[index];
}

/* Weak: a program that also links the engine itself (the package's one test binary, which
 * holds the engine's tests and the CLI's) calls the engine's own definitions; the kmtalk
 * executable has only these. */
#define KMT_HOST_FUNCTION(result, name, parameters, arguments)                \
    __attribute__((weak)) result name parameters {                                                  \
        typedef result(*forward_t) parameters;                                \
        return ((forward_t)resolved(KMT_HOST_INDEX_##name)) arguments;         \
    }
#define KMT_HOST_PROCEDURE(name, parameters, arguments)                       \
    __attribute__((weak)) void name parameters {                                                    \
        typedef void(*forward_t) parameters;                                  \
        ((forward_t)resolved(KMT_HOST_INDEX_##name)) arguments;                \
    }
#include "kmtalk_host_functions.h"
