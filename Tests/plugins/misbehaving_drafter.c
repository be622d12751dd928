/*
 * misbehaving_drafter.c — drafter plugins that break the contract of specdec_plugin.h,
 * one way each, chosen at compile time with -DFAULT=<n> (see examples/c/test.sh):
 *
 *   1 ENTRY_NULL     the entry point serves no ABI version (returns NULL)
 *   2 NEWER_ABI      the vtable claims a plugin ABI newer than the host's
 *   3 SMALL_STRUCT   the vtable's struct_size covers less than its required members
 *   4 NO_PROPOSE     the required propose function is missing
 *   5 OUT_OF_RANGE   propose returns a token id equal to the vocabulary size
 *   6 TOO_MANY       propose claims one token more than it was asked for
 *   7 NEGATIVE       propose claims a negative token count
 *   8 FAILING        propose returns a failure status
 *   9 BAD_PARENT     propose returns a node whose parent comes after it
 *
 * Each must give the host a status and a message, and leave its session usable.
 */
#include <stddef.h>

#include "specdec_plugin.h"

#ifndef FAULT
#error "build with -DFAULT=<1..9>"
#endif

static int32_t propose(void *instance, const specdec_draft_request_t *request, specdec_draft_output_t *output) {
    int32_t i, n = request->max_tokens < 2 ? request->max_tokens : 2;
    (void)instance;
    for (i = 0; i < n; i++) {
        output->tokens[i] = request->tokens[request->n_tokens - 1];
        output->parents[i] = i - 1;
    }
    output->n_tokens = n;
    switch (FAULT) {
    case 5: output->tokens[0] = request->vocab_size; output->n_tokens = n > 0 ? n : 1; break;
    case 6: output->n_tokens = request->max_tokens + 1; break;
    case 7: output->n_tokens = -1; break;
    case 8: return -3;
    case 9: if (n > 0) { output->parents[0] = 1; output->n_tokens = 2; } break;
    default: break;
    }
    return 0;
}

static void *create(const char *config) {
    static int instance;
    (void)config;
    return &instance;
}

static const specdec_drafter_vtable_t vtable = {
    FAULT == 3 ? 8 : (uint32_t)sizeof(specdec_drafter_vtable_t),
    FAULT == 2 ? SPECDEC_PLUGIN_ABI_VERSION + 1 : SPECDEC_PLUGIN_ABI_VERSION,
    FAULT == 4 ? NULL : propose,
    NULL, NULL, create, NULL,
};

__attribute__((visibility("default")))
const specdec_drafter_vtable_t *specdec_plugin_entry(uint32_t abi_version, const specdec_host_api_t *host) {
    (void)abi_version;
    (void)host;
    return FAULT == 1 ? NULL : &vtable;
}
