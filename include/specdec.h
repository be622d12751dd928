/*
 * specdec.h — the public C contract of libspecdec.
 *
 * libspecdec is a speculative-decoding engine for Transformer models, embedded
 * in-process. If a declaration is not in this header, it is not API.
 *
 * Conventions
 *   - Every fallible function returns specdec_status (SPECDEC_OK == 0). Outputs go
 *     through out-parameters placed last; on failure they are left untouched unless a
 *     function says otherwise.
 *   - A detailed message for the most recent failure on the calling thread is
 *     available from specdec_last_error_message(); a session also keeps its own
 *     (specdec_session_error_message()). Both stay valid until the next call that
 *     fails on that thread / session.
 *   - Params structs start with `struct_size`. Obtain them from the matching
 *     *_default_params() function and change what you need; the library reads only
 *     the fields that `struct_size` covers, so code compiled against an older
 *     header keeps working. Enumerations in structs are stored as int32_t.
 *   - Ownership: pointer arguments are borrowed for the duration of the call only.
 *     Strings returned as `const char *` are owned by the library. Variable-size
 *     output goes into caller buffers (`buf`, `cap`, `*out_len`); when `cap` is too
 *     small the call fails with SPECDEC_ERR_BUFFER_TOO_SMALL and writes the needed
 *     size to `*out_len`.
 *   - Threading: a loaded model is immutable and may be shared by any number of
 *     threads and sessions. A session serves one call at a time: a call that changes
 *     a session (generate, eval, truncate, reset, set_source, beam search) made while
 *     another call on it is in progress, from a second thread or re-entrantly from one
 *     of its own callbacks, fails with SPECDEC_ERR_INVALID_ARGUMENT ("the session is
 *     busy", in specdec_last_error_message; the session's own message is left to the
 *     call in progress, which finishes unaffected). The calls that only read a session
 *     (specdec_session_length, _capacity, _arena_backend, _error_message, _tokens,
 *     _get_stats, _acceptance_by_depth, _text) may be made from its callbacks; the
 *     statistics of the request in progress are complete once it returns. Destroying a
 *     session from its own callback takes effect when the call returns. A drafter
 *     (specdec_drafter_t) likewise serves one request at a time.
 *   - Nothing in this API aborts the process on bad input: invalid pointers that are
 *     NULL, out-of-range ids, undersized buffers and malformed files all return a
 *     status. Files that lie (config.json dimensions of 2^24 or more, or positions of
 *     2^20 or more for encoder-decoder models; tensor offsets or header lengths past
 *     the end of the file; shapes whose size overflows or disagrees with the config)
 *     are refused with SPECDEC_ERR_FORMAT or SPECDEC_ERR_SHAPE before anything is
 *     sized from them. A request for more memory than the machine has (a session
 *     arena larger than physical memory, a file read with use_mmap = 0 that is larger
 *     than memory) is SPECDEC_ERR_OUT_OF_MEMORY, checked up front: Linux overcommits,
 *     so such a mapping could succeed and fail only later, when touched.
 *
 * Changelog of the contract
 *   ABI 1 (0.1.0): versions, statuses, models, sessions, eval/truncate, generate.
 *   ABI 2 (0.2.0): speculative decoding (drafters, acceptance rules, statistics),
 *                  host drafters and verifiers through vtables (specdec_plugin.h),
 *                  drafter plugins loaded from shared objects. specdec_stats_t grew
 *                  fields at its end. Tokenizers (tokenizer.json, SentencePiece), text
 *                  generation with streamed text, host tokenizers;
 *                  SPECDEC_ERR_INVALID_UTF8.
 *   ABI 3 (0.3.0): weight precision (fp32, bf16, int8) and kernel path chosen at load
 *                  (specdec_model_params_t grew weight_precision and kernel_path;
 *                  specdec_model_info_t grew the same plus weight_bytes);
 *                  specdec_kernel_path_name, specdec_kernel_path_supported.
 *   ABI 4 (0.4.0): batched decoding: specdec_generate_batch, specdec_beam_search_batch,
 *                  specdec_batch_params_t; specdec_session_params_t grew max_sequences.
 */
#ifndef SPECDEC_H
#define SPECDEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SPECDEC_API __attribute__((visibility("default")))
#else
#define SPECDEC_API
#endif

/* ------------------------------------------------------------------------- */
/* Versions                                                                   */
/* ------------------------------------------------------------------------- */

#define SPECDEC_VERSION_MAJOR 0
#define SPECDEC_VERSION_MINOR 4
#define SPECDEC_VERSION_PATCH 0
#define SPECDEC_VERSION_NUMBER \
    (SPECDEC_VERSION_MAJOR * 10000 + SPECDEC_VERSION_MINOR * 100 + SPECDEC_VERSION_PATCH)
#define SPECDEC_VERSION_STRING "0.4.0"

/* Bumped whenever the contract changes (append-only: a higher ABI version is a
 * superset of every lower one). */
#define SPECDEC_ABI_VERSION 4

/* Runtime twins of the macros above: compare them to detect a library that is
 * older than the header you compiled against. Thread-safe, cannot fail. */
SPECDEC_API uint32_t specdec_version_number(void);
SPECDEC_API const char *specdec_version_string(void);
SPECDEC_API uint32_t specdec_abi_version(void);

/* ------------------------------------------------------------------------- */
/* Status codes (values are pinned forever)                                   */
/* ------------------------------------------------------------------------- */

typedef int32_t specdec_status;

