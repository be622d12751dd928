// Weight packing (once, at load) and activation preparation (once per projection call).
#include "CSpecDecKernels.h"
#include "kernel_support.h"
#include <immintrin.h>
#include <math.h>
#include <string.h>

static inline float f16_to_f32(uint16_t h) {
    _Float16 v;
    memcpy(&v, &h, 2);
    return (float)v;
}

static inline float bf16_to_f32(uint16_t b) {
    uint32_t w = (uint32_t)b << 16;
    float f;
    memcpy(&f, &w, 4);
    return f;
}

/// Round to nearest even, as vcvtneps2bf16 does; NaN stays a (quiet) NaN.
static inline uint16_t f32_to_bf16(float f) {
    uint32_t w;
    memcpy(&w, &f, 4);
    if ((w & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((w >> 16) | 0x40);
    w += 0x7fffu + ((w >> 16) & 1);
    return (uint16_t)(w >> 16);
}

static inline uint16_t f32_to_f16(float f) {
    _Float16 v = (_Float16)f;
    uint16_t h;
    memcpy(&h, &v, 2);
    return h;
}

static inline float source_value(const void *source, int type, int transposed, int64_t rows, int64_t columns,
                                 int64_t r, int64_t c) {
    const int64_t i = transposed ? c * rows + r : r * columns + c;
    switch (type) {
    case SPECDEC_SOURCE_F16: return f16_to_f32(((const uint16_t *)source)[i]);
    case SPECDEC_SOURCE_BF16: return bf16_to_f32(((const uint16_t *)source)[i]);
    default: return ((const float *)source)[i];
    }
}

size_t specdec_packed16_count(int64_t rows, int64_t kp) { return (size_t)((rows + 15) / 16) * 16 * (size_t)kp; }

void specdec_pack16(const void *source, int source_type, int transposed, int64_t rows, int64_t columns,
                    int64_t kp, int to_bf16, uint16_t *out) {
    const int64_t blocks = (rows + 15) / 16;
    const int copy = !transposed && ((to_bf16 && source_type == SPECDEC_SOURCE_BF16) ||
                                     (!to_bf16 && source_type == SPECDEC_SOURCE_F16));
    memset(out, 0, specdec_packed16_count(rows, kp) * sizeof(uint16_t));
    for (int64_t b = 0; b < blocks; b++) {
        uint16_t *block = out + b * 16 * kp;
        for (int64_t n = 0; n < 16 && b * 16 + n < rows; n++) {
            const int64_t r = b * 16 + n;
            for (int64_t c = 0; c < columns; c++) {
                uint16_t v;
                if (copy) {
                    v = ((const uint16_t *)source)[r * columns + c];
                } else {
                    const float f = source_value(source, source_type, transposed, rows, columns, r, c);
                    v = to_bf16 ? f32_to_bf16(f) : f32_to_f16(f);
                }
                block[(c / 2) * 32 + n * 2 + (c & 1)] = v;
            }
        }
    }
}

void specdec_pack32(const void *source, int source_type, int transposed, int64_t rows, int64_t columns,
                    int64_t kp, float *out) {
    const int64_t blocks = (rows + 15) / 16;
    memset(out, 0, (size_t)blocks * 16 * (size_t)kp * sizeof(float));
    for (int64_t b = 0; b < blocks; b++) {
        float *block = out + b * 16 * kp;
        for (int64_t n = 0; n < 16 && b * 16 + n < rows; n++) {
            for (int64_t c = 0; c < columns; c++) block[c * 16 + n] = source_value(source, source_type, transposed, rows, columns, b * 16 + n, c);
        }
    }
}

void specdec_pack_int8(const void *source, int source_type, int transposed, int64_t rows, int64_t columns,
                       int64_t kp, int8_t *out, float *out_scales, int32_t *out_row_sums) {
    const int64_t blocks = (rows + 15) / 16;
    memset(out, 0, (size_t)blocks * 16 * (size_t)kp);
    for (int64_t b = 0; b < blocks; b++) {
        int8_t *block = out + b * 16 * kp;
        for (int64_t n = 0; n < 16; n++) {
            const int64_t r = b * 16 + n;
            out_scales[r] = 1.0f;
            out_row_sums[r] = 0;
            if (r >= rows) continue;
            float amax = 0;
            for (int64_t c = 0; c < columns; c++) {
                const float a = fabsf(source_value(source, source_type, transposed, rows, columns, r, c));
                if (a > amax) amax = a;
            }
            const float inverse = amax > 0 ? 127.0f / amax : 0.0f;
            int32_t sum = 0;
            for (int64_t c = 0; c < columns; c++) {
                float q = nearbyintf(source_value(source, source_type, transposed, rows, columns, r, c) * inverse);
                if (q != q) q = 0;  // NaN weights (or an infinite row) quantise to zero
                if (q > 127) q = 127;
                if (q < -127) q = -127;
                block[(c / 4) * 64 + n * 4 + (c & 3)] = (int8_t)q;
                sum += (int32_t)q;
            }
            out_scales[r] = amax > 0 ? amax / 127.0f : 1.0f;
            out_row_sums[r] = sum;
        }
    }
}

void specdec_prepare_f32(const float *x, int64_t x_stride, int64_t tokens, int64_t columns, int64_t kp,
                         int round_bf16, float *out) {
    for (int64_t t = 0; t < tokens; t++) {
        const float *row = x + t * x_stride;
        float *o = out + t * kp;
        if (round_bf16) {
            for (int64_t c = 0; c < columns; c++) o[c] = bf16_to_f32(f32_to_bf16(row[c]));
        } else {
            memcpy(o, row, (size_t)columns * sizeof(float));
        }
        for (int64_t c = columns; c < kp; c++) o[c] = 0;
    }
}

void specdec_prepare_bf16(const float *x, int64_t x_stride, int64_t tokens, int64_t padded_tokens,
                          int64_t columns, int64_t kp, uint16_t *out) {
    for (int64_t t = 0; t < tokens; t++) {
        const float *row = x + t * x_stride;
        uint16_t *o = out + t * kp;
        for (int64_t c = 0; c < columns; c++) o[c] = f32_to_bf16(row[c]);
        for (int64_t c = columns; c < kp; c++) o[c] = 0;
    }
    if (padded_tokens > tokens) memset(out + tokens * kp, 0, (size_t)(padded_tokens - tokens) * (size_t)kp * 2);
}

/// The largest |x| of a row (NaNs ignored), and the row quantised with 127 / that: the
/// portable definition, which the AVX-512 and AVX2 versions below reproduce bit for bit.
static inline float largest_magnitude(const float *row, int64_t count, float amax) {
    for (int64_t c = 0; c < count; c++) {
        const float a = fabsf(row[c]);
        if (a > amax) amax = a;
    }
    return amax;
}

static inline void quantize_values(const float *row, int64_t count, float inverse, int8_t *o) {
    for (int64_t c = 0; c < count; c++) {
        float q = nearbyintf(row[c] * inverse);
        if (q != q) q = 0;
        if (q > 127) q = 127;
        if (q < -127) q = -127;
        o[c] = (int8_t)q;
    }
}

static float quantize_row(const float *row, int64_t columns, int8_t *o) {
    const float amax = largest_magnitude(row, columns, 0);
    quantize_values(row, columns, amax > 0 ? 127.0f / amax : 0.0f, o);
    return amax;
}

/// quantize_row with AVX-512. MAXPS returns its second operand when the first is NaN, so
/// max(|x|, acc) skips NaNs as the portable compare does; the same product, rounding to
/// nearest even (as nearbyintf in the default mode), NaN to 0 and clamp give the same codes.
AVX512_TARGET static float quantize_row_avx512(const float *row, int64_t columns, int8_t *o) {
    __m512 acc = _mm512_setzero_ps();
    for (int64_t c = 0; c < columns; c += 16) {
        const __mmask16 m = columns - c >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (columns - c)) - 1);
        acc = _mm512_max_ps(_mm512_abs_ps(_mm512_maskz_loadu_ps(m, row + c)), acc);
    }
    const float amax = _mm512_reduce_max_ps(acc);
    const __m512 inverse = _mm512_set1_ps(amax > 0 ? 127.0f / amax : 0.0f);
    const __m512 hi = _mm512_set1_ps(127.0f), lo = _mm512_set1_ps(-127.0f);
    for (int64_t c = 0; c < columns; c += 16) {
        const __mmask16 m = columns - c >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (columns - c)) - 1);
        __m512 q = _mm512_roundscale_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, row + c), inverse),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        q = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(q, q, _CMP_ORD_Q), q);
        q = _mm512_min_ps(_mm512_max_ps(q, lo), hi);
        _mm_mask_storeu_epi8(o + c, m, _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(q)));
    }
    return amax;
}

