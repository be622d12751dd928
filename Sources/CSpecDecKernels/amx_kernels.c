// AMX kernels: W's 16-row block is the B tile (16 pairs or quads = 1 KiB, already in the
// tile layout), up to 16 tokens' activations are the A tile, and one TDPBF16PS / TDPBSSD
// adds a 16 x 16 block of results. Up to 64 tokens share each B tile load, so a pass over
// 2..64 positions streams W once. Tiles: 0-3 results, 4 activations, 5 weights.
#include "CSpecDecKernels.h"
#include "kernel_support.h"
#include <immintrin.h>

typedef struct {
    uint8_t palette;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t bytes_per_row[16];
    uint8_t rows[16];
} tile_config;

AMX_TARGET static void configure_tiles(void) {
    tile_config config;
    memset(&config, 0, sizeof config);
    config.palette = 1;
    for (int i = 0; i < 6; i++) {
        config.bytes_per_row[i] = 64;
        config.rows[i] = 16;
    }
    _tile_loadconfig(&config);
}

/// Copies the valid part of a 16 x 16 result tile to y (rows t0.., columns row0..).
INLINE void store_results(const float results[16][16], int64_t valid_tokens, float *y, int64_t y_stride, int64_t row0,
                          int64_t rows, const float *bias) {
    const int64_t valid_rows = rows - row0 < 16 ? rows - row0 : 16;
    for (int64_t t = 0; t < valid_tokens; t++) {
        float *out = y + t * y_stride + row0;
        for (int64_t n = 0; n < valid_rows; n++) out[n] = bias ? results[t][n] + bias[row0 + n] : results[t][n];
    }
}

#define GROUP_TOKENS(g) ((tokens - t0 - 16 * (g)) < 16 ? (tokens - t0 - 16 * (g)) : 16)

AMX_TARGET void specdec_mm_bf16_amx(SPECDEC_MMBF16_ARGS) {
    configure_tiles();
    const int64_t chunks = kp / 32, x_bytes = kp * 2;
    float results[16][16];
    for (int64_t t0 = 0; t0 < tokens; t0 += 64) {
        const int64_t groups = (tokens - t0 + 15) / 16 < 4 ? (tokens - t0 + 15) / 16 : 4;
        const uint16_t *xg = x + t0 * kp;
        for (int64_t b = block_begin; b < block_end; b++) {
            const uint16_t *block = w + b * 16 * kp;
            _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
            for (int64_t c = 0; c < chunks; c++) {
                _tile_loadd(5, block + c * 512, 64);
                _tile_loadd(4, xg + c * 32, x_bytes);
                _tile_dpbf16ps(0, 4, 5);
                if (groups > 1) { _tile_loadd(4, xg + 16 * kp + c * 32, x_bytes); _tile_dpbf16ps(1, 4, 5); }
                if (groups > 2) { _tile_loadd(4, xg + 32 * kp + c * 32, x_bytes); _tile_dpbf16ps(2, 4, 5); }
                if (groups > 3) { _tile_loadd(4, xg + 48 * kp + c * 32, x_bytes); _tile_dpbf16ps(3, 4, 5); }
            }
            float *yb = y + t0 * y_stride;
            _tile_stored(0, results, 64); store_results(results, GROUP_TOKENS(0), yb, y_stride, b * 16, rows, bias);
            if (groups > 1) { _tile_stored(1, results, 64); store_results(results, GROUP_TOKENS(1), yb + 16 * y_stride, y_stride, b * 16, rows, bias); }
            if (groups > 2) { _tile_stored(2, results, 64); store_results(results, GROUP_TOKENS(2), yb + 32 * y_stride, y_stride, b * 16, rows, bias); }
            if (groups > 3) { _tile_stored(3, results, 64); store_results(results, GROUP_TOKENS(3), yb + 48 * y_stride, y_stride, b * 16, rows, bias); }
        }
    }
    _tile_release();
}

/// Exact int32 sums to floats: sum * (w_scale[r] * x_scale[t]).
INLINE void scale_results(const int32_t sums[16][16], const float *w_scales, const float *x_scales, int64_t valid_tokens,
                          float results[16][16]) {
    for (int64_t t = 0; t < valid_tokens; t++)
        for (int n = 0; n < 16; n++) results[t][n] = (float)sums[t][n] * (w_scales[n] * x_scales[t]);
}

AMX_TARGET void specdec_mm_int8_amx(SPECDEC_MM8_ARGS) {
    (void)w_row_sums;
    configure_tiles();
    const int64_t chunks = kp / 64;
    int32_t sums[16][16];
    float results[16][16];
    for (int64_t t0 = 0; t0 < tokens; t0 += 64) {
        const int64_t groups = (tokens - t0 + 15) / 16 < 4 ? (tokens - t0 + 15) / 16 : 4;
        const int8_t *xg = x + t0 * kp;
        for (int64_t b = block_begin; b < block_end; b++) {
            const int8_t *block = w + b * 16 * kp;
            _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
            for (int64_t c = 0; c < chunks; c++) {
                _tile_loadd(5, block + c * 1024, 64);
                _tile_loadd(4, xg + c * 64, kp);
                _tile_dpbssd(0, 4, 5);
                if (groups > 1) { _tile_loadd(4, xg + 16 * kp + c * 64, kp); _tile_dpbssd(1, 4, 5); }
                if (groups > 2) { _tile_loadd(4, xg + 32 * kp + c * 64, kp); _tile_dpbssd(2, 4, 5); }
                if (groups > 3) { _tile_loadd(4, xg + 48 * kp + c * 64, kp); _tile_dpbssd(3, 4, 5); }
            }
            float *yb = y + t0 * y_stride;
            const float *ws = w_scales + b * 16, *xs = x_scales + t0;
#define STORE_GROUP(g)                                                                                   \
            _tile_stored(g, sums, 64);                                                                   \
            scale_results(sums, ws, xs + 16 * (g), GROUP_TOKENS(g), results);                            \
            store_results(results, GROUP_TOKENS(g), yb + 16 * (g) * y_stride, y_stride, b * 16, rows, bias)
            STORE_GROUP(0);
            if (groups > 1) { STORE_GROUP(1); }
            if (groups > 2) { STORE_GROUP(2); }
            if (groups > 3) { STORE_GROUP(3); }
#undef STORE_GROUP
        }
    }
    _tile_release();
}