#define SPECDEC_OK                        0
#define SPECDEC_ERR_INVALID_ARGUMENT      1  /* NULL pointer, negative count, bad parameter value */
#define SPECDEC_ERR_IO                    2  /* missing directory or file, unreadable file */
#define SPECDEC_ERR_FORMAT                3  /* invalid JSON, corrupt or truncated safetensors */
#define SPECDEC_ERR_UNSUPPORTED           4  /* unknown architecture, dtype or feature */
#define SPECDEC_ERR_SHAPE                 5  /* missing tensor, or tensor with wrong shape or dtype */
#define SPECDEC_ERR_TOKEN_OUT_OF_RANGE    6  /* a token id < 0 or >= vocabulary size */
#define SPECDEC_ERR_BUFFER_TOO_SMALL      7  /* caller buffer too small; needed size reported */
#define SPECDEC_ERR_CAPACITY              8  /* request does not fit the session's KV capacity */
#define SPECDEC_ERR_OUT_OF_MEMORY         9  /* an allocation or mapping failed */
#define SPECDEC_ERR_CANCELLED            10  /* reserved: cancellation reported as an error */
#define SPECDEC_ERR_CALLBACK             11  /* a host callback reported failure */
#define SPECDEC_ERR_INTERNAL             12  /* a bug in libspecdec; please report it */
#define SPECDEC_ERR_INVALID_UTF8         13  /* text input that is not valid UTF-8 (ABI 2) */

/* Static, human-readable text for a status code ("unknown status" for codes this
 * library does not know). Never NULL. Thread-safe. */
SPECDEC_API const char *specdec_status_string(specdec_status status);

/* Detailed message of the most recent failed call made on this thread, or "" if
 * none. Owned by the library; valid until the next failing call on this thread. */
SPECDEC_API const char *specdec_last_error_message(void);

/* ------------------------------------------------------------------------- */
/* Models                                                                     */
/* ------------------------------------------------------------------------- */

/* A loaded model: immutable after load, shareable across threads and sessions. */
typedef struct specdec_model specdec_model_t;

/* Weight precision of the projections (specdec_model_params_t.weight_precision). */
#define SPECDEC_WEIGHTS_AUTO 0  /* as stored: fp32 stays fp32; fp16/bf16 used in 16 bits, fp32 activations */
#define SPECDEC_WEIGHTS_FP32 1  /* widened to fp32 at load */
#define SPECDEC_WEIGHTS_BF16 2  /* bf16 weights and activations, fp32 sums */
#define SPECDEC_WEIGHTS_INT8 3  /* int8, per-output-row scales; activations quantised per row */

/* Kernel paths (specdec_model_params_t.kernel_path). AUTO takes the environment
 * variable SPECDEC_KERNEL_PATH (a name below) when set, else the fastest path the CPU
 * and the OS allow. Forcing a path the CPU lacks fails with SPECDEC_ERR_UNSUPPORTED. */
#define SPECDEC_KERNELS_AUTO        0
#define SPECDEC_KERNELS_PORTABLE    1  /* "portable": baseline x86-64 */
#define SPECDEC_KERNELS_AVX2        2  /* "avx2": AVX2 + FMA + F16C */
#define SPECDEC_KERNELS_AVX512      3  /* "avx512": AVX-512 F/BW/DQ/VL */
#define SPECDEC_KERNELS_AVX512_BF16 4  /* "avx512_bf16": AVX512_BF16 and AVX-512 VNNI */
#define SPECDEC_KERNELS_AMX         5  /* "amx": AMX tiles for 2+ positions */

typedef struct specdec_model_params {
    uint32_t struct_size;     /* sizeof(specdec_model_params_t) */
    int32_t use_mmap;         /* 1 (default): map weight files; 0: read them into memory
                                 (see specdec_model_load) */
    /* ABI 3 */
    int32_t weight_precision; /* SPECDEC_WEIGHTS_* (default AUTO) */
    int32_t kernel_path;      /* SPECDEC_KERNELS_* (default AUTO) */
} specdec_model_params_t;

/* Defaults for specdec_model_load. Thread-safe, cannot fail. */
SPECDEC_API specdec_model_params_t specdec_model_default_params(void);

/* Loads a model from a Hugging Face directory: config.json plus model.safetensors,
 * or a sharded model.safetensors.index.json with its shards (decoder-only, Marian/BART,
 * or a SpecDec Spec-Drafter exported by training/export_drafter.py). fp32 weights are
 * memory-mapped; projection weights are packed once at load in the precision
 * `params->weight_precision` asks for (norms, biases and embeddings stay fp32).
 *   dir:       borrowed, NUL-terminated path.
 *   params:    borrowed; NULL means specdec_model_default_params().
 *   out_model: receives a new model, to be released with specdec_model_destroy.
 * Errors: SPECDEC_ERR_IO (missing directory or file), SPECDEC_ERR_FORMAT (invalid
 * JSON, truncated or corrupt safetensors), SPECDEC_ERR_UNSUPPORTED (unknown
 * architecture or dtype, a kernel path this CPU lacks), SPECDEC_ERR_SHAPE (missing
 * tensor, wrong shape), SPECDEC_ERR_INVALID_ARGUMENT (unknown weight precision or
 * kernel path value, or an unknown SPECDEC_KERNEL_PATH name).
 * On failure *out_model is set to NULL. Thread-safe.
 * Mapped weight files (use_mmap = 1) must not change while the model lives: as with
 * any memory mapping, a file truncated on disk raises SIGBUS when a page past its new
 * end is touched. With use_mmap = 0 the weights are read into memory and the model no
 * longer depends on the file (a file larger than physical memory is then
 * SPECDEC_ERR_OUT_OF_MEMORY). Weights are not scanned for NaN or infinity: such
 * models load and give NaN logits, of which greedy decoding picks the first id that
 * compares larger than the ones before it (0 when all are NaN) and sampling an id
 * among its candidates; ids stay in range and sessions stay usable. */
SPECDEC_API specdec_status specdec_model_load(const char *dir,
                                              const specdec_model_params_t *params,
                                              specdec_model_t **out_model);