/// quantize_row with AVX2, eight values at a time and the tail as the portable loop does
/// (MAXPS skips NaNs in its first operand; rounding, NaN to 0 and clamp as above).
AVX2_TARGET static float quantize_row_avx2(const float *row, int64_t columns, int8_t *o) {
    const __m256 magnitude = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 acc = _mm256_setzero_ps();
    const int64_t full = columns / 8 * 8;
    for (int64_t c = 0; c < full; c += 8) acc = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(row + c), magnitude), acc);
    float lanes[8];
    _mm256_storeu_ps(lanes, acc);
    float amax = 0;
    for (int i = 0; i < 8; i++) if (lanes[i] > amax) amax = lanes[i];
    amax = largest_magnitude(row + full, columns - full, amax);
    const float inverse = amax > 0 ? 127.0f / amax : 0.0f;
    const __m256 scale = _mm256_set1_ps(inverse), hi = _mm256_set1_ps(127.0f), lo = _mm256_set1_ps(-127.0f);
    for (int64_t c = 0; c < full; c += 8) {
        __m256 q = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(row + c), scale), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        q = _mm256_and_ps(q, _mm256_cmp_ps(q, q, _CMP_ORD_Q));
        q = _mm256_min_ps(_mm256_max_ps(q, lo), hi);
        int32_t codes[8];
        _mm256_storeu_si256((__m256i *)codes, _mm256_cvtps_epi32(q));
        for (int i = 0; i < 8; i++) o[c + i] = (int8_t)codes[i];
    }
    quantize_values(row + full, columns - full, inverse, o + full);
    return amax;
}

