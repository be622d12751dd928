/*
 * example_support.h — what the C examples share: reading token ids and numbers from the
 * command line, naming stop reasons, and printing a failed call with the library's message.
 * Everything is static inline so that each example compiles on its own.
 */
#ifndef SPECDEC_EXAMPLE_SUPPORT_H
#define SPECDEC_EXAMPLE_SUPPORT_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "specdec.h"

static inline const char *stop_reason_name(int32_t reason) {
    switch (reason) {
    case SPECDEC_STOP_NONE: return "none";
    case SPECDEC_STOP_MAX_TOKENS: return "max_tokens";
    case SPECDEC_STOP_TOKEN: return "token";
    case SPECDEC_STOP_CALLBACK: return "callback";
    case SPECDEC_STOP_CAPACITY: return "capacity";
    case SPECDEC_STOP_ERROR: return "error";
    default: return "unknown";
    }
}

/* Reports a failed call: status text plus the most specific message available. */
static inline void report(const char *what, specdec_status status, const specdec_session_t *session) {
    const char *detail = session ? specdec_session_error_message(session) : "";
    if (detail == NULL || detail[0] == '\0') {
        detail = specdec_last_error_message();
    }
    fprintf(stderr, "error: %s failed: %s (status %d): %s\n", what, specdec_status_string(status),
            (int)status, detail);
}

/* Parses "1,2,3" into a malloc'ed array. Returns 0 on success. */
static inline int parse_ids(const char *text, int32_t **out_ids, int32_t *out_n) {
    size_t cap = 1;
    const char *p;
    int32_t *ids;
    int32_t n = 0;
    for (p = text; *p; p++) {
        if (*p == ',') {
            cap++;
        }
    }
    ids = malloc(cap * sizeof *ids);
    if (ids == NULL) {
        return -1;
    }
    p = text;
    for (;;) {
        char *end;
        long value;
        errno = 0;
        value = strtol(p, &end, 10);
        if (end == p || errno != 0 || value < INT32_MIN || value > INT32_MAX) {
            fprintf(stderr, "error: bad token id near \"%s\"\n", p);
            free(ids);
            return -1;
        }
        ids[n++] = (int32_t)value;
        if (*end == '\0') {
            break;
        }
        if (*end != ',') {
            fprintf(stderr, "error: expected ',' near \"%s\"\n", end);
            free(ids);
            return -1;
        }
        p = end + 1;
    }
    *out_ids = ids;
    *out_n = n;
    return 0;
}

/* A whole-string integer in [lo, hi]. Returns 0 on success. */
static inline int parse_long(const char *text, long lo, long hi, long *out) {
    char *end;
    long value;
    errno = 0;
    value = strtol(text, &end, 10);
    if (end == text || *end != '\0' || errno != 0 || value < lo || value > hi) {
        return -1;
    }
    *out = value;
    return 0;
}

/* A whole-string number. Returns 0 on success. */
static inline int parse_float(const char *text, float *out) {
    char *end;
    double value;
    errno = 0;
    value = strtod(text, &end);
    if (end == text || *end != '\0' || errno != 0) {
        return -1;
    }
    *out = (float)value;
    return 0;
}

#endif