/* Releases the caller's reference to a model. NULL is a no-op. Sessions keep their
 * model alive, so it may be destroyed while sessions created from it (or sessions that
 * used it as a draft model) live: they keep working, and the model's memory is
 * released with the last of them. The pointer must not be used after this call. */
SPECDEC_API void specdec_model_destroy(specdec_model_t *model);

#define SPECDEC_ARCH_UNKNOWN 0
#define SPECDEC_ARCH_LLAMA   1  /* Llama, Mistral, Qwen2 */
#define SPECDEC_ARCH_GPT2    2
#define SPECDEC_ARCH_MARIAN  3  /* Marian / fairseq transformer (encoder-decoder, ABI 2) */
#define SPECDEC_ARCH_BART    4  /* BART (encoder-decoder, ABI 2) */
#define SPECDEC_ARCH_SPEC_DRAFTER 5  /* SpecDec's Spec-Drafter: a draft model only (ABI 2) */

typedef struct specdec_model_info {
    uint32_t struct_size;     /* set by the caller: sizeof(specdec_model_info_t) */
    int32_t architecture;     /* SPECDEC_ARCH_* */
    int32_t vocab_size;
    int32_t context_length;   /* maximum positions the model supports */
    int32_t hidden_size;
    int32_t num_layers;
    int32_t num_heads;
    int32_t num_kv_heads;
    int32_t bos_token_id;     /* -1 when the model has none */
    int32_t eos_token_id;     /* first EOS id, -1 when none */
    int32_t pad_token_id;     /* -1 when none */
    int64_t num_parameters;
    /* ABI 2 */
    int32_t is_encoder_decoder;     /* 1 for Marian/BART: generate with specdec_generate_seq2seq */
    int32_t source_vocab_size;      /* encoder-decoder: ids the source may use; else vocab_size */
    int32_t decoder_start_token_id; /* encoder-decoder: the token decoding starts from; else -1 */
    int32_t max_source_length;      /* encoder-decoder: longest source; else 0 */
    /* ABI 3 */
    int32_t weight_precision;       /* SPECDEC_WEIGHTS_* the model was loaded with */
    int32_t kernel_path;            /* SPECDEC_KERNELS_* in use (never AUTO) */
    int64_t weight_bytes;           /* bytes of projection weights one full pass streams */
} specdec_model_info_t;

/* Fills `*out_info` up to out_info->struct_size bytes (the caller sets it; a size
 * below 4 is SPECDEC_ERR_INVALID_ARGUMENT). Thread-safe. */
SPECDEC_API specdec_status specdec_model_get_info(const specdec_model_t *model,
                                                  specdec_model_info_t *out_info);

/* Name of a SPECDEC_KERNELS_* value ("auto", "portable", "avx2", "avx512",
 * "avx512_bf16", "amx"), or "unknown". Static text. Thread-safe. */
SPECDEC_API const char *specdec_kernel_path_name(int32_t kernel_path);

/* 1 when this CPU and OS can run `kernel_path` (AUTO always can), else 0. Thread-safe. */
SPECDEC_API int32_t specdec_kernel_path_supported(int32_t kernel_path);

/* Convenience getters; they return -1 when `model` is NULL. Thread-safe. */
SPECDEC_API int32_t specdec_model_vocab_size(const specdec_model_t *model);
SPECDEC_API int32_t specdec_model_context_length(const specdec_model_t *model);
SPECDEC_API int32_t specdec_model_bos_token(const specdec_model_t *model);
SPECDEC_API int32_t specdec_model_eos_token(const specdec_model_t *model);

/* All EOS ids of the model (config.json may list several), copied to `buf`.
 * Needed count in *out_len; SPECDEC_ERR_BUFFER_TOO_SMALL when cap is short. */
SPECDEC_API specdec_status specdec_model_eos_tokens(const specdec_model_t *model,
                                                    int32_t *buf, int32_t cap,
                                                    int32_t *out_len);

/* Short architecture name from config.json ("llama", "mistral", "qwen2", "gpt2"),
 * owned by the model; "" when model is NULL. */
SPECDEC_API const char *specdec_model_type(const specdec_model_t *model);

/* ------------------------------------------------------------------------- */
/* Sessions                                                                   */
/* ------------------------------------------------------------------------- */

/* A session holds one sequence's KV cache, scratch memory, sampler state and the
 * statistics of its last request. Its memory is allocated once, at creation, from
 * an arena; nothing is allocated per token. One thread at a time. */
typedef struct specdec_session specdec_session_t;

#define SPECDEC_ARENA_AUTO     0  /* jemalloc when usable in this process, else mmap */
#define SPECDEC_ARENA_JEMALLOC 1  /* fail with SPECDEC_ERR_UNSUPPORTED if unusable */
#define SPECDEC_ARENA_MMAP     2  /* anonymous memory mapping */

typedef struct specdec_session_params {
    uint32_t struct_size;     /* sizeof(specdec_session_params_t) */
    int32_t kv_capacity;      /* tokens the KV cache holds; 0 = model context length */
    int32_t n_threads;        /* compute threads; 0 = one per online CPU (max 64) */
    int32_t arena_backend;    /* SPECDEC_ARENA_*, default AUTO */
    int32_t max_batch;        /* most tokens one eval call may score; default 64 */
    /* ABI 4 */
    int32_t max_sequences;    /* sequences a batch call decodes together, 1..max_batch;
                                 default 1. Each gets a KV cache of kv_capacity (and, for
                                 encoder-decoder models, its encoded source), allocated with
                                 the session. */
} specdec_session_params_t;

SPECDEC_API specdec_session_params_t specdec_session_default_params(void);