void specdec_prepare_int8(const float *x, int64_t x_stride, int64_t tokens, int64_t padded_tokens,
                          int64_t columns, int64_t kp, int offset_activations, int8_t *out, float *out_scales) {
    static int vector = -1;  // 2 AVX-512, 1 AVX2, 0 neither; a benign race: every thread computes the same value
    if (vector < 0) {
        const uint32_t f = specdec_cpu_features();
        vector = (f & SPECDEC_CPU_AVX512) ? 2 : (f & SPECDEC_CPU_AVX2) ? 1 : 0;
    }
    for (int64_t t = 0; t < tokens; t++) {
        const float *row = x + t * x_stride;
        int8_t *o = out + t * kp;
        const float amax = vector == 2 ? quantize_row_avx512(row, columns, o)
                         : vector == 1 ? quantize_row_avx2(row, columns, o) : quantize_row(row, columns, o);
        for (int64_t c = columns; c < kp; c++) o[c] = 0;
        if (offset_activations)
            for (int64_t c = 0; c < kp; c++) o[c] = (int8_t)((uint8_t)o[c] ^ 0x80u);
        out_scales[t] = amax > 0 ? amax / 127.0f : 1.0f;
    }
    if (padded_tokens > tokens) memset(out + tokens * kp, 0, (size_t)(padded_tokens - tokens) * (size_t)kp);
}
