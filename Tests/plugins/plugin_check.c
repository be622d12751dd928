/*
 * plugin_check.c — loads a drafter plugin and generates with it, expecting a status:
 *
 *   plugin_check MODEL_DIR PLUGIN.so EXPECTED_STATUS
 *
 * The plugin is loaded with specdec_drafter_load_plugin and, if that succeeds, used as
 * SPECDEC_DRAFTER_CUSTOM by specdec_generate_speculative. Whichever call fails must
 * return EXPECTED_STATUS with a message. Then the session must still be usable: plain
 * generation and prompt-lookup speculation both give the output plain generation gave
 * before. Prints the message and exits 0 when all holds, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "specdec.h"

#define N_NEW 24

static const int32_t prompt[] = {9, 10, 11, 12, 9, 10, 11, 12, 9, 10, 11, 12};
#define N_PROMPT ((int32_t)(sizeof prompt / sizeof prompt[0]))

static specdec_status run(specdec_session_t *session, const specdec_speculative_params_t *spec, int32_t *out, int32_t *n) {
    specdec_generate_params_t params = specdec_generate_default_params();
    params.max_new_tokens = N_NEW;
    params.stop_at_eos = 0;
    if (spec == NULL) {
        return specdec_generate(session, prompt, N_PROMPT, &params, out, N_NEW, n);
    }
    return specdec_generate_speculative(session, prompt, N_PROMPT, &params, spec, out, N_NEW, n);
}

int main(int argc, char **argv) {
    specdec_model_t *model = NULL;
    specdec_session_t *session = NULL;
    specdec_drafter_t *drafter = NULL;
    specdec_speculative_params_t spec = specdec_speculative_default_params();
    int32_t reference[N_NEW], out[N_NEW], n_reference = 0, n = 0;
    specdec_status status, expected;
    const char *message;
    int ok = 1;

    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL_DIR PLUGIN.so EXPECTED_STATUS\n", argv[0]);
        return 2;
    }
    expected = (specdec_status)atoi(argv[3]);
    if (specdec_model_load(argv[1], NULL, &model) != SPECDEC_OK ||
        specdec_session_create(model, NULL, &session) != SPECDEC_OK ||
        run(session, NULL, reference, &n_reference) != SPECDEC_OK) {
        fprintf(stderr, "setup failed: %s\n", specdec_last_error_message());
        return 1;
    }

    status = specdec_drafter_load_plugin(argv[2], NULL, &drafter);
    message = specdec_last_error_message();
    if (status == SPECDEC_OK) {
        spec.drafter = SPECDEC_DRAFTER_CUSTOM;
        spec.custom_drafter = drafter;
        status = run(session, &spec, out, &n);
        message = specdec_session_error_message(session);
    } else if (drafter != NULL) {
        fprintf(stderr, "a failed load left *out_drafter set\n");
        ok = 0;
    }
    printf("status %d: %s\n", (int)status, message);
    if (status != expected || message[0] == '\0') {
        fprintf(stderr, "expected status %d with a message\n", (int)expected);
        ok = 0;
    }

    /* The session is still usable, with the same results. */
    if (run(session, NULL, out, &n) != SPECDEC_OK || n != n_reference || memcmp(out, reference, sizeof(int32_t) * (size_t)n) != 0) {
        fprintf(stderr, "plain generation afterwards differs: %s\n", specdec_session_error_message(session));
        ok = 0;
    }
    spec = specdec_speculative_default_params();
    if (run(session, &spec, out, &n) != SPECDEC_OK || n != n_reference || memcmp(out, reference, sizeof(int32_t) * (size_t)n) != 0) {
        fprintf(stderr, "speculative generation afterwards differs: %s\n", specdec_session_error_message(session));
        ok = 0;
    }
    specdec_drafter_destroy(drafter);
    specdec_session_destroy(session);
    specdec_model_destroy(model);
    return ok ? 0 : 1;
}