/* Creates a session on `model` (the session keeps the model alive: see
 * specdec_model_destroy). An mmap arena's pages are committed only as the cache fills.
 * jemalloc is usable when the host process already has it loaded (linked at
 * start-up or LD_PRELOADed); a late dlopen of Debian's jemalloc fails on its
 * static-TLS use, so hosts such as Python fall back to mmap under AUTO.
 * Errors: SPECDEC_ERR_INVALID_ARGUMENT, SPECDEC_ERR_CAPACITY (kv_capacity above the
 * model's context length), SPECDEC_ERR_OUT_OF_MEMORY (the arena would be larger than
 * physical memory, whatever the context allows: ask for a smaller kv_capacity; or the
 * allocation failed), SPECDEC_ERR_UNSUPPORTED
 * (backend JEMALLOC requested but unavailable). On failure *out_session is NULL. */
SPECDEC_API specdec_status specdec_session_create(const specdec_model_t *model,
                                                  const specdec_session_params_t *params,
                                                  specdec_session_t **out_session);

/* Releases a session and its arena. NULL is a no-op. */
SPECDEC_API void specdec_session_destroy(specdec_session_t *session);

/* Empties the KV cache and clears statistics; keeps the memory. */
SPECDEC_API specdec_status specdec_session_reset(specdec_session_t *session);

/* Tokens currently held in the KV cache; -1 when session is NULL. */
SPECDEC_API int32_t specdec_session_length(const specdec_session_t *session);
/* KV capacity in tokens; -1 when session is NULL. */
SPECDEC_API int32_t specdec_session_capacity(const specdec_session_t *session);

/* "jemalloc" or "mmap": the arena backend this session's memory comes from. */
SPECDEC_API const char *specdec_session_arena_backend(const specdec_session_t *session);

/* Message of the session's most recent failure ("" if none). Owned by the session;
 * valid until the next call on the session. */
SPECDEC_API const char *specdec_session_error_message(const specdec_session_t *session);

/* Copies the token ids held in the KV cache (in cache order) to `buf`. */
SPECDEC_API specdec_status specdec_session_tokens(const specdec_session_t *session,
                                                  int32_t *buf, int32_t cap,
                                                  int32_t *out_len);

/* Drops cached tokens beyond `length` (0 <= length <= current length). Cheap: the
 * cache only moves its end. Speculative decoding rolls back rejected drafts so. */
SPECDEC_API specdec_status specdec_session_truncate(specdec_session_t *session,
                                                    int32_t length);

/* Runs the model over `n_tokens` new tokens, appending them to the KV cache, and
 * writes each position's logits (n_tokens rows of vocab_size floats, row-major).
 *   tokens:    n_tokens >= 1 ids in [0, vocab_size).
 *   positions: n_tokens position ids, or NULL for length, length+1, ...
 *              Token i attends to every cached token and to new tokens 0..i.
 *   logits:    caller buffer of `logits_cap` floats, or NULL to only fill the cache.
 * Errors: SPECDEC_ERR_TOKEN_OUT_OF_RANGE, SPECDEC_ERR_CAPACITY (cache would
 * overflow, or n_tokens > max_batch), SPECDEC_ERR_BUFFER_TOO_SMALL (needs
 * n_tokens * vocab_size floats). Arguments are checked before any work, so a failed
 * call leaves the cache unchanged. */
SPECDEC_API specdec_status specdec_session_eval(specdec_session_t *session,
                                                const int32_t *tokens,
                                                const int32_t *positions,
                                                int32_t n_tokens,
                                                float *logits,
                                                size_t logits_cap);

/* ------------------------------------------------------------------------- */
/* Generation                                                                 */
/* ------------------------------------------------------------------------- */

/* Streaming callback, called once per generated token, on the thread that called
 * specdec_generate. `index` counts generated tokens from 0.
 * Return SPECDEC_CALLBACK_CONTINUE to go on, SPECDEC_CALLBACK_STOP to end
 * generation normally (the token is kept), or any negative value to report a
 * failure: generation then ends with SPECDEC_ERR_CALLBACK. */
typedef int32_t (*specdec_token_callback)(void *user_data, int32_t token, int32_t index);

#define SPECDEC_CALLBACK_CONTINUE 0
#define SPECDEC_CALLBACK_STOP     1

typedef struct specdec_generate_params {
    uint32_t struct_size;          /* sizeof(specdec_generate_params_t) */
    int32_t max_new_tokens;        /* default 128 */
    float temperature;             /* 0 (default) = greedy; > 0 samples */
    int32_t top_k;                 /* 0 (default) = off */
    float top_p;                   /* 1 (default) = off; (0, 1] */
    float min_p;                   /* 0 (default) = off; [0, 1] */
    float repetition_penalty;      /* 1 (default) = off; > 0, as in HF transformers */
    uint64_t seed;                 /* sampling seed; default 0 */
    const int32_t *stop_tokens;    /* borrowed for the call; may be NULL */
    int32_t n_stop_tokens;
    int32_t stop_at_eos;           /* 1 (default): the model's EOS ids also stop */
    specdec_token_callback callback; /* may be NULL */
    void *callback_user_data;
} specdec_generate_params_t;

SPECDEC_API specdec_generate_params_t specdec_generate_default_params(void);

#define SPECDEC_STOP_NONE        0
#define SPECDEC_STOP_MAX_TOKENS  1  /* max_new_tokens reached */
#define SPECDEC_STOP_TOKEN       2  /* a stop or EOS token was generated (it is kept) */
#define SPECDEC_STOP_CALLBACK    3  /* the callback returned SPECDEC_CALLBACK_STOP */
#define SPECDEC_STOP_CAPACITY    4  /* the KV cache is full */
#define SPECDEC_STOP_ERROR       5  /* the request failed */

