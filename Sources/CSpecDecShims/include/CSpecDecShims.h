// Thin C helpers for the Swift core: things Swift cannot express or compiles poorly.
// No logic lives here beyond what the comments say.
#ifndef CSPECDEC_SHIMS_H
#define CSPECDEC_SHIMS_H

#include <stddef.h>
#include <stdint.h>

// ---- jemalloc, resolved at run time ----------------------------------------------
// libspecdec does not link jemalloc: Debian's build uses initial-exec TLS, so a library
// that needs it cannot be dlopen'ed late (Python's ctypes). We use it when the host
// process already has it (linked at start-up or LD_PRELOADed) and fall back otherwise.

/// 1 when mallocx/dallocx/mallctl were found in the process, else 0 (and a reason).
int specdec_jemalloc_resolve(const char **out_reason);
/// Creates a dedicated arena; returns 0 on success.
int specdec_jemalloc_arena_create(unsigned *out_arena);
/// 64-byte aligned allocation from `arena`, bypassing the thread cache. NULL on failure.
void *specdec_jemalloc_alloc(unsigned arena, size_t size);
void specdec_jemalloc_free(unsigned arena, void *pointer);
/// Destroys the arena and returns its memory to the system.
void specdec_jemalloc_arena_destroy(unsigned arena);

// ---- numeric conversions (Swift's SIMD conversions compile to calls) ---------------
void specdec_convert_f16_to_f32(const uint16_t *source, float *destination, size_t count);
void specdec_convert_bf16_to_f32(const uint16_t *source, float *destination, size_t count);

// ---- CPU features ------------------------------------------------------------------
/// 1 when the CPU runs the instructions release builds are compiled for (AVX-512F/BW/DQ/VL, FMA).
int specdec_cpu_supported(void);
/* What specdec_cpu_supported checks for, in words. */
const char *specdec_cpu_requirement(void);

/// The x86 PAUSE hint for spin loops.
static inline void specdec_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/// Asks the hardware to start loading the cache line at `address` (kernels that are
/// compute-heavy enough to fall behind the hardware prefetcher use it).
static inline void specdec_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

// ---- per-thread error text for the C ABI --------------------------------------------
void specdec_thread_error_set(const char *message);
const char *specdec_thread_error_get(void);

#endif
