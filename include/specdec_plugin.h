/*
 * specdec_plugin.h — what drafter and verifier authors implement.
 *
 * A drafter proposes tokens; libspecdec's target model (or a host verifier) checks them
 * in one pass. Hosts register a drafter directly (specdec_drafter_create: a C function
 * table, a Python function through ctypes, a Rust closure) or ship it as a shared object
 * that exports one entry symbol (specdec_drafter_load_plugin). A plugin does not link
 * libspecdec: what it needs from the host comes in `specdec_host_api_t`.
 *
 * Every vtable starts with `struct_size` and `abi_version`, then required function
 * pointers, then optional ones (NULL allowed). New members are only ever appended;
 * libspecdec reads only what `struct_size` covers.
 *
 * Returning a negative value from any callback reports a failure: generation ends with
 * SPECDEC_ERR_CALLBACK and the session stays usable. Callbacks must not unwind (a C++
 * exception, a Rust panic, a Python exception) across this boundary.
 */
#ifndef SPECDEC_PLUGIN_H
#define SPECDEC_PLUGIN_H

#include "specdec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the vtables below; a plugin compiled against a newer one is refused. */
#define SPECDEC_PLUGIN_ABI_VERSION 1

/* What a drafter is asked. All pointers are borrowed for the call. */
typedef struct specdec_draft_request {
    uint32_t struct_size;
    const int32_t *tokens;     /* the sequence so far: prompt then output; the last token
                                  is the newest, not yet verified by the target */
    int32_t n_tokens;
    int32_t n_prompt;          /* how many of `tokens` are prompt */
    const int32_t *source;     /* encoder input of an encoder-decoder target, else NULL */
    int32_t n_source;
    int32_t max_tokens;        /* most draft tokens wanted (capacity of the output arrays) */
    int32_t vocab_size;
    int32_t want_probabilities;/* 1: speculative sampling will use draft probabilities */
} specdec_draft_request_t;

/* Where a drafter writes its proposal. */
typedef struct specdec_draft_output {
    int32_t *tokens;           /* max_tokens entries */
    int32_t *parents;          /* max_tokens entries: parent node index, -1 for a node that
                                  follows the newest token; parents precede children; a
                                  chain is -1, 0, 1, 2, ... */
    float *probabilities;      /* when want_probabilities: max_tokens × vocab_size floats,
                                  row i = the distribution node i was sampled from; else NULL */
    int32_t n_tokens;          /* set by the drafter: 0..max_tokens (0 = nothing to propose) */
    int32_t has_probabilities; /* set to 1 by the drafter when it filled `probabilities` */
} specdec_draft_output_t;

typedef struct specdec_drafter_vtable {
    uint32_t struct_size;      /* sizeof(specdec_drafter_vtable_t) */
    uint32_t abi_version;      /* SPECDEC_PLUGIN_ABI_VERSION */
    /* Required. Called on the generating thread, one call at a time per instance.
     * Fill `output` (chain or tree); return 0, or a negative value on failure. */
    int32_t (*propose)(void *instance, const specdec_draft_request_t *request,
                       specdec_draft_output_t *output);
    /* Optional. A request starts (index the prompt, reset state). Return 0 or negative. */
    int32_t (*begin)(void *instance, const specdec_draft_request_t *request);
    /* Optional. The target accepted `path` (node indices of the last proposal, root
     * first) and appended `next_token`. */
    void (*accepted)(void *instance, const int32_t *path, int32_t n_path, int32_t next_token);
    /* Optional, for plugins: make an instance from a configuration string (may be NULL);
     * NULL on failure. */
    void *(*create)(const char *config);
    /* Optional: release an instance (called by specdec_drafter_destroy). */
    void (*destroy)(void *instance);
} specdec_drafter_vtable_t;

/* A target model implemented by the host, scored in one pass per round. */
typedef struct specdec_verifier_vtable {
    uint32_t struct_size;      /* sizeof(specdec_verifier_vtable_t) */
    uint32_t abi_version;      /* SPECDEC_PLUGIN_ABI_VERSION */
    /* Required. Run the prompt; write the logits of its last token (vocab_size floats). */
    int32_t (*prefill)(void *instance, const int32_t *tokens, int32_t n_tokens, float *logits);
    /* Required. Score tokens[0] (the newest token, not yet run) and the draft nodes
     * tokens[1..n_tokens-1]; parents[i] is node i's parent in the same numbering (-1
     * for tokens[0], 0 for first-level nodes), so node i sees tokens[0] and its
     * ancestors. Write n_tokens rows of vocab_size logits: row i predicts what follows
     * tokens[i]. */
    int32_t (*score)(void *instance, const int32_t *tokens, const int32_t *parents,
                     int32_t n_tokens, float *logits);
    /* Required. Keep tokens[0] and the draft nodes `path` (indices into the last score
     * call's tokens, ascending, root first); forget the rest. */
    int32_t (*commit)(void *instance, const int32_t *path, int32_t n_path);
    /* Optional. Tokens the verifier can still take (NULL: unlimited). */
    int32_t (*remaining_capacity)(void *instance);
} specdec_verifier_vtable_t;

/* A tokenizer implemented by the host (for example Moses plus subword-nmt). */
typedef struct specdec_tokenizer_vtable {
    uint32_t struct_size;      /* sizeof(specdec_tokenizer_vtable_t) */
    uint32_t abi_version;      /* SPECDEC_PLUGIN_ABI_VERSION */
    /* Required. UTF-8 text (`len` bytes) to ids. When `cap` is too small, set *out_len to
     * the count needed and return SPECDEC_ERR_BUFFER_TOO_SMALL: the call is repeated with
     * a larger buffer. Other negative or positive returns are failures. */
    int32_t (*encode)(void *instance, const char *text, size_t len, int32_t add_special,
                      int32_t *ids, int32_t cap, int32_t *out_len);
    /* Required. Ids to UTF-8 text; the same buffer protocol (*out_len in bytes, no NUL). */
    int32_t (*decode)(void *instance, const int32_t *ids, int32_t n, int32_t skip_special,
                      char *buf, size_t cap, size_t *out_len);
    /* Optional: release the instance (called by specdec_tokenizer_destroy). */
    void (*destroy)(void *instance);
} specdec_tokenizer_vtable_t;

/* What the host offers a plugin (plugins do not link libspecdec). The table is static:
 * a plugin may keep the pointer for as long as it is loaded. */
typedef struct specdec_host_api {
    uint32_t struct_size;
    uint32_t abi_version;      /* the host's SPECDEC_ABI_VERSION */
    const char *(*status_string)(specdec_status status);
    uint32_t (*version_number)(void);
} specdec_host_api_t;

/* The one symbol a plugin exports. Return the drafter vtable for `abi_version` (the
 * host's SPECDEC_PLUGIN_ABI_VERSION), or NULL when the plugin cannot serve it. The
 * returned table must stay valid while the plugin is loaded. */
#define SPECDEC_PLUGIN_ENTRY_SYMBOL "specdec_plugin_entry"
typedef const specdec_drafter_vtable_t *(*specdec_plugin_entry_fn)(uint32_t abi_version,
                                                                   const specdec_host_api_t *host);

#ifdef __cplusplus
}
#endif

#endif /* SPECDEC_PLUGIN_H */
