/* tests/fuzz/tokens_fuzz.c: the tokens file parser, and its units against
 * an org tree (every refusal names file, line and unit). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"

static bool known(const char *unit, void *ctx)
{
    (void)ctx;
    return !strcmp(unit, "region/south") || !strcmp(unit, "office/province-a");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct auth_set *set = NULL;
    struct err_detail why = {0};
    if (auth_set_parse(text, "fuzz", &set, &why) == 0) {
        auth_find(set, text, strlen(text));
        struct err_detail u = {0};
        if (auth_set_check_units(set, known, NULL, &u) && !strstr(u.msg, "fuzz:"))
            abort();
        auth_set_free(set);
    } else if (!why.msg[0]) {
        abort();
    }
    free(text);
    return 0;
}