/* Generates a continuation of `prompt` (n_prompt >= 1 ids, used verbatim: no BOS
 * is added). The session's cache is reused for the longest common prefix of the
 * cached tokens and the prompt; the rest is evaluated (prefill), then tokens are
 * generated until max_new_tokens, a stop/EOS token, the callback, or a full cache.
 *   out_tokens: caller buffer of `out_cap` >= max_new_tokens ids (checked first:
 *               otherwise SPECDEC_ERR_BUFFER_TOO_SMALL with *out_n_tokens set to
 *               max_new_tokens).
 *   out_n_tokens: receives the number of generated ids (prompt not included).
 * On SPECDEC_ERR_CALLBACK the tokens generated before the failure are in
 * out_tokens and counted in *out_n_tokens; the session stays usable. Errors before
 * prefill (bad ids, prompt longer than the capacity) leave the session unchanged. */
SPECDEC_API specdec_status specdec_generate(specdec_session_t *session,
                                            const int32_t *prompt, int32_t n_prompt,
                                            const specdec_generate_params_t *params,
                                            int32_t *out_tokens, int32_t out_cap,
                                            int32_t *out_n_tokens);

/* Statistics of the session's most recent specdec_generate call. */
typedef struct specdec_stats {
    uint32_t struct_size;          /* set by the caller: sizeof(specdec_stats_t) */
    int32_t prompt_tokens;         /* prompt length */
    int32_t reused_tokens;         /* prompt tokens found in the cache (not evaluated) */
    int32_t generated_tokens;
    int32_t stop_reason;           /* SPECDEC_STOP_* */
    double prefill_seconds;
    double decode_seconds;
    double prefill_tokens_per_second;
    double decode_tokens_per_second;
    /* ABI 2 */
    int32_t target_calls;          /* target forward passes after the prefill */
    int32_t drafted_tokens;        /* draft tokens scored by the target */
    int32_t accepted_tokens;       /* draft tokens kept */
    int32_t reserved0;
    double tokens_per_target_call; /* (generated - 1) / target_calls: 1 for plain decoding */
    double draft_seconds;          /* time in the drafter */
    double verify_seconds;         /* time in the target's scoring passes */
    double sample_seconds;         /* time in acceptance and sampling */
} specdec_stats_t;

/* Fills `*out_stats` up to out_stats->struct_size bytes (the caller sets it). */
SPECDEC_API specdec_status specdec_session_get_stats(const specdec_session_t *session,
                                                     specdec_stats_t *out_stats);

/* ------------------------------------------------------------------------- */
/* Speculative decoding (ABI 2)                                               */
/* ------------------------------------------------------------------------- */

/* Who drafts. */
#define SPECDEC_DRAFTER_NONE    0  /* plain decoding */
#define SPECDEC_DRAFTER_MODEL   1  /* `draft_model`, a smaller model with the same vocabulary (of the
                                      same family: encoder-decoder for encoder-decoder targets) */
#define SPECDEC_DRAFTER_NGRAM   2  /* prompt lookup: n-gram matches in the prompt and output */
#define SPECDEC_DRAFTER_SUFFIX  3  /* suffix tree over prompt, output and the session's earlier
                                      requests; proposes token trees */
#define SPECDEC_DRAFTER_CUSTOM  4  /* `custom_drafter`: a host vtable or a .so plugin */
#define SPECDEC_DRAFTER_SPECDEC 5  /* SpecDec's Spec-Drafter (`draft_model`, loaded from a
                                      specdec_drafter directory) for encoder-decoder targets:
                                      fills its k mask slots in one pass; draft_length must be
                                      the k it was trained with. Pair it with SPECDEC_ACCEPT_TOPK
                                      (Spec-Verification; beta 1 = greedy). */

/* How drafts are accepted. */
#define SPECDEC_ACCEPT_GREEDY   0  /* exact argmax match: output identical to greedy decoding */
#define SPECDEC_ACCEPT_SAMPLE   1  /* lossless speculative sampling: output follows the target's
                                      sampling distribution (temperature, top-k/p, min-p and
                                      repetition penalty all honoured) */
#define SPECDEC_ACCEPT_TOPK     2  /* SpecDec's top-beta / tolerance-tau rule; beta 1 = greedy */

/* A drafter supplied by the host (specdec_drafter_create) or a plugin
 * (specdec_drafter_load_plugin). Serves one request at a time: a request that names a
 * drafter already in use by another (another session's, on another thread) fails with
 * SPECDEC_ERR_INVALID_ARGUMENT. */
typedef struct specdec_drafter specdec_drafter_t;

typedef struct specdec_speculative_params {
    uint32_t struct_size;          /* sizeof(specdec_speculative_params_t) */
    int32_t drafter;               /* SPECDEC_DRAFTER_*, default NGRAM */
    int32_t acceptance;            /* SPECDEC_ACCEPT_*, default GREEDY */
    int32_t draft_length;          /* most draft tokens per round (k), default 5; 0 = plain */
    int32_t adaptive;              /* 1: adapt k to acceptance and fall back to plain steps when
                                      speculation does not pay; default 0 */
    int32_t top_beta;              /* TOPK: beta, default 5 */
    float tolerance_tau;           /* TOPK: tau, default 3 */
    int32_t ngram_min;             /* NGRAM: shortest match, default 1 */
    int32_t ngram_max;             /* NGRAM: longest match, default 3 */
    const specdec_model_t *draft_model;  /* MODEL: borrowed for the call */
    specdec_drafter_t *custom_drafter;   /* CUSTOM: borrowed for the call */
} specdec_speculative_params_t;

SPECDEC_API specdec_speculative_params_t specdec_speculative_default_params(void);

/* specdec_generate with speculative decoding: the drafter proposes up to draft_length
 * tokens (a chain or a tree), the session's model scores them in one pass, the
 * acceptance rule keeps a prefix (or a tree path) and the model's own next token is
 * appended. Everything specdec_generate says about prompts, buffers, callbacks and
 * failures holds. Statistics (specdec_session_get_stats) include the speculative fields.
 * Errors besides specdec_generate's: SPECDEC_ERR_INVALID_ARGUMENT (unknown drafter or
 * rule, draft_model or custom_drafter missing, draft and target vocabularies
 * incompatible, negative draft_length, custom_drafter busy with another request),
 * SPECDEC_ERR_CALLBACK (a custom drafter failed, or returned ids out of range, a
 * negative count, more tokens than asked or bad parent indices); the tokens produced
 * before such a failure are kept and the session stays usable. Draft probabilities
 * that are not a distribution (NaN, negative, all zero) are not checked: they change
 * which drafts are accepted, never the validity of the output ids. */
