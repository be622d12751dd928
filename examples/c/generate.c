/*
 * generate.c — a minimal C99 host for libspecdec.
 *
 *   generate MODEL_DIR id,id,id [max_new_tokens]
 *
 * Loads the model, generates greedily from the given prompt ids (used verbatim: no
 * BOS is added), streams each generated id to stdout through the token callback and
 * ends the line when done: the output is the generated ids, comma-separated, on one
 * line. Statistics and the session's arena backend go to stderr. Every status is
 * checked; on failure the library's detailed message is printed and the exit status
 * is 1 (2 for usage errors).
 *
 * Built by the Makefile beside it, which also links jemalloc at start-up so that the
 * session's arena comes from jemalloc (libspecdec uses it when the host has it loaded).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "specdec.h"
#include "example_support.h"

struct stream_state {
    int32_t expected_index; /* the callback checks it is called in order */
    int32_t *seen;          /* the ids it was given, compared with the result */
    int32_t cap;
};

/* Streaming callback: prints each id as it is generated. */
static int32_t on_token(void *user_data, int32_t token, int32_t index) {
    struct stream_state *state = user_data;
    if (index != state->expected_index) {
        fprintf(stderr, "error: callback index %d, expected %d\n", (int)index, (int)state->expected_index);
        return -1; /* reported by specdec_generate as SPECDEC_ERR_CALLBACK */
    }
    if (index >= state->cap) {
        fprintf(stderr, "error: callback index %d beyond max_new_tokens\n", (int)index);
        return -1;
    }
    state->seen[index] = token;
    printf("%s%d", index == 0 ? "" : ",", (int)token);
    fflush(stdout);
    state->expected_index++;
    return SPECDEC_CALLBACK_CONTINUE;
}

int main(int argc, char **argv) {
    const char *model_dir;
    int32_t *prompt = NULL;
    int32_t n_prompt = 0;
    int32_t *out = NULL;
    int32_t n_out = 0;
    long max_new_tokens = 32;
    int exit_code = 1;
    specdec_status status;
    specdec_model_t *model = NULL;
    specdec_session_t *session = NULL;
    specdec_session_params_t sparams;
    specdec_generate_params_t gparams;
    specdec_model_info_t info;
    specdec_stats_t stats;
    struct stream_state stream;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s MODEL_DIR id,id,id [max_new_tokens]\n", argv[0]);
        return 2;
    }
    model_dir = argv[1];
    if (parse_ids(argv[2], &prompt, &n_prompt) != 0) {
        return 2;
    }
    if (argc == 4 && parse_long(argv[3], 0, INT32_MAX, &max_new_tokens) != 0) {
        fprintf(stderr, "error: bad max_new_tokens \"%s\"\n", argv[3]);
        free(prompt);
        return 2;
    }

    /* A library older than this header lacks parts of the contract. */
    if (specdec_abi_version() < SPECDEC_ABI_VERSION) {
        fprintf(stderr, "error: libspecdec %s has ABI %u, this program needs %d\n",
                specdec_version_string(), (unsigned)specdec_abi_version(), SPECDEC_ABI_VERSION);
        goto done;
    }

    status = specdec_model_load(model_dir, NULL, &model);
    if (status != SPECDEC_OK) {
        report("specdec_model_load", status, NULL);
        goto done;
    }
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    status = specdec_model_get_info(model, &info);
    if (status != SPECDEC_OK) {
        report("specdec_model_get_info", status, NULL);
        goto done;
    }

    sparams = specdec_session_default_params(); /* arena AUTO: jemalloc if loaded */
    status = specdec_session_create(model, &sparams, &session);
    if (status != SPECDEC_OK) {
        report("specdec_session_create", status, NULL);
        goto done;
    }

    gparams = specdec_generate_default_params();
    gparams.max_new_tokens = (int32_t)max_new_tokens;
    gparams.temperature = 0.0f; /* greedy */
    gparams.stop_at_eos = 0;
    out = malloc((size_t)(max_new_tokens > 0 ? max_new_tokens : 1) * 2 * sizeof *out);
    if (out == NULL) {
        fprintf(stderr, "error: out of memory\n");
        goto done;
    }
    stream.expected_index = 0;
    stream.seen = out + (max_new_tokens > 0 ? max_new_tokens : 1);
    stream.cap = (int32_t)max_new_tokens;
    gparams.callback = on_token;
    gparams.callback_user_data = &stream;
    status = specdec_generate(session, prompt, n_prompt, &gparams, out, (int32_t)max_new_tokens, &n_out);
    printf("\n");
    fflush(stdout);
    if (status != SPECDEC_OK) {
        report("specdec_generate", status, session);
        goto done;
    }
    if (n_out != stream.expected_index || memcmp(out, stream.seen, (size_t)n_out * sizeof *out) != 0) {
        fprintf(stderr, "error: the %d ids returned differ from the %d streamed\n", (int)n_out,
                (int)stream.expected_index);
        goto done;
    }

    memset(&stats, 0, sizeof stats);
    stats.struct_size = sizeof stats;
    status = specdec_session_get_stats(session, &stats);
    if (status != SPECDEC_OK) {
        report("specdec_session_get_stats", status, session);
        goto done;
    }
    fprintf(stderr, "libspecdec %s (ABI %u), model %s (%s, vocab %d, %lld parameters)\n",
            specdec_version_string(), (unsigned)specdec_abi_version(), model_dir, specdec_model_type(model),
            (int)info.vocab_size, (long long)info.num_parameters);
    fprintf(stderr, "prompt %d tokens (%d reused), generated %d, stop: %s\n", (int)stats.prompt_tokens,
            (int)stats.reused_tokens, (int)stats.generated_tokens, stop_reason_name(stats.stop_reason));
    fprintf(stderr, "prefill %.6f s (%.1f tok/s), decode %.6f s (%.1f tok/s)\n", stats.prefill_seconds,
            stats.prefill_tokens_per_second, stats.decode_seconds, stats.decode_tokens_per_second);
    fprintf(stderr, "arena backend: %s\n", specdec_session_arena_backend(session));
    exit_code = 0;

done:
    specdec_session_destroy(session); /* NULL is a no-op */
    specdec_model_destroy(model);
    free(out);
    free(prompt);
    return exit_code;
}
