// Matrix kernels for compact weights, one set per instruction path. Only loops live here:
// the Swift core decides which path runs (MatrixMultiply+Packed.swift) and calls it.
//
// Packed weight layouts (made once at load by the pack functions below):
//   16-bit (bf16 or f16): blocks of 16 output rows; block b holds kp/2 "pairs", each
//     16 rows x 2 consecutive k values (64 bytes). This is AMX's B-tile (VNNI) layout and
//     puts one output row in each 32-bit lane, so kernels never reduce horizontally.
//   int8: blocks of 16 rows; block b holds kp/4 "quads", each 16 rows x 4 k values
//     (64 bytes), with a per-row scale (max |w| / 127) and the row's sum of codes.
// kp is the column count rounded up (32 for 16-bit, 64 for int8); padding is zero.
// Rows past `rows` in the last block are zero.
//
// Prepared activations: `tokens` rows of kp values (row stride kp), zero-padded to kp,
// and for the AMX kernels to a multiple of 16 rows.
//
// y[t * y_stride + r] = sum_k W[r][k] x[t][k] (+ bias[r]) for r in rows of blocks
// [block_begin, block_end) that are < rows.
#ifndef CSPECDEC_KERNELS_H
#define CSPECDEC_KERNELS_H

#include <stddef.h>
#include <stdint.h>

// ---- CPU features -------------------------------------------------------------------
#define SPECDEC_CPU_AVX2         (1u << 0)  /* AVX2 + FMA + F16C, OS saves ymm */
#define SPECDEC_CPU_AVX512       (1u << 1)  /* AVX-512 F/BW/DQ/VL, OS saves zmm */
#define SPECDEC_CPU_AVX512_BF16  (1u << 2)  /* AVX512_BF16 (vdpbf16ps) */
#define SPECDEC_CPU_AVX512_VNNI  (1u << 3)  /* AVX-512 VNNI (vpdpbusd) */
#define SPECDEC_CPU_AMX          (1u << 4)  /* AMX tile + bf16 + int8 in cpuid and XCR0 */

/// What the CPU and the OS support, as SPECDEC_CPU_* bits. Runs on any x86-64 CPU.
uint32_t specdec_cpu_features(void);

/// Asks Linux for the AMX tile state (arch_prctl ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA).
/// 0 when granted (or already granted), else an errno value. Needed once per process
/// before any tile instruction, which otherwise raises SIGILL.
int specdec_amx_request_permission(void);

// ---- packing (at load) ------------------------------------------------------------
#define SPECDEC_SOURCE_F32  0
#define SPECDEC_SOURCE_F16  1
#define SPECDEC_SOURCE_BF16 2

/// Elements of a packed 16-bit weight: ceil(rows / 16) * 16 * kp.
size_t specdec_packed16_count(int64_t rows, int64_t kp);

/// Packs a rows x columns source (row-major, or column-major when `transposed`) into
/// the 16-bit pair layout, as bf16 (`to_bf16` = 1, rounded to nearest even) or f16.
/// An f16 source packed as f16 and a bf16 source as bf16 are copied bit for bit.
void specdec_pack16(const void *source, int source_type, int transposed, int64_t rows, int64_t columns,
                    int64_t kp, int to_bf16, uint16_t *out);

/// Packs into the fp32 panel layout: each 16-row block stores, column after column, the
/// 16 rows' values of that column (64 bytes), padded with zeros to kp columns and 16 rows.
void specdec_pack32(const void *source, int source_type, int transposed, int64_t rows, int64_t columns,
                    int64_t kp, float *out);

/// Packs into the int8 quad layout: per-row symmetric scales (`out_scales`, padded rows
/// get 1) and each row's sum of codes (`out_row_sums`), both ceil(rows/16)*16 long.
void specdec_pack_int8(const void *source, int source_type, int transposed, int64_t rows, int64_t columns,
                       int64_t kp, int8_t *out, float *out_scales, int32_t *out_row_sums);

