// The portable, AVX2 and AVX-512 kernels: one source written with 16-lane vector
// extensions (one lane per output row), compiled three times under different target
// attributes. The compiler maps a 16-lane vector to one zmm, two ymm or four xmm.
#include "CSpecDecKernels.h"
#include <string.h>

#include "kernel_support.h"
#include <immintrin.h>

// 16-lane vectors only travel between always-inline helpers, never across a real call.
#pragma clang diagnostic ignored "-Wpsabi"

typedef _Float16 f16x32 __attribute__((vector_size(64)));
typedef _Float16 f16x16 __attribute__((vector_size(32)));

INLINE u32x16 load_u32x16(const void *p) { u32x16 v; memcpy(&v, p, 64); return v; }
INLINE f32x16 load_f32x16(const void *p) { f32x16 v; memcpy(&v, p, 64); return v; }

/// Pairs layout, weights widened in registers: `f16` selects the f16 or the bf16 reading.
/// NT tokens at once (a compile-time constant after inlining, so the accumulators stay
/// in registers); each pair of W is loaded once for the NT tokens.
INLINE void mm16_tokens(const uint16_t *block, int64_t pairs, const float *x, int64_t kp, float *y, int64_t y_stride,
                        int64_t row0, int64_t rows, const float *bias, const int nt, const int f16) {
    f32x16 acc[8] = {0};
    for (int64_t p = 0; p < pairs; p++) {
        f32x16 even, odd;
        if (f16) {
            f16x32 h;
            memcpy(&h, block + p * 32, 64);
            f16x16 e = __builtin_shufflevector(h, h, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
            f16x16 o = __builtin_shufflevector(h, h, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
            even = __builtin_convertvector(e, f32x16);
            odd = __builtin_convertvector(o, f32x16);
        } else {
            const u32x16 v = load_u32x16(block + p * 32);
            even = (f32x16)(v << 16);
            odd = (f32x16)(v & 0xffff0000u);
        }
        for (int t = 0; t < nt; t++) {
            const float *xp = x + t * kp + 2 * p;
            acc[t] += even * xp[0] + odd * xp[1];
        }
    }
    store_block(acc, nt, y, y_stride, row0, rows, bias);
}

INLINE void mm16(SPECDEC_MM16_ARGS, const int f16) {
    const int64_t pairs = kp / 2;
    for (int64_t b = block_begin; b < block_end; b++) {
        const uint16_t *block = w + b * 16 * kp;
#define MM16(NT) mm16_tokens(block, pairs, x + t * kp, kp, y + t * y_stride, y_stride, b * 16, rows, bias, NT, f16)
        FOR_TOKEN_GROUPS(tokens, MM16);
#undef MM16
    }
}

/// fp32 panels: one load of a column's 16 rows feeds NT tokens' multiply-adds (each
/// token's value broadcast). Every lane sums its row over the columns in order.
INLINE void mm32_tokens(const float *block, int64_t kp, const float *x, float *y, int64_t y_stride,
                        int64_t row0, int64_t rows, const float *bias, const int nt) {
    f32x16 acc[8] = {0};
    for (int64_t c = 0; c < kp; c++) {
        const f32x16 w = load_f32x16(block + c * 16);
        for (int t = 0; t < nt; t++) acc[t] += w * x[t * kp + c];
    }
    store_block(acc, nt, y, y_stride, row0, rows, bias);
}

/// One token against four blocks: four sums in flight rather than one chain of
/// dependent multiply-adds (the same sums, in the same order, as mm32_tokens with NT = 1).
INLINE void mm32_one_token_four_blocks(const float *w, int64_t kp, int64_t b, const float *x, float *y, int64_t rows,
                                       const float *bias) {
    const float *w0 = w + b * 16 * kp, *w1 = w0 + 16 * kp, *w2 = w1 + 16 * kp, *w3 = w2 + 16 * kp;
    f32x16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    for (int64_t c = 0; c < kp; c++) {
        const float v = x[c];
        a0 += load_f32x16(w0 + c * 16) * v;
        a1 += load_f32x16(w1 + c * 16) * v;
        a2 += load_f32x16(w2 + c * 16) * v;
        a3 += load_f32x16(w3 + c * 16) * v;
    }
    store_block(&a0, 1, y, 0, b * 16, rows, bias);
    store_block(&a1, 1, y, 0, (b + 1) * 16, rows, bias);
    store_block(&a2, 1, y, 0, (b + 2) * 16, rows, bias);
    store_block(&a3, 1, y, 0, (b + 3) * 16, rows, bias);
}

INLINE void mm32(SPECDEC_MM32_ARGS, const int group) {
    int64_t b = block_begin;
    if (tokens == 1) {
        for (; b + 4 <= block_end; b += 4) mm32_one_token_four_blocks(w, kp, b, x, y, rows, bias);
    }
    for (; b < block_end; b++) {
        const float *block = w + b * 16 * kp;
#define MM32(NT) mm32_tokens(block, kp, x + t * kp, y + t * y_stride, y_stride, b * 16, rows, bias, NT)
        FOR_TOKEN_GROUPS_OF(group, tokens, MM32);
#undef MM32
    }
}

/// Quads layout: four sign-extended bytes per lane, exact int32 sums, then
/// y = sum * (w_scale[r] * x_scale[t]) (+ bias).
INLINE void mm8_tokens(const int8_t *block, const float *w_scales, int64_t quads, const int8_t *x, const float *x_scales,
                       int64_t kp, float *y, int64_t y_stride, int64_t row0, int64_t rows, const float *bias, const int nt) {
    i32x16 acc[8] = {0};
    for (int64_t q = 0; q < quads; q++) {
        i32x16 v;
        memcpy(&v, block + q * 64, 64);
        const i32x16 b0 = (v << 24) >> 24, b1 = (v << 16) >> 24, b2 = (v << 8) >> 24, b3 = v >> 24;
        for (int t = 0; t < nt; t++) {
            const int8_t *xq = x + t * kp + 4 * q;
            acc[t] += b0 * (int32_t)xq[0] + b1 * (int32_t)xq[1] + b2 * (int32_t)xq[2] + b3 * (int32_t)xq[3];
        }
    }
    const f32x16 ws = load_f32x16(w_scales + row0);
    f32x16 out[8];
    for (int t = 0; t < nt; t++) out[t] = __builtin_convertvector(acc[t], f32x16) * (ws * x_scales[t]);
    store_block(out, nt, y, y_stride, row0, rows, bias);
}

INLINE void mm8(SPECDEC_MM8_ARGS) {
    (void)w_row_sums;
    const int64_t quads = kp / 4;
    for (int64_t b = block_begin; b < block_end; b++) {
        const int8_t *block = w + b * 16 * kp;
#define MM8(NT) mm8_tokens(block, w_scales, quads, x + t * kp, x_scales + t, kp, y + t * y_stride, y_stride, b * 16, rows, bias, NT)
        FOR_TOKEN_GROUPS(tokens, MM8);
#undef MM8
    }
}


void specdec_mm_bf16w_portable(SPECDEC_MM16_ARGS) { mm16(w, kp, block_begin, block_end, x, tokens, y, y_stride, rows, bias, 0); }
AVX2_TARGET void specdec_mm_bf16w_avx2(SPECDEC_MM16_ARGS) { mm16(w, kp, block_begin, block_end, x, tokens, y, y_stride, rows, bias, 0); }
AVX512_TARGET void specdec_mm_bf16w_avx512(SPECDEC_MM16_ARGS) { mm16(w, kp, block_begin, block_end, x, tokens, y, y_stride, rows, bias, 0); }
void specdec_mm_f16w_portable(SPECDEC_MM16_ARGS) { mm16(w, kp, block_begin, block_end, x, tokens, y, y_stride, rows, bias, 1); }
AVX2_TARGET void specdec_mm_f16w_avx2(SPECDEC_MM16_ARGS) { mm16(w, kp, block_begin, block_end, x, tokens, y, y_stride, rows, bias, 1); }
AVX512_TARGET void specdec_mm_f16w_avx512(SPECDEC_MM16_ARGS) { mm16(w, kp, block_begin, block_end, x, tokens, y, y_stride, rows, bias, 1); }

// Token groups: AVX2 holds a 16-lane accumulator in two of its 16 ymm registers, so six
// tokens (12 registers) leave room for the weights; AVX-512 holds one in a zmm register of
// 32. Measured on an AVX2 EPYC (6000x256, 64 positions): groups of 4/6/8 reach 37/39/31 GFLOP/s.
#define MM32_CALL(G) mm32(w, kp, block_begin, block_end, x, tokens, y, y_stride, rows, bias, G)
void specdec_mm_f32_portable(SPECDEC_MM32_ARGS) { MM32_CALL(4); }
AVX2_TARGET void specdec_mm_f32_avx2(SPECDEC_MM32_ARGS) { MM32_CALL(6); }
AVX512_TARGET void specdec_mm_f32_avx512(SPECDEC_MM32_ARGS) { MM32_CALL(8); }

/// AVX2 has no 8-bit dot product with 32-bit sums, but vpmaddubsw multiplies 32 unsigned
/// by 32 signed bytes and adds adjacent pairs into 16-bit lanes. Every code lies in
/// [-127, 127] (both quantisers clamp there), so with |w| as the unsigned operand and x
/// carrying w's sign (vpsignb) a pair's sum is at most 2 * 127 * 127 = 32258: it never
/// saturates, and vpmaddwd by ones widens the pairs into exact 32-bit row sums. The
/// integers (and after the scales, the bits) are those of every other path.
AVX2_TARGET INLINE void mm8_avx2_tokens(const int8_t *block, const float *w_scales, int64_t quads, const int8_t *x,
                                        const float *x_scales, int64_t kp, float *y, int64_t y_stride, int64_t row0,
                                        int64_t rows, const float *bias, const int nt) {
    __m256i acc[4][2];
    for (int t = 0; t < nt; t++) acc[t][0] = acc[t][1] = _mm256_setzero_si256();
    const __m256i ones = _mm256_set1_epi16(1);
    for (int64_t q = 0; q < quads; q++) {
        const __m256i v0 = _mm256_loadu_si256((const __m256i *)(block + q * 64));
        const __m256i v1 = _mm256_loadu_si256((const __m256i *)(block + q * 64 + 32));
        const __m256i magnitude0 = _mm256_abs_epi8(v0), magnitude1 = _mm256_abs_epi8(v1);
        for (int t = 0; t < nt; t++) {
            int32_t bytes;
            memcpy(&bytes, x + t * kp + 4 * q, 4);
            const __m256i xb = _mm256_set1_epi32(bytes);
            const __m256i pairs0 = _mm256_maddubs_epi16(magnitude0, _mm256_sign_epi8(xb, v0));
            const __m256i pairs1 = _mm256_maddubs_epi16(magnitude1, _mm256_sign_epi8(xb, v1));
            acc[t][0] = _mm256_add_epi32(acc[t][0], _mm256_madd_epi16(pairs0, ones));
            acc[t][1] = _mm256_add_epi32(acc[t][1], _mm256_madd_epi16(pairs1, ones));
        }
    }
    const f32x16 ws = load_f32x16(w_scales + row0);
    f32x16 out[4];
    for (int t = 0; t < nt; t++) {
        int32_t sums[16];
        memcpy(sums, &acc[t][0], 32);
        memcpy(sums + 8, &acc[t][1], 32);
        i32x16 v;
        memcpy(&v, sums, 64);
        out[t] = __builtin_convertvector(v, f32x16) * (ws * x_scales[t]);
    }
    store_block(out, nt, y, y_stride, row0, rows, bias);
}

#define MM8_CALL mm8(w, w_scales, w_row_sums, kp, block_begin, block_end, x, x_scales, tokens, y, y_stride, rows, bias)
void specdec_mm_int8_portable(SPECDEC_MM8_ARGS) { MM8_CALL; }
AVX2_TARGET void specdec_mm_int8_avx2(SPECDEC_MM8_ARGS) {
    (void)w_row_sums;
    const int64_t quads = kp / 4;
    for (int64_t b = block_begin; b < block_end; b++) {
        const int8_t *block = w + b * 16 * kp;
#define MM8_AVX2(NT) mm8_avx2_tokens(block, w_scales, quads, x + t * kp, x_scales + t, kp, y + t * y_stride, y_stride, b * 16, rows, bias, NT)
        FOR_TOKEN_GROUPS_OF(4, tokens, MM8_AVX2);
#undef MM8_AVX2
    }
}
AVX512_TARGET void specdec_mm_int8_avx512(SPECDEC_MM8_ARGS) { MM8_CALL; }
