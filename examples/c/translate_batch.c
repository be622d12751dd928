/*
 * translate_batch.c — batched translation from C: many sentences, one call.
 *
 *   translate_batch MODEL_DIR BATCH_SIZE < sentences.txt
 *
 * Reads one sentence per line from stdin, tokenizes each with the model's tokenizer,
 * translates them all with specdec_generate_batch (BATCH_SIZE sequences decoded together:
 * the session is created with max_sequences = BATCH_SIZE) and prints one translation per
 * line, in order. A sentence that fails prints an empty line and its error on stderr; the
 * others are translated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "specdec.h"
#include "example_support.h"

#define MAX_LINES 4096
#define MAX_NEW_TOKENS 128

int main(int argc, char **argv) {
    specdec_model_t *model = NULL;
    specdec_session_t *session = NULL;
    specdec_tokenizer_t *tokenizer = NULL;
    int32_t *ids[MAX_LINES] = {0}, lengths[MAX_LINES], out_lengths[MAX_LINES], statuses[MAX_LINES];
    int32_t *out = NULL;
    int32_t n = 0;
    char line[8192], text[8192];
    long batch_size = 0;
    int exit_code = 1;
    specdec_status status;

    if (argc != 3 || parse_long(argv[2], 1, 4096, &batch_size) != 0) {
        fprintf(stderr, "usage: %s MODEL_DIR BATCH_SIZE < sentences.txt\n", argv[0]);
        return 2;
    }
    if ((status = specdec_model_load(argv[1], NULL, &model)) != SPECDEC_OK) {
        report("specdec_model_load", status, NULL);
        goto done;
    }
    if ((status = specdec_model_get_tokenizer(model, &tokenizer)) != SPECDEC_OK) {
        report("specdec_model_get_tokenizer", status, NULL);
        goto done;
    }
    specdec_session_params_t sp = specdec_session_default_params();
    sp.max_sequences = (int32_t)batch_size;
    if (batch_size > sp.max_batch) sp.max_batch = (int32_t)batch_size;
    if ((status = specdec_session_create(model, &sp, &session)) != SPECDEC_OK) {
        report("specdec_session_create", status, NULL);
        goto done;
    }
    while (n < MAX_LINES && fgets(line, sizeof line, stdin) != NULL) {
        size_t len = strcspn(line, "\r\n");
        int32_t count = 0;
        /* The count first (zero capacity), then the ids; EOS comes from the special tokens. */
        status = specdec_tokenize(tokenizer, line, len, 1, NULL, 0, &count);
        if (status != SPECDEC_OK && status != SPECDEC_ERR_BUFFER_TOO_SMALL) {
            report("specdec_tokenize", status, NULL);
            goto done;
        }
        ids[n] = malloc((size_t)(count > 0 ? count : 1) * sizeof(int32_t));
        if (ids[n] == NULL || specdec_tokenize(tokenizer, line, len, 1, ids[n], count, &lengths[n]) != SPECDEC_OK) {
            fprintf(stderr, "error: cannot tokenize line %d\n", (int)n + 1);
            goto done;
        }
        n++;
    }
    if (n == 0) {
        exit_code = 0;
        goto done;
    }
    out = malloc((size_t)n * MAX_NEW_TOKENS * sizeof *out);
    if (out == NULL) {
        fprintf(stderr, "error: out of memory\n");
        goto done;
    }
    specdec_generate_params_t gp = specdec_generate_default_params();
    gp.max_new_tokens = MAX_NEW_TOKENS;
    status = specdec_generate_batch(session, (const int32_t *const *)ids, lengths, n, &gp, NULL, NULL,
                                    out, n * MAX_NEW_TOKENS, out_lengths, NULL, statuses);
    if (status != SPECDEC_OK) {
        /* Either the call failed as a whole, or some sequences did (statuses[i] says which). */
        fprintf(stderr, "specdec_generate_batch: %s\n", specdec_last_error_message());
    }
    for (int32_t i = 0; i < n; i++) {
        size_t text_len = 0;
        text[0] = '\0';
        if (statuses[i] == SPECDEC_OK &&
            specdec_detokenize(tokenizer, out + (size_t)i * MAX_NEW_TOKENS, out_lengths[i], 1, text, sizeof text, &text_len) != SPECDEC_OK) {
            text[0] = '\0';
        }
        printf("%s\n", text);
    }
    exit_code = status == SPECDEC_OK ? 0 : 1;

done:
    for (int32_t i = 0; i < n; i++) free(ids[i]);
    free(out);
    specdec_tokenizer_destroy(tokenizer);
    specdec_session_destroy(session);
    specdec_model_destroy(model);
    return exit_code;
}
