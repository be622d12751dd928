// Vector types and the block store shared by the kernel files (not part of the interface).
#ifndef CSPECDEC_KERNEL_SUPPORT_H
#define CSPECDEC_KERNEL_SUPPORT_H
#include <stdint.h>
#include <string.h>

typedef float f32x16 __attribute__((vector_size(64)));
typedef uint32_t u32x16 __attribute__((vector_size(64)));
typedef int32_t i32x16 __attribute__((vector_size(64)));

#define INLINE static inline __attribute__((always_inline))

/// Stores `tokens` accumulators of one 16-row block (one vector of 16 floats each),
/// clipped to the valid rows, plus bias.
INLINE void store_block(const void *accumulators, int tokens, float *y, int64_t y_stride, int64_t row0, int64_t rows,
                        const float *bias) {
    const int64_t valid = rows - row0 < 16 ? rows - row0 : 16;
    for (int t = 0; t < tokens; t++) {
        float lanes[16];
        memcpy(lanes, (const char *)accumulators + 64 * t, 64);
        float *out = y + t * y_stride + row0;
        for (int64_t n = 0; n < valid; n++) out[n] = bias ? lanes[n] + bias[row0 + n] : lanes[n];
    }
}

/// Calls BODY(NT) for full groups of 8 tokens, then once for the remainder, with NT a
/// constant so that each instance keeps its accumulators in registers. `t` is the first
/// token of the group.
#define FOR_TOKEN_GROUPS(tokens, BODY) FOR_TOKEN_GROUPS_OF(8, tokens, BODY)

/// The same with groups of G (<= 8) tokens: G a constant, chosen per path so that G
/// accumulators fit the path's registers.
#define FOR_TOKEN_GROUPS_OF(G, tokens, BODY)                                  \
    do {                                                                      \
        int64_t t = 0;                                                        \
        for (; t + (G) <= (tokens); t += (G)) BODY(G);                        \
        switch ((tokens) - t) {                                               \
        case 1: BODY(1); break;                                               \
        case 2: BODY(2); break;                                               \
        case 3: BODY(3); break;                                               \
        case 4: BODY(4); break;                                               \
        case 5: BODY(5); break;                                               \
        case 6: BODY(6); break;                                               \
        case 7: BODY(7); break;                                               \
        default: break;                                                       \
        }                                                                     \
    } while (0)

#define AVX2_TARGET __attribute__((target("avx2,fma,f16c")))
#define AVX512_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma,f16c")))
#define AVX512_DOT_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16,avx512vnni,avx2,fma,f16c")))
#define AMX_TARGET __attribute__((target("amx-tile,amx-bf16,amx-int8,avx512f,avx512bw,avx512dq,avx512vl,avx512bf16,avx2,fma,f16c")))

#endif
