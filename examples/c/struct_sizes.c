/* struct_sizes.c — prints sizeof and alignment of every struct of specdec.h and
 * specdec_plugin.h, one "name size align" line each. The C test script, the Python tests and the Rust
 * tests compare these with their own layouts. */
#include <stddef.h>
#include <stdio.h>

#include "specdec.h"
#include "specdec_plugin.h"

/* C99 has no _Alignof; the offset of a member after a char gives the alignment. */
#define ALIGNOF(type) offsetof(struct { char c; type t; }, t)
#define PRINT(type) printf("%s %lu %lu\n", #type, (unsigned long)sizeof(type), (unsigned long)ALIGNOF(type))

int main(void) {
    PRINT(specdec_model_params_t);
    PRINT(specdec_model_info_t);
    PRINT(specdec_session_params_t);
    PRINT(specdec_generate_params_t);
    PRINT(specdec_stats_t);
    /* ABI 2 */
    PRINT(specdec_speculative_params_t);
    PRINT(specdec_draft_request_t);
    PRINT(specdec_draft_output_t);
    PRINT(specdec_drafter_vtable_t);
    PRINT(specdec_verifier_vtable_t);
    PRINT(specdec_host_api_t);
    /* ABI 2, tokenizers and text */
    PRINT(specdec_text_params_t);
    PRINT(specdec_tokenizer_vtable_t);
    /* ABI 2, encoder-decoder models */
    PRINT(specdec_beam_params_t);
    /* ABI 4 */
    PRINT(specdec_batch_params_t);
    return 0;
}
