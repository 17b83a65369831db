/*
 * fuzz_profile_name.c: the profile-name grammar under arbitrary bytes.
 * Whatever the input, parsing must not crash or read past the text, and
 * anything accepted must print back to a canonical name that parses to the
 * same value (format . parse is the identity on parsed names) and resolves
 * against a model without crashing. The same bytes also go through the
 * "@start" reference parser and the name-derivation rule.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/catalogue.h"
#include "model/profile_name.h"

#define MAX_INPUT 256

static void check_round_trip(const mig_profile_name *n)
{
    char buf[64];
    mig_error e = {0};
    mig_profile_name again;
    mig_profile_name_format(n, buf, sizeof buf);
    if (mig_profile_name_parse(buf, &again, &e) != 0 || memcmp(&again, n, sizeof again) != 0)
        abort();
}

static void check_resolve(const mig_profile_name *n, uint8_t pick)
{
    unsigned count;
    const mig_model *all = mig_catalogue(&count);
    const mig_model *m = &all[pick % count];
    const mig_gi_profile *gi = NULL;
    mig_ci_profile ci;
    mig_error e = {0};
    if (mig_profile_resolve(m, n, &gi, &ci, &e) == 0) {
        /* A resolved name is one of the model's, with a CI that fits in it. */
        if (mig_profile_pos(m, gi) < 0 || ci.compute_slices > gi->compute_slices)
            abort();
    } else if (e.kind != MIG_ERR_INPUT) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[MAX_INPUT + 1];
    size_t len = size < MAX_INPUT ? size : MAX_INPUT;
    memcpy(text, data, len);
    text[len] = '\0';

    mig_profile_name n;
    mig_error e = {0};
    if (mig_profile_name_parse(text, &n, &e) == 0) {
        check_round_trip(&n);
        check_resolve(&n, size ? data[0] : 0);
    } else if (e.kind != MIG_ERR_INPUT || !memchr(e.msg, '\0', sizeof e.msg)) {
        abort();
    }

    char profile[48];
    int start = 0;
    if (mig_profile_ref_parse(text, profile, sizeof profile, &start, &e) == 0 &&
        (start < -1 || strlen(profile) >= sizeof profile))
        abort();

    unsigned long long mib = 0, total = 0;
    for (size_t i = 0; i < len && i < 8; i++)
        mib = mib << 8 | data[i];
    for (size_t i = 8; i < len && i < 16; i++)
        total = total << 8 | data[i];
    char derived[8]; /* deliberately short: truncation must be safe */
    mig_profile_name_derive(len % 9, mib, total, (mig_attr)(len % 5), derived, sizeof derived);
    return 0;
}
