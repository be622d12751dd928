#include "CSpecDecShims.h"
#include <string.h>

typedef _Float16 half16 __attribute__((vector_size(32)));
typedef float float16v __attribute__((vector_size(64)));
typedef uint16_t u16x16 __attribute__((vector_size(32)));
typedef uint32_t u32x16 __attribute__((vector_size(64)));

void specdec_convert_f16_to_f32(const uint16_t *source, float *destination, size_t count) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        half16 h;
        memcpy(&h, source + i, sizeof h);
        float16v f = __builtin_convertvector(h, float16v);
        memcpy(destination + i, &f, sizeof f);
    }
    for (; i < count; i++) {
        _Float16 h;
        memcpy(&h, source + i, sizeof h);
        destination[i] = (float)h;
    }
}

void specdec_convert_bf16_to_f32(const uint16_t *source, float *destination, size_t count) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        u16x16 b;
        memcpy(&b, source + i, sizeof b);
        u32x16 w = __builtin_convertvector(b, u32x16) << 16;
        memcpy(destination + i, &w, sizeof w);
    }
    for (; i < count; i++) {
        uint32_t w = (uint32_t)source[i] << 16;
        memcpy(destination + i, &w, sizeof w);
    }
}
