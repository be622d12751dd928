// AVX512_BF16 (vdpbf16ps) and AVX-512 VNNI (vpdpbusd) kernels. One instruction multiplies
// a 64-byte pair (or quad) of W, 16 rows wide, by a broadcast of one token's two (four)
// activations and adds into that token's 16 row sums.
#include "CSpecDecKernels.h"
#include "kernel_support.h"
#include <immintrin.h>

/// NB (1 or 2) adjacent 16-row blocks against NT tokens: each broadcast activation pair
/// feeds NB dot products, each weight load NT.
AVX512_DOT_TARGET INLINE void bf16_tokens(const uint16_t *block, int64_t kp, int64_t pairs, const uint32_t *x,
                                          int64_t x_pairs, float *y, int64_t y_stride, int64_t row0, int64_t rows,
                                          const float *bias, const int nb, const int nt) {
    __m512 acc[2][8];
    for (int b = 0; b < nb; b++)
        for (int t = 0; t < nt; t++) acc[b][t] = _mm512_setzero_ps();
    for (int64_t p = 0; p < pairs; p++) {
        __m512bh wv[2];
        for (int b = 0; b < nb; b++) wv[b] = (__m512bh)_mm512_loadu_si512(block + b * 16 * kp + p * 32);
        for (int t = 0; t < nt; t++) {
            const __m512bh xv = (__m512bh)_mm512_set1_epi32((int)x[t * x_pairs + p]);
            for (int b = 0; b < nb; b++) acc[b][t] = _mm512_dpbf16_ps(acc[b][t], wv[b], xv);
        }
    }
    for (int b = 0; b < nb; b++) store_block(acc[b], nt, y, y_stride, row0 + 16 * b, rows, bias);
}

AVX512_DOT_TARGET void specdec_mm_bf16_avx512bf16(SPECDEC_MMBF16_ARGS) {
    const int64_t pairs = kp / 2;
    const uint32_t *x32 = (const uint32_t *)x;
    // One position goes through the same kernel as many, so that a verifier's pass over
    // k + 1 positions gives bit for bit the logits of k + 1 single steps (lossless drafting).
    for (int64_t b = block_begin; b < block_end; b += 2) {
        const uint16_t *block = w + b * 16 * kp;
        if (b + 1 < block_end) {
#define BF16(NT) bf16_tokens(block, kp, pairs, x32 + t * pairs, pairs, y + t * y_stride, y_stride, b * 16, rows, bias, 2, NT)
            FOR_TOKEN_GROUPS(tokens, BF16);
#undef BF16
        } else {
#define BF16(NT) bf16_tokens(block, kp, pairs, x32 + t * pairs, pairs, y + t * y_stride, y_stride, b * 16, rows, bias, 1, NT)
            FOR_TOKEN_GROUPS(tokens, BF16);
#undef BF16
        }
    }
}

/// vpdpbusd multiplies unsigned by signed bytes: the activations come offset by 128
/// (specdec_prepare_int8 with `offset_activations`), and 128 * the row's sum of codes is
/// taken off at the end. NB (1 or 2) blocks share each broadcast.
AVX512_DOT_TARGET INLINE void int8_tokens(const int8_t *block, int64_t kp, const float *w_scales, const int32_t *w_row_sums,
                                          int64_t quads, const uint32_t *x, int64_t x_quads, const float *x_scales,
                                          float *y, int64_t y_stride, int64_t row0, int64_t rows, const float *bias,
                                          const int nb, const int nt) {
    __m512i acc[2][8];
    for (int b = 0; b < nb; b++)
        for (int t = 0; t < nt; t++) acc[b][t] = _mm512_setzero_si512();
    for (int64_t q = 0; q < quads; q++) {
        __m512i wv[2];
        for (int b = 0; b < nb; b++) wv[b] = _mm512_loadu_si512(block + b * 16 * kp + q * 64);
        for (int t = 0; t < nt; t++) {
            const __m512i xv = _mm512_set1_epi32((int)x[t * x_quads + q]);
            for (int b = 0; b < nb; b++) acc[b][t] = _mm512_dpbusd_epi32(acc[b][t], xv, wv[b]);
        }
    }
    for (int b = 0; b < nb; b++) {
        const int64_t r0 = row0 + 16 * b;
        const __m512i offset = _mm512_slli_epi32(_mm512_loadu_si512(w_row_sums + r0), 7);
        const __m512 ws = _mm512_loadu_ps(w_scales + r0);
        __m512 out[8];
        for (int t = 0; t < nt; t++) {
            const __m512 sum = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[b][t], offset));
            out[t] = _mm512_mul_ps(sum, _mm512_mul_ps(ws, _mm512_set1_ps(x_scales[t])));
        }
        store_block(out, nt, y, y_stride, r0, rows, bias);
    }
}

AVX512_DOT_TARGET void specdec_mm_int8_avx512vnni(SPECDEC_MM8_ARGS) {
    const int64_t quads = kp / 4;
    const uint32_t *x32 = (const uint32_t *)x;
    for (int64_t b = block_begin; b < block_end; b += 2) {
        const int8_t *block = w + b * 16 * kp;
        if (b + 1 < block_end) {
#define INT8(NT) int8_tokens(block, kp, w_scales, w_row_sums, quads, x32 + t * quads, quads, x_scales + t, \
                             y + t * y_stride, y_stride, b * 16, rows, bias, 2, NT)
            FOR_TOKEN_GROUPS(tokens, INT8);
#undef INT8
        } else {
#define INT8(NT) int8_tokens(block, kp, w_scales, w_row_sums, quads, x32 + t * quads, quads, x_scales + t, \
                             y + t * y_stride, y_stride, b * 16, rows, bias, 1, NT)
            FOR_TOKEN_GROUPS(tokens, INT8);
#undef INT8
        }
    }
}
