// Run-time CPU detection: cpuid for what the CPU has, XCR0 for what the OS saves on a
// context switch (an instruction the OS does not save state for must not be used).
#include "CSpecDecKernels.h"
#include <cpuid.h>
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18

static uint64_t read_xcr0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

uint32_t specdec_cpu_features(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx) return 0;
    const uint64_t xcr0 = read_xcr0();
    const int ymm_saved = (xcr0 & 0x6) == 0x6;
    const int zmm_saved = ymm_saved && (xcr0 & 0xe0) == 0xe0;
    const int tiles_saved = (xcr0 & (3u << 17)) == (3u << 17);
    if (__get_cpuid_max(0, 0) < 7) return 0;
    __cpuid_count(7, 0, a, b, c, d);
    const unsigned ebx7 = b, ecx7 = c, edx7 = d;
    __cpuid_count(7, 1, a, b, c, d);
    const unsigned eax71 = a;

    uint32_t features = 0;
    const int avx2 = (ebx7 >> 5) & 1;
    if (ymm_saved && avx2 && fma && f16c) features |= SPECDEC_CPU_AVX2;
    const int avx512 = ((ebx7 >> 16) & 1) && ((ebx7 >> 17) & 1) && ((ebx7 >> 30) & 1) && ((ebx7 >> 31) & 1);
    if ((features & SPECDEC_CPU_AVX2) && zmm_saved && avx512) {
        features |= SPECDEC_CPU_AVX512;
        if ((eax71 >> 5) & 1) features |= SPECDEC_CPU_AVX512_BF16;
        if ((ecx7 >> 11) & 1) features |= SPECDEC_CPU_AVX512_VNNI;
        const int amx = ((edx7 >> 22) & 1) && ((edx7 >> 24) & 1) && ((edx7 >> 25) & 1);
        if (amx && tiles_saved && (features & SPECDEC_CPU_AVX512_BF16)) features |= SPECDEC_CPU_AMX;
    }
    return features;
}

int specdec_amx_request_permission(void) {
    if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0) return 0;
    return errno ? errno : EPERM;
}
