/*
 * lookup_drafter.c — a prompt-lookup drafter shipped as a libspecdec plugin.
 *
 * Prompt lookup: find the most recent earlier occurrence of the sequence's last n tokens
 * (n from max_ngram down to min_ngram) and propose the tokens that followed it. It
 * needs no model and pays off when the output repeats the prompt or itself (code
 * edits, summaries quoting their source, repetitive text).
 *
 * The plugin does not link libspecdec: it only includes the headers and exports
 * `specdec_plugin_entry`, which hands the host a static drafter vtable. The host
 * (specdec_drafter_load_plugin) dlopens this file, calls the entry point, then makes an
 * instance with vtable.create(config).
 *
 * Configuration string (may be NULL or empty): "key=value" pairs separated by commas,
 * semicolons or spaces:
 *   max_ngram=3    longest suffix matched (1..64, default 3)
 *   min_ngram=1    shortest suffix matched (1..max_ngram, default 1)
 *   max_draft=0    most tokens proposed per round, 0 = as many as the host asks
 *   verbose=0      1: print the instance's statistics to stderr when it is destroyed
 * An unknown key or a bad value makes create fail (the host reports
 * SPECDEC_ERR_CALLBACK).
 *
 * Build (see the Makefile beside this file):
 *   gcc -std=c99 -Wall -Wextra -Werror -fPIC -shared -Iinclude \
 *       examples/plugins/lookup_drafter.c -o lookup_drafter.so
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "specdec_plugin.h"

#if defined(__GNUC__)
#define PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define PLUGIN_EXPORT
#endif

#define MAX_NGRAM_LIMIT 64

typedef struct lookup_drafter {
    int32_t min_ngram;
    int32_t max_ngram;
    int32_t max_draft;    /* 0 = as many as asked */
    int verbose;
    /* Statistics over the instance's life. */
    long proposals;       /* propose calls */
    long hits;            /* calls that found a match */
    long proposed;        /* tokens proposed */
    long accepted;        /* tokens the target kept (reported through `accepted`) */
} lookup_drafter;

/* The host's version, copied from the specdec_host_api_t given to the entry point (the
 * contract does not say that struct outlives the call, so no pointer to it is kept). */
static uint32_t g_host_version = 0;
static uint32_t g_host_abi = 0;

/* ------------------------------------------------------------------------- */
/* Configuration                                                              */
/* ------------------------------------------------------------------------- */

static int is_separator(char c) {
    return c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\n';
}