SPECDEC_API specdec_status specdec_generate_speculative(specdec_session_t *session,
                                                       const int32_t *prompt, int32_t n_prompt,
                                                       const specdec_generate_params_t *params,
                                                       const specdec_speculative_params_t *spec,
                                                       int32_t *out_tokens, int32_t out_cap,
                                                       int32_t *out_n_tokens);

/* Acceptance rate of the last request per draft depth (index 0 = first draft token),
 * copied to `rates`; needed count in *out_len. */
SPECDEC_API specdec_status specdec_session_acceptance_by_depth(const specdec_session_t *session,
                                                              double *rates, int32_t cap,
                                                              int32_t *out_len);

/* Host drafters, verifiers and tokenizers (vtables in specdec_plugin.h). */
struct specdec_drafter_vtable;
struct specdec_verifier_vtable;
struct specdec_tokenizer_vtable;

/* Wraps a host drafter. `vtable` must stay valid while the drafter lives; `instance` is
 * passed to every call. The vtable's `destroy`, if any, is called with `instance` by
 * specdec_drafter_destroy. Errors: SPECDEC_ERR_INVALID_ARGUMENT (NULL vtable or
 * propose, struct_size too small), SPECDEC_ERR_UNSUPPORTED (abi_version newer than this
 * library). */
SPECDEC_API specdec_status specdec_drafter_create(const struct specdec_drafter_vtable *vtable,
                                                  void *instance, specdec_drafter_t **out_drafter);

/* Loads a drafter plugin: dlopen(path, RTLD_NOW | RTLD_LOCAL), calls its exported
 * `specdec_plugin_entry` with SPECDEC_PLUGIN_ABI_VERSION and the host API, checks the
 * returned vtable's size and version, and creates an instance with vtable->create(config)
 * (config may be NULL). The shared object stays loaded until the drafter is destroyed.
 * Errors: SPECDEC_ERR_IO (cannot load), SPECDEC_ERR_FORMAT (no entry symbol),
 * SPECDEC_ERR_UNSUPPORTED (the plugin cannot serve this ABI), SPECDEC_ERR_CALLBACK
 * (create failed). */
SPECDEC_API specdec_status specdec_drafter_load_plugin(const char *path, const char *config,
                                                       specdec_drafter_t **out_drafter);

/* Releases a drafter (calls its destroy, unloads its plugin). NULL is a no-op. */
SPECDEC_API void specdec_drafter_destroy(specdec_drafter_t *drafter);

/* Speculative generation against a verifier the host implements (its own target
 * model), with libspecdec's drafters and acceptance rules. `spec->drafter` may be NGRAM,
 * SUFFIX or CUSTOM (MODEL needs a session-side target and is refused). Statistics go to
 * `out_stats` (may be NULL; the caller sets struct_size). Host verifier failures
 * (negative returns) end the call with SPECDEC_ERR_CALLBACK. */
SPECDEC_API specdec_status specdec_generate_with_verifier(const struct specdec_verifier_vtable *verifier,
                                                         void *instance, int32_t vocab_size,
                                                         const int32_t *prompt, int32_t n_prompt,
                                                         const specdec_generate_params_t *params,
                                                         const specdec_speculative_params_t *spec,
                                                         int32_t *out_tokens, int32_t out_cap,
                                                         int32_t *out_n_tokens,
                                                         specdec_stats_t *out_stats);

/* ------------------------------------------------------------------------- */
/* Encoder-decoder models (ABI 2)                                             */
/* ------------------------------------------------------------------------- */
/* A session on a Marian or BART model holds the encoded source, each decoder layer's
 * cross-attention keys and values (computed once per source) and the decoder's KV cache.
 * specdec_generate and specdec_generate_speculative refuse such sessions; the calls below
 * take a source. specdec_session_eval, _truncate, _tokens and _length work on the decoder
 * side (whose first token is the decoder start token) after specdec_session_set_source. */

/* Encodes `source` (ids below source_vocab_size, at most max_source_length of them;
 * skipped when it equals the current source) and empties the decoder cache.
 * Errors: SPECDEC_ERR_INVALID_ARGUMENT (decoder-only model), SPECDEC_ERR_CAPACITY,
 * SPECDEC_ERR_TOKEN_OUT_OF_RANGE. */
SPECDEC_API specdec_status specdec_session_set_source(specdec_session_t *session,
                                                     const int32_t *source, int32_t n_source);

/* Translates `source`: decoding starts from the decoder start token followed by the
 * forced target `prefix` (may be NULL with n_prefix 0); neither is part of the output.
 * Greedy or sampling per `params`; speculative when `spec` is not NULL (drafters see the
 * source: prompt lookup copies from it). Buffers, callbacks, statistics and failures as in
 * specdec_generate. */
SPECDEC_API specdec_status specdec_generate_seq2seq(specdec_session_t *session,
                                                   const int32_t *source, int32_t n_source,
                                                   const int32_t *prefix, int32_t n_prefix,
                                                   const specdec_generate_params_t *params,
                                                   const specdec_speculative_params_t *spec,
                                                   int32_t *out_tokens, int32_t out_cap,
                                                   int32_t *out_n_tokens);

#define SPECDEC_EARLY_STOP_HEURISTIC 0  /* transformers' early_stopping=False */
#define SPECDEC_EARLY_STOP_BEAMS     1  /* early_stopping=True: stop when num_beams hypotheses ended */
#define SPECDEC_EARLY_STOP_NEVER     2  /* early_stopping="never" */

