/*
 * speculative.c — speculative decoding from C: built-in drafters and a drafter plugin.
 *
 *   speculative [options] MODEL_DIR id,id,id [max_new_tokens]
 *
 *   --drafter NAME       ngram (default), suffix, model, plugin or none
 *   --draft-model DIR    the draft model of --drafter model (same vocabulary)
 *   --plugin PATH        a drafter plugin .so (implies --drafter plugin), loaded with
 *                        specdec_drafter_load_plugin and used as SPECDEC_DRAFTER_CUSTOM
 *   --config TEXT        the plugin's configuration string, e.g. "max_ngram=3"
 *   --acceptance RULE    greedy (default), sample or topk
 *   --draft-length K     most draft tokens per round (default 5; 0 = plain decoding)
 *   --beta B --tau T     the topk rule's parameters (defaults 5 and 3)
 *   --adaptive           adapt K to the acceptance rate
 *   --ngram-min N --ngram-max N   the ngram drafter's match lengths (defaults 1, 3)
 *   --temperature T --seed S      sampling (default greedy)
 *   --plain              plain specdec_generate, for comparison
 *
 * Like generate.c, the generated ids are streamed to stdout (comma-separated, one
 * line) through the token callback, and statistics go to stderr, here with the
 * speculative fields: target calls, drafted and accepted tokens, the acceptance rate
 * per draft depth and the time spent drafting, verifying and sampling. Every status is
 * checked; on failure the library's message is printed and the exit status is 1 (2
 * for usage errors).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "specdec.h"
#include "example_support.h"

static int32_t on_token(void *user_data, int32_t token, int32_t index) {
    (void)user_data;
    printf("%s%d", index == 0 ? "" : ",", (int)token);
    fflush(stdout);
    return SPECDEC_CALLBACK_CONTINUE;
}

static const char *drafter_name(int32_t drafter) {
    switch (drafter) {
    case SPECDEC_DRAFTER_NONE: return "none";
    case SPECDEC_DRAFTER_MODEL: return "model";
    case SPECDEC_DRAFTER_NGRAM: return "ngram";
    case SPECDEC_DRAFTER_SUFFIX: return "suffix";
    case SPECDEC_DRAFTER_CUSTOM: return "plugin";
    default: return "unknown";
    }
}

static void usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s [--drafter ngram|suffix|model|plugin|none] [--draft-model DIR] [--plugin PATH]\n"
            "          [--config TEXT] [--acceptance greedy|sample|topk] [--draft-length K] [--beta B]\n"
            "          [--tau T] [--adaptive] [--ngram-min N] [--ngram-max N] [--temperature T]\n"
            "          [--seed S] [--plain] MODEL_DIR id,id,id [max_new_tokens]\n",
            argv0);
}

int main(int argc, char **argv) {
    const char *model_dir = NULL, *ids_text = NULL, *max_text = NULL;
    const char *draft_model_dir = NULL, *plugin_path = NULL, *plugin_config = NULL;
    int32_t *prompt = NULL, *out = NULL;
    int32_t n_prompt = 0, n_out = 0, n_depth = 0;
    long max_new_tokens = 32, number;
    int plain = 0, exit_code = 1, positional = 0, i;
    double depth[64];
    specdec_status status;
    specdec_model_t *model = NULL, *draft_model = NULL;
    specdec_session_t *session = NULL;
    specdec_drafter_t *drafter = NULL;
    specdec_generate_params_t gparams = specdec_generate_default_params();
    specdec_speculative_params_t spec = specdec_speculative_default_params();
    specdec_stats_t stats;

    gparams.stop_at_eos = 0;
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        int takes_value = 1;
        if (strcmp(arg, "--plain") == 0) {
            plain = 1;
            takes_value = 0;
        } else if (strcmp(arg, "--adaptive") == 0) {
            spec.adaptive = 1;
            takes_value = 0;
        } else if (arg[0] == '-' && arg[1] == '-') {
            if (value == NULL) {
                fprintf(stderr, "error: %s needs a value\n", arg);
                return 2;
            }
            if (strcmp(arg, "--drafter") == 0) {
                if (strcmp(value, "ngram") == 0) spec.drafter = SPECDEC_DRAFTER_NGRAM;
                else if (strcmp(value, "suffix") == 0) spec.drafter = SPECDEC_DRAFTER_SUFFIX;
                else if (strcmp(value, "model") == 0) spec.drafter = SPECDEC_DRAFTER_MODEL;
                else if (strcmp(value, "plugin") == 0) spec.drafter = SPECDEC_DRAFTER_CUSTOM;
                else if (strcmp(value, "none") == 0) spec.drafter = SPECDEC_DRAFTER_NONE;
                else {
                    fprintf(stderr, "error: unknown drafter \"%s\"\n", value);
                    return 2;
                }
            } else if (strcmp(arg, "--acceptance") == 0) {
                if (strcmp(value, "greedy") == 0) spec.acceptance = SPECDEC_ACCEPT_GREEDY;
                else if (strcmp(value, "sample") == 0) spec.acceptance = SPECDEC_ACCEPT_SAMPLE;
                else if (strcmp(value, "topk") == 0) spec.acceptance = SPECDEC_ACCEPT_TOPK;
                else {
                    fprintf(stderr, "error: unknown acceptance rule \"%s\"\n", value);
                    return 2;
                }
            } else if (strcmp(arg, "--draft-model") == 0) {
                draft_model_dir = value;
                spec.drafter = SPECDEC_DRAFTER_MODEL;
            } else if (strcmp(arg, "--plugin") == 0) {
                plugin_path = value;
                spec.drafter = SPECDEC_DRAFTER_CUSTOM;
            } else if (strcmp(arg, "--config") == 0) {
                plugin_config = value;
            } else if (strcmp(arg, "--draft-length") == 0 && parse_long(value, 0, 1024, &number) == 0) {
                spec.draft_length = (int32_t)number;
            } else if (strcmp(arg, "--beta") == 0 && parse_long(value, 0, INT32_MAX, &number) == 0) {
                spec.top_beta = (int32_t)number;
            } else if (strcmp(arg, "--tau") == 0 && parse_float(value, &spec.tolerance_tau) == 0) {
                /* parsed */
            } else if (strcmp(arg, "--ngram-min") == 0 && parse_long(value, 0, INT32_MAX, &number) == 0) {
                spec.ngram_min = (int32_t)number;
            } else if (strcmp(arg, "--ngram-max") == 0 && parse_long(value, 0, INT32_MAX, &number) == 0) {
                spec.ngram_max = (int32_t)number;
            } else if (strcmp(arg, "--temperature") == 0 && parse_float(value, &gparams.temperature) == 0) {
                /* parsed */
            } else if (strcmp(arg, "--seed") == 0 && parse_long(value, 0, LONG_MAX, &number) == 0) {
                gparams.seed = (uint64_t)number;
            } else {
                fprintf(stderr, "error: bad option %s %s\n", arg, value);
                usage(argv[0]);
                return 2;
            }
        } else {
            takes_value = 0;
            switch (positional++) {
            case 0: model_dir = arg; break;
            case 1: ids_text = arg; break;
            case 2: max_text = arg; break;
            default: usage(argv[0]); return 2;
            }
        }
        if (takes_value) {
            i++;
        }
    }
    if (model_dir == NULL || ids_text == NULL) {
        usage(argv[0]);
        return 2;
    }
    if (spec.drafter == SPECDEC_DRAFTER_CUSTOM && plugin_path == NULL) {
        fprintf(stderr, "error: --drafter plugin needs --plugin PATH\n");
        return 2;
    }
    if (spec.drafter == SPECDEC_DRAFTER_MODEL && draft_model_dir == NULL) {
        fprintf(stderr, "error: --drafter model needs --draft-model DIR\n");
        return 2;
    }
    if (parse_ids(ids_text, &prompt, &n_prompt) != 0) {
        return 2;
    }
    if (max_text != NULL && parse_long(max_text, 0, INT32_MAX, &max_new_tokens) != 0) {
        fprintf(stderr, "error: bad max_new_tokens \"%s\"\n", max_text);
        free(prompt);
        return 2;
    }

    if (specdec_abi_version() < SPECDEC_ABI_VERSION) {
        fprintf(stderr, "error: libspecdec %s has ABI %u, this program needs %d (speculative decoding)\n",
                specdec_version_string(), (unsigned)specdec_abi_version(), SPECDEC_ABI_VERSION);
        goto done;
    }

    /* The plugin first: a missing or malformed .so is reported before any model loads. */
    if (plugin_path != NULL && !plain) {
        status = specdec_drafter_load_plugin(plugin_path, plugin_config, &drafter);
        if (status != SPECDEC_OK) {
            report("specdec_drafter_load_plugin", status, NULL);
            goto done;
        }
        spec.custom_drafter = drafter;
    }
    status = specdec_model_load(model_dir, NULL, &model);
    if (status != SPECDEC_OK) {
        report("specdec_model_load", status, NULL);
        goto done;
    }
    if (draft_model_dir != NULL && !plain) {
        status = specdec_model_load(draft_model_dir, NULL, &draft_model);
        if (status != SPECDEC_OK) {
            report("specdec_model_load (draft model)", status, NULL);
            goto done;
        }
        spec.draft_model = draft_model;
    }
    status = specdec_session_create(model, NULL, &session);
    if (status != SPECDEC_OK) {
        report("specdec_session_create", status, NULL);
        goto done;
    }

    gparams.max_new_tokens = (int32_t)max_new_tokens;
    gparams.callback = on_token;
    gparams.callback_user_data = NULL;
    out = malloc((size_t)(max_new_tokens > 0 ? max_new_tokens : 1) * sizeof *out);
    if (out == NULL) {
        fprintf(stderr, "error: out of memory\n");
        goto done;
    }
    if (plain) {
        status = specdec_generate(session, prompt, n_prompt, &gparams, out, (int32_t)max_new_tokens, &n_out);
    } else {
        status = specdec_generate_speculative(session, prompt, n_prompt, &gparams, &spec, out,
                                              (int32_t)max_new_tokens, &n_out);
    }
    printf("\n");
    fflush(stdout);
    if (status != SPECDEC_OK) {
        report(plain ? "specdec_generate" : "specdec_generate_speculative", status, session);
        goto done;
    }

    memset(&stats, 0, sizeof stats);
    stats.struct_size = sizeof stats;
    status = specdec_session_get_stats(session, &stats);
    if (status != SPECDEC_OK) {
        report("specdec_session_get_stats", status, session);
        goto done;
    }
    fprintf(stderr, "prompt %d tokens (%d reused), generated %d, stop: %s\n", (int)stats.prompt_tokens,
            (int)stats.reused_tokens, (int)stats.generated_tokens, stop_reason_name(stats.stop_reason));
    fprintf(stderr, "drafter %s, acceptance %s, draft length %d%s\n", plain ? "(plain)" : drafter_name(spec.drafter),
            spec.acceptance == SPECDEC_ACCEPT_SAMPLE ? "sample"
            : spec.acceptance == SPECDEC_ACCEPT_TOPK ? "topk" : "greedy",
            (int)spec.draft_length, spec.adaptive ? " (adaptive)" : "");
    fprintf(stderr, "target calls %d, drafted %d, accepted %d, %.3f tokens per target call\n",
            (int)stats.target_calls, (int)stats.drafted_tokens, (int)stats.accepted_tokens,
            stats.tokens_per_target_call);
    status = specdec_session_acceptance_by_depth(session, depth, (int32_t)(sizeof depth / sizeof depth[0]), &n_depth);
    if (status != SPECDEC_OK) {
        report("specdec_session_acceptance_by_depth", status, session);
        goto done;
    }
    fprintf(stderr, "acceptance by depth:");
    for (i = 0; i < n_depth; i++) {
        fprintf(stderr, " %.2f", depth[i]);
    }
    fprintf(stderr, "\n");
    fprintf(stderr, "prefill %.6f s, decode %.6f s (%.1f tok/s); draft %.6f s, verify %.6f s, sample %.6f s\n",
            stats.prefill_seconds, stats.decode_seconds, stats.decode_tokens_per_second, stats.draft_seconds,
            stats.verify_seconds, stats.sample_seconds);
    exit_code = 0;

done:
    specdec_session_destroy(session);
    specdec_drafter_destroy(drafter); /* calls the plugin's destroy, then unloads it */
    specdec_model_destroy(draft_model);
    specdec_model_destroy(model);
    free(out);
    free(prompt);
    return exit_code;
}
