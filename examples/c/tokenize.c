/*
 * tokenize.c — the tokenizer API from C: text to ids and back.
 *
 *   tokenize TOKENIZER_PATH "text"
 *
 * Loads a tokenizer (tokenizer.json, a SentencePiece .model, or a model directory), prints
 * the ids of the text with the tokenizer's special tokens on one line, comma-separated, and
 * the text decoded back from them (special tokens skipped) on the next. Buffers grow when
 * the library reports SPECDEC_ERR_BUFFER_TOO_SMALL with the size it needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "specdec.h"
#include "example_support.h"

int main(int argc, char **argv) {
    specdec_tokenizer_t *tokenizer = NULL;
    int32_t *ids = NULL;
    int32_t n_ids = 0;
    char *text = NULL;
    size_t text_len = 0;
    int exit_code = 1;
    specdec_status status;

    if (argc != 3) {
        fprintf(stderr, "usage: %s TOKENIZER_PATH \"text\"\n", argv[0]);
        return 2;
    }
    status = specdec_tokenizer_load(argv[1], &tokenizer);
    if (status != SPECDEC_OK) {
        report("specdec_tokenizer_load", status, NULL);
        goto done;
    }
    /* Ask for the count first (a zero-capacity call), then fill a buffer of that size. */
    status = specdec_tokenize(tokenizer, argv[2], strlen(argv[2]), 1, NULL, 0, &n_ids);
    if (status != SPECDEC_OK && status != SPECDEC_ERR_BUFFER_TOO_SMALL) {
        report("specdec_tokenize", status, NULL);
        goto done;
    }
    ids = malloc((size_t)(n_ids > 0 ? n_ids : 1) * sizeof *ids);
    if (ids == NULL) {
        fprintf(stderr, "error: out of memory\n");
        goto done;
    }
    status = specdec_tokenize(tokenizer, argv[2], strlen(argv[2]), 1, ids, n_ids, &n_ids);
    if (status != SPECDEC_OK) {
        report("specdec_tokenize", status, NULL);
        goto done;
    }
    for (int32_t i = 0; i < n_ids; i++) {
        printf("%s%d", i == 0 ? "" : ",", (int)ids[i]);
    }
    printf("\n");

    status = specdec_detokenize(tokenizer, ids, n_ids, 1, NULL, 0, &text_len);
    if (status != SPECDEC_OK && status != SPECDEC_ERR_BUFFER_TOO_SMALL) {
        report("specdec_detokenize", status, NULL);
        goto done;
    }
    text = malloc(text_len + 1);
    if (text == NULL) {
        fprintf(stderr, "error: out of memory\n");
        goto done;
    }
    status = specdec_detokenize(tokenizer, ids, n_ids, 1, text, text_len + 1, &text_len);
    if (status != SPECDEC_OK) {
        report("specdec_detokenize", status, NULL);
        goto done;
    }
    printf("%s\n", text);
    exit_code = 0;

done:
    specdec_tokenizer_destroy(tokenizer); /* NULL is a no-op */
    free(text);
    free(ids);
    return exit_code;
}