typedef struct specdec_beam_params {
    uint32_t struct_size;          /* sizeof(specdec_beam_params_t) */
    int32_t beam_size;             /* default 4 */
    int32_t max_new_tokens;        /* default 128 */
    float length_penalty;          /* default 1: score = sum log p / length^penalty */
    int32_t early_stopping;        /* SPECDEC_EARLY_STOP_*, default HEURISTIC */
    int32_t num_return;            /* n-best size, 1..beam_size, default 1 */
} specdec_beam_params_t;

SPECDEC_API specdec_beam_params_t specdec_beam_default_params(void);

/* Beam search identical to transformers' generate(num_beams=...): writes up to
 * num_return hypotheses, best first: hypothesis i's ids at out_tokens[i * max_new_tokens]
 * (out_lengths[i] of them, EOS included when it ended with one), its score (length
 * penalised log-probability, transformers' sequences_scores) and whether it ended with
 * EOS. out_tokens holds num_return * max_new_tokens ids; the other arrays num_return.
 * *out_n_hypotheses receives the count written. */
SPECDEC_API specdec_status specdec_beam_search(specdec_session_t *session,
                                              const int32_t *source, int32_t n_source,
                                              const specdec_beam_params_t *params,
                                              int32_t *out_tokens, int32_t *out_lengths,
                                              float *out_scores, int32_t *out_ended_with_eos,
                                              int32_t *out_n_hypotheses);

/* ------------------------------------------------------------------------- */
/* Batched decoding (ABI 4)                                                   */
/* ------------------------------------------------------------------------- */

typedef struct specdec_batch_params {
    uint32_t struct_size;          /* sizeof(specdec_batch_params_t) */
    int32_t batch_size;            /* sequences decoded together; 0 (default) = the
                                      session's max_sequences; more is SPECDEC_ERR_CAPACITY */
    int32_t batch_tokens;          /* 0 (default) = off; else a sequence joins the batch only
                                      while the inputs decoding hold at most this many tokens
                                      (an input longer than that decodes alone) */
    int32_t reserved0;
    const uint64_t *seeds;         /* NULL (default): params->seed for every sequence; else
                                      n_inputs seeds, sequence i sampling with seeds[i] */
} specdec_batch_params_t;

SPECDEC_API specdec_batch_params_t specdec_batch_default_params(void);

/* Decodes many inputs in one call: prompts on a decoder-only session, sources on an
 * encoder-decoder session (as specdec_generate / specdec_generate_seq2seq with no
 * prefix). Input i is inputs[i] (input_lengths[i] ids). Greedy and sampling run up to
 * batch_size sequences with one model pass per token; a sequence that ends leaves the
 * batch and the next input takes its slot. SPECDEC_DRAFTER_SPECDEC on an encoder-decoder
 * session (not adaptive) is batched too: each round one Spec-Drafter pass drafts for every
 * sequence and one decoder pass verifies every draft. With the other drafters, adaptive
 * draft lengths or batch_size 1 the inputs are decoded one after another. Every sequence's
 * output equals what the one-sequence call gives for it (with its seed).
 *   out_tokens: n_inputs * max_new_tokens ids (out_cap at least that, checked first):
 *               sequence i's at out_tokens[i * max_new_tokens], out_lengths[i] of them.
 *   out_stop_reasons, out_statuses: n_inputs entries each, or NULL.
 * A bad input (empty, ids out of range, longer than the session or the model allows)
 * fails alone: its status goes to out_statuses[i], its length is 0, and the others are
 * decoded. The call returns SPECDEC_OK when every sequence succeeded, else the status of
 * the first that failed, with "sequence i: ..." in the message. An empty batch, a
 * batch_size above the session's max_sequences, or params->callback set (batch calls
 * stream nothing) fail before any work. specdec_session_get_stats then describes the
 * whole call (target_calls counts batched passes); the session's own cache is emptied. */
SPECDEC_API specdec_status specdec_generate_batch(specdec_session_t *session,
                                                 const int32_t *const *inputs, const int32_t *input_lengths,
                                                 int32_t n_inputs,
                                                 const specdec_generate_params_t *params,
                                                 const specdec_speculative_params_t *spec,
                                                 const specdec_batch_params_t *batch,
                                                 int32_t *out_tokens, int32_t out_cap, int32_t *out_lengths,
                                                 int32_t *out_stop_reasons, int32_t *out_statuses);

/* Beam search (as specdec_beam_search) for each of n_inputs sources, one after another.
 * Source i's hypotheses: out_n_hypotheses[i] of them, hypothesis j at
 * out_tokens[(i * num_return + j) * max_new_tokens] with out_lengths, out_scores and
 * out_ended_with_eos at [i * num_return + j]. Failures per source as in
 * specdec_generate_batch (out_statuses may be NULL). */
SPECDEC_API specdec_status specdec_beam_search_batch(specdec_session_t *session,
                                                    const int32_t *const *sources, const int32_t *source_lengths,
                                                    int32_t n_sources,
                                                    const specdec_beam_params_t *params,
                                                    int32_t *out_tokens, int32_t *out_lengths,
                                                    float *out_scores, int32_t *out_ended_with_eos,
                                                    int32_t *out_n_hypotheses, int32_t *out_statuses);

/* ------------------------------------------------------------------------- */
/* Tokenizers and text (ABI 2)                                                */
/* ------------------------------------------------------------------------- */

/* A tokenizer: Hugging Face tokenizer.json (BPE, byte-level BPE, Unigram, WordPiece),
 * SentencePiece .model, or Marian's source.spm/target.spm + vocab.json. Immutable and
 * shareable across threads. */
typedef struct specdec_tokenizer specdec_tokenizer_t;