// ---- activations (per call, before the kernels) -----------------------------------
/// fp32 rows padded to kp; rounded to bf16 precision when `round_bf16`.
void specdec_prepare_f32(const float *x, int64_t x_stride, int64_t tokens, int64_t columns, int64_t kp,
                         int round_bf16, float *out);
/// bf16 rows padded to kp, then zero rows up to `padded_tokens`.
void specdec_prepare_bf16(const float *x, int64_t x_stride, int64_t tokens, int64_t padded_tokens,
                          int64_t columns, int64_t kp, uint16_t *out);
/// int8 rows (per-row symmetric scale max|x| / 127 in `out_scales`) padded to kp, then
/// zero rows up to `padded_tokens`. `offset_activations`: store code + 128 as unsigned
/// bytes (what the VNNI kernel multiplies; padding becomes 128 too).
void specdec_prepare_int8(const float *x, int64_t x_stride, int64_t tokens, int64_t padded_tokens,
                          int64_t columns, int64_t kp, int offset_activations, int8_t *out, float *out_scales);

// ---- kernels --------------------------------------------------------------------------
// Suffix = the path: _portable (baseline x86-64), _avx2, _avx512, _avx512bf16 (AVX512_BF16
// or VNNI), _amx. Calling one the CPU lacks is undefined; the Swift core checks first.

#define SPECDEC_MM16_ARGS const uint16_t *w, int64_t kp, int64_t block_begin, int64_t block_end, \
    const float *x, int64_t tokens, float *y, int64_t y_stride, int64_t rows, const float *bias
/// 16-bit weights (bf16 or f16 pairs), fp32 activations from specdec_prepare_f32.
void specdec_mm_bf16w_portable(SPECDEC_MM16_ARGS);
void specdec_mm_bf16w_avx2(SPECDEC_MM16_ARGS);
void specdec_mm_bf16w_avx512(SPECDEC_MM16_ARGS);
void specdec_mm_f16w_portable(SPECDEC_MM16_ARGS);
void specdec_mm_f16w_avx2(SPECDEC_MM16_ARGS);
void specdec_mm_f16w_avx512(SPECDEC_MM16_ARGS);

#define SPECDEC_MM32_ARGS const float *w, int64_t kp, int64_t block_begin, int64_t block_end, \
    const float *x, int64_t tokens, float *y, int64_t y_stride, int64_t rows, const float *bias
/// fp32 panels, fp32 activations from specdec_prepare_f32. Each row's sum runs over the
/// columns in order whatever the token count, so a row's result never depends on the batch.
void specdec_mm_f32_portable(SPECDEC_MM32_ARGS);
void specdec_mm_f32_avx2(SPECDEC_MM32_ARGS);
void specdec_mm_f32_avx512(SPECDEC_MM32_ARGS);

#define SPECDEC_MMBF16_ARGS const uint16_t *w, int64_t kp, int64_t block_begin, int64_t block_end, \
    const uint16_t *x, int64_t tokens, float *y, int64_t y_stride, int64_t rows, const float *bias
/// bf16 weights and bf16 activations from specdec_prepare_bf16 (fp32 accumulation).
void specdec_mm_bf16_avx512bf16(SPECDEC_MMBF16_ARGS);
void specdec_mm_bf16_amx(SPECDEC_MMBF16_ARGS);

#define SPECDEC_MM8_ARGS const int8_t *w, const float *w_scales, const int32_t *w_row_sums, int64_t kp, \
    int64_t block_begin, int64_t block_end, const int8_t *x, const float *x_scales, int64_t tokens, \
    float *y, int64_t y_stride, int64_t rows, const float *bias
/// int8 weights and int8 activations from specdec_prepare_int8 (exact int32 sums).
void specdec_mm_int8_portable(SPECDEC_MM8_ARGS);
void specdec_mm_int8_avx2(SPECDEC_MM8_ARGS);
void specdec_mm_int8_avx512(SPECDEC_MM8_ARGS);
void specdec_mm_int8_avx512vnni(SPECDEC_MM8_ARGS);
void specdec_mm_int8_amx(SPECDEC_MM8_ARGS);

#endif
