#include "CSpecDecShims.h"
#include <string.h>

/* Compiled for the baseline ISA so that the check itself runs on any x86-64 CPU. */
__attribute__((target("arch=x86-64")))
/* The instructions this build was compiled to assume (Package.swift's SPECDEC_TARGET_CPU). */
#ifdef SPECDEC_BASELINE_AVX2
int specdec_cpu_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
const char *specdec_cpu_requirement(void) { return "AVX2 and FMA"; }
#else
int specdec_cpu_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("fma");
}
const char *specdec_cpu_requirement(void) { return "AVX-512 (F/BW/DQ/VL) and FMA"; }
#endif

static _Thread_local char thread_error[1024];

void specdec_thread_error_set(const char *message) {
    if (!message) message = "";
    strncpy(thread_error, message, sizeof thread_error - 1);
    thread_error[sizeof thread_error - 1] = '\0';
}

const char *specdec_thread_error_get(void) { return thread_error; }