/* Parses a decimal int in [lo, hi] from text[0..len). Returns 0 on success. */
static int parse_int(const char *text, size_t len, long lo, long hi, int32_t *out) {
    char buf[32];
    char *end;
    long value;
    if (len == 0 || len >= sizeof buf) {
        return -1;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    errno = 0;
    value = strtol(buf, &end, 10);
    if (*end != '\0' || errno != 0 || value < lo || value > hi) {
        return -1;
    }
    *out = (int32_t)value;
    return 0;
}

static int key_is(const char *key, size_t len, const char *name) {
    return strlen(name) == len && memcmp(key, name, len) == 0;
}

/* Applies "k=v,k=v" to `d`. Returns 0 on success, -1 (with a message) on error. */
static int parse_config(lookup_drafter *d, const char *config) {
    const char *p = config;
    if (config == NULL) {
        return 0;
    }
    while (*p) {
        const char *key, *eq, *value, *end;
        int32_t number;
        while (*p && is_separator(*p)) {
            p++;
        }
        if (*p == '\0') {
            break;
        }
        key = p;
        end = p;
        while (*end && !is_separator(*end)) {
            end++;
        }
        eq = memchr(key, '=', (size_t)(end - key));
        if (eq == NULL) {
            fprintf(stderr, "lookup_drafter: expected key=value, got \"%.*s\"\n", (int)(end - key), key);
            return -1;
        }
        value = eq + 1;
        if (key_is(key, (size_t)(eq - key), "max_ngram")) {
            if (parse_int(value, (size_t)(end - value), 1, MAX_NGRAM_LIMIT, &number) != 0) {
                goto bad_value;
            }
            d->max_ngram = number;
        } else if (key_is(key, (size_t)(eq - key), "min_ngram")) {
            if (parse_int(value, (size_t)(end - value), 1, MAX_NGRAM_LIMIT, &number) != 0) {
                goto bad_value;
            }
            d->min_ngram = number;
        } else if (key_is(key, (size_t)(eq - key), "max_draft")) {
            if (parse_int(value, (size_t)(end - value), 0, INT32_MAX, &number) != 0) {
                goto bad_value;
            }
            d->max_draft = number;
        } else if (key_is(key, (size_t)(eq - key), "verbose")) {
            if (parse_int(value, (size_t)(end - value), 0, 1, &number) != 0) {
                goto bad_value;
            }
            d->verbose = (int)number;
        } else {
            fprintf(stderr, "lookup_drafter: unknown option \"%.*s\"\n", (int)(eq - key), key);
            return -1;
        }
        p = end;
        continue;
    bad_value:
        fprintf(stderr, "lookup_drafter: bad value in \"%.*s\"\n", (int)(end - key), key);
        return -1;
    }
    if (d->min_ngram > d->max_ngram) {
        fprintf(stderr, "lookup_drafter: min_ngram %d > max_ngram %d\n", (int)d->min_ngram, (int)d->max_ngram);
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------------- */
/* The vtable                                                                 */
/* ------------------------------------------------------------------------- */

static void *lookup_create(const char *config) {
    lookup_drafter *d = calloc(1, sizeof *d);
    if (d == NULL) {
        return NULL;
    }
    d->min_ngram = 1;
    d->max_ngram = 3;
    d->max_draft = 0;
    if (parse_config(d, config) != 0) {
        free(d);
        return NULL; /* the host reports SPECDEC_ERR_CALLBACK */
    }
    return d;
}

static void lookup_destroy(void *instance) {
    lookup_drafter *d = instance;
    if (d == NULL) {
        return;
    }
    if (d->verbose) {
        fprintf(stderr, "lookup_drafter: %ld proposals (%ld with a match), %ld tokens proposed, %ld accepted",
                d->proposals, d->hits, d->proposed, d->accepted);
        if (g_host_version != 0) {
            fprintf(stderr, " (host libspecdec %u, ABI %u)", (unsigned)g_host_version, (unsigned)g_host_abi);
        }
        fprintf(stderr, "\n");
    }
    free(d);
}

/* Chain proposal: the tokens that followed the most recent earlier occurrence of the
 * longest matching suffix. */
static int32_t lookup_propose(void *instance, const specdec_draft_request_t *request,
                              specdec_draft_output_t *output) {
    lookup_drafter *d = instance;
    const int32_t *t;
    int32_t n, want, ngram;
    if (d == NULL || request == NULL || output == NULL) {
        return -1;
    }
    output->n_tokens = 0;
    output->has_probabilities = 0; /* deterministic proposal: no distribution */
    d->proposals++;
    t = request->tokens;
    n = request->n_tokens;
    want = request->max_tokens;
    if (d->max_draft > 0 && want > d->max_draft) {
        want = d->max_draft;
    }
    if (t == NULL || want <= 0 || output->tokens == NULL || output->parents == NULL) {
        return 0;
    }
    for (ngram = d->max_ngram; ngram >= d->min_ngram; ngram--) {
        int32_t start;
        if (n <= ngram) {
            continue; /* no earlier occurrence possible */
        }
        /* Candidate occurrences t[start .. start+ngram) end before the suffix starts
         * being its own match; scan from the most recent. */
        for (start = n - ngram - 1; start >= 0; start--) {
            int32_t count, i;
            if (memcmp(t + start, t + n - ngram, (size_t)ngram * sizeof *t) != 0) {
                continue;
            }
            count = n - (start + ngram);
            if (count > want) {
                count = want;
            }
            for (i = 0; i < count; i++) {
                output->tokens[i] = t[start + ngram + i];
                output->parents[i] = i - 1; /* a chain: -1, 0, 1, ... */
            }
            output->n_tokens = count;
            d->hits++;
            d->proposed += count;
            return 0;
        }
    }
    return 0; /* nothing to propose: the host takes a plain step */
}

static void lookup_accepted(void *instance, const int32_t *path, int32_t n_path, int32_t next_token) {
    lookup_drafter *d = instance;
    (void)path;
    (void)next_token;
    if (d != NULL && n_path > 0) {
        d->accepted += n_path;
    }
}

static const specdec_drafter_vtable_t lookup_vtable = {
    sizeof(specdec_drafter_vtable_t), /* struct_size */
    SPECDEC_PLUGIN_ABI_VERSION,       /* abi_version */
    lookup_propose,                   /* propose (required) */
    NULL,                             /* begin: nothing to index up front */
    lookup_accepted,                  /* accepted */
    lookup_create,                    /* create */
    lookup_destroy,                   /* destroy */
};

/* The one exported symbol. `abi_version` is the host's SPECDEC_PLUGIN_ABI_VERSION; the
 * vtables are append-only, so any version at or above ours can take this table. */
PLUGIN_EXPORT const specdec_drafter_vtable_t *specdec_plugin_entry(uint32_t abi_version,
                                                                   const specdec_host_api_t *host);

PLUGIN_EXPORT const specdec_drafter_vtable_t *specdec_plugin_entry(uint32_t abi_version,
                                                                   const specdec_host_api_t *host) {
    if (abi_version < SPECDEC_PLUGIN_ABI_VERSION) {
        return NULL;
    }
    if (host != NULL && host->struct_size >= sizeof(specdec_host_api_t)) {
        if (host->abi_version < 2) {
            return NULL; /* a host older than ABI 2 has no drafter plugins */
        }
        g_host_abi = host->abi_version;
        g_host_version = host->version_number != NULL ? host->version_number() : 0;
    }
    return &lookup_vtable;
}
