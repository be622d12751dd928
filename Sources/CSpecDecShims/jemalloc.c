#define _GNU_SOURCE
#include "CSpecDecShims.h"
#include <dlfcn.h>
#include <stdio.h>
#include <jemalloc/jemalloc.h>

typedef void *(*mallocx_fn)(size_t, int);
typedef void (*dallocx_fn)(void *, int);
typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);

static mallocx_fn resolved_mallocx;
static dallocx_fn resolved_dallocx;
static mallctl_fn resolved_mallctl;

int specdec_jemalloc_resolve(const char **out_reason) {
    if (resolved_mallocx && resolved_dallocx && resolved_mallctl) return 1;
    void *scope = RTLD_DEFAULT;
    void *mx = dlsym(scope, "mallocx");
    if (!mx) {
        // Not in the process yet: a late dlopen works only where static TLS space allows.
        void *handle = dlopen("libjemalloc.so.2", RTLD_NOW | RTLD_GLOBAL);
        if (!handle) {
            if (out_reason) *out_reason = "jemalloc is not loaded in this process (link the host with -ljemalloc or LD_PRELOAD libjemalloc.so.2)";
            return 0;
        }
        scope = handle;
        mx = dlsym(scope, "mallocx");
    }
    void *dx = dlsym(scope, "dallocx");
    void *mc = dlsym(scope, "mallctl");
    if (!mx || !dx || !mc) {
        if (out_reason) *out_reason = "the loaded allocator does not export mallocx/dallocx/mallctl";
        return 0;
    }
    resolved_mallocx = (mallocx_fn)mx;
    resolved_dallocx = (dallocx_fn)dx;
    resolved_mallctl = (mallctl_fn)mc;
    return 1;
}

int specdec_jemalloc_arena_create(unsigned *out_arena) {
    if (!resolved_mallctl) return -1;
    size_t size = sizeof(unsigned);
    return resolved_mallctl("arenas.create", out_arena, &size, NULL, 0);
}

static int arena_flags(unsigned arena) {
    return (int)(MALLOCX_ARENA(arena) | MALLOCX_TCACHE_NONE | MALLOCX_ALIGN(64));
}

void *specdec_jemalloc_alloc(unsigned arena, size_t size) {
    if (!resolved_mallocx || size == 0) return NULL;
    return resolved_mallocx(size, arena_flags(arena));
}

void specdec_jemalloc_free(unsigned arena, void *pointer) {
    if (resolved_dallocx && pointer) resolved_dallocx(pointer, arena_flags(arena));
}

void specdec_jemalloc_arena_destroy(unsigned arena) {
    if (!resolved_mallctl) return;
    char name[64];
    snprintf(name, sizeof name, "arena.%u.destroy", arena);
    resolved_mallctl(name, NULL, NULL, NULL, 0);
}