/* Loads a tokenizer from a tokenizer.json, a .model file, or a model directory
 * (tokenizer.json, then tokenizer.model, then Marian's files).
 * Errors: SPECDEC_ERR_IO, SPECDEC_ERR_FORMAT (invalid JSON, corrupt .model),
 * SPECDEC_ERR_UNSUPPORTED (an unknown model type or component). */
SPECDEC_API specdec_status specdec_tokenizer_load(const char *path, specdec_tokenizer_t **out_tokenizer);

/* The tokenizer found in the model's directory (loaded with the model), as a new
 * reference the caller destroys. SPECDEC_ERR_UNSUPPORTED when the directory has none
 * (or it failed to load: the message says why). */
SPECDEC_API specdec_status specdec_model_get_tokenizer(const specdec_model_t *model,
                                                       specdec_tokenizer_t **out_tokenizer);

/* Wraps a host tokenizer (specdec_plugin.h); `instance` is passed to every call and to
 * the vtable's destroy. Ids must be below `vocab_size`. */
SPECDEC_API specdec_status specdec_tokenizer_create(const struct specdec_tokenizer_vtable *vtable,
                                                    void *instance, int32_t vocab_size,
                                                    specdec_tokenizer_t **out_tokenizer);

/* Releases a reference. NULL is a no-op. */
SPECDEC_API void specdec_tokenizer_destroy(specdec_tokenizer_t *tokenizer);

/* Vocabulary size (-1 for NULL). */
SPECDEC_API int32_t specdec_tokenizer_vocab_size(const specdec_tokenizer_t *tokenizer);

#define SPECDEC_TOKEN_BOS 0
#define SPECDEC_TOKEN_EOS 1
#define SPECDEC_TOKEN_PAD 2
#define SPECDEC_TOKEN_UNK 3
/* Id of a special token (SPECDEC_TOKEN_*), or -1 when the tokenizer has none. */
SPECDEC_API int32_t specdec_tokenizer_special_token(const specdec_tokenizer_t *tokenizer, int32_t which);

/* Text (UTF-8, `len` bytes, need not be NUL-terminated) to ids; `add_special` applies
 * the tokenizer's template (BOS/EOS). Any length is accepted; a tokenizer.json split
 * pattern whose backtracking search would exhaust the calling thread's stack or its
 * work budget stops matching at that point instead of failing. Errors: SPECDEC_ERR_INVALID_UTF8,
 * SPECDEC_ERR_BUFFER_TOO_SMALL (needed count in *out_len). */
SPECDEC_API specdec_status specdec_tokenize(const specdec_tokenizer_t *tokenizer, const char *text, size_t len,
                                           int32_t add_special, int32_t *ids, int32_t cap, int32_t *out_len);

/* Ids to UTF-8 text in `buf` (NUL-terminated when room allows; *out_len excludes the
 * NUL). Errors: SPECDEC_ERR_TOKEN_OUT_OF_RANGE, SPECDEC_ERR_BUFFER_TOO_SMALL. */
SPECDEC_API specdec_status specdec_detokenize(const specdec_tokenizer_t *tokenizer, const int32_t *ids, int32_t n,
                                             int32_t skip_special, char *buf, size_t cap, size_t *out_len);

/* The vocabulary entry of `id` as stored ("\u0120the", "\u2581the"), like detokenize's buffer rules. */
SPECDEC_API specdec_status specdec_token_to_piece(const specdec_tokenizer_t *tokenizer, int32_t id,
                                                 char *buf, size_t cap, size_t *out_len);

/* The id of a vocabulary entry (NUL-terminated); SPECDEC_ERR_INVALID_ARGUMENT if absent. */
SPECDEC_API specdec_status specdec_piece_to_token(const specdec_tokenizer_t *tokenizer, const char *piece,
                                                 int32_t *out_id);

/* Streamed text: called with each new piece of complete UTF-8 text (a character split
 * over several tokens arrives once whole). Return SPECDEC_CALLBACK_CONTINUE, _STOP, or a
 * negative value (failure: SPECDEC_ERR_CALLBACK). */
typedef int32_t (*specdec_text_callback)(void *user_data, const char *text, size_t len);

typedef struct specdec_text_params {
    uint32_t struct_size;                 /* sizeof(specdec_text_params_t) */
    const specdec_tokenizer_t *tokenizer; /* NULL: the model's own */
    int32_t add_special_tokens;           /* default 1: the template's BOS/EOS around the prompt */
    int32_t skip_special_tokens;          /* default 1: no special tokens in the output text */
    specdec_text_callback on_text;        /* may be NULL */
    void *user_data;
} specdec_text_params_t;

SPECDEC_API specdec_text_params_t specdec_text_default_params(void);

/* Generates from a text prompt (NUL-terminated UTF-8): encodes it, generates (plainly,
 * or speculatively when `spec` is not NULL), streams text pieces, and writes the
 * generated text to `out_text`. On an encoder-decoder session the prompt is the source:
 * it is encoded with the source tokenizer (Marian: source.spm) and the translation is
 * decoded with the target one. The text is NUL-terminated when room allows (*out_len
 * excludes the NUL). When `cap` is too small the call returns SPECDEC_ERR_BUFFER_TOO_SMALL with the
 * needed size, and the text stays available from specdec_session_text. Generated ids
 * are available from specdec_session_tokens and the statistics as usual. */
SPECDEC_API specdec_status specdec_generate_text(specdec_session_t *session, const char *prompt,
                                                const specdec_generate_params_t *params,
                                                const specdec_speculative_params_t *spec,
                                                const specdec_text_params_t *text_params,
                                                char *out_text, size_t cap, size_t *out_len);

/* The text of the session's last specdec_generate_text call. */
SPECDEC_API specdec_status specdec_session_text(const specdec_session_t *session, char *buf, size_t cap,
                                               size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif /* SPECDEC_H */
