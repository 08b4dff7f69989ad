/* tests/fuzz/pipeline_fuzz.c: the inputs of strategy to numbers (GET
 * /v1/pipeline, /v1/process-metrics, POST /v1/instances/migrate): the unit
 * through pipeline_unit_parse against a model (the prefix and an id of
 * 1..63 of [a-z0-9_-]), the period through period_range (a valid one is a
 * non-empty range of whole months of valid dates), and the rounding rule on
 * numbers taken from the input (0 <= weighted <= value, and within half a
 * fen of value x p / 100). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "period.h"
#include "pipeline.h"

static int model_id(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-'))
            return 0;
    return 1;
}

static enum pipeline_unit model_unit(const char *s)
{
    if (!strcmp(s, "hq"))
        return PIPELINE_UNIT_HQ;
    if (!strncmp(s, "region/", 7) && model_id(s + 7))
        return PIPELINE_UNIT_REGION;
    if (!strncmp(s, "office/", 7) && model_id(s + 7))
        return PIPELINE_UNIT_OFFICE;
    if (!strncmp(s, "customer/", 9) && model_id(s + 9))
        return PIPELINE_UNIT_CUSTOMER;
    return PIPELINE_UNIT_BAD;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    const char *id = NULL;
    enum pipeline_unit k = pipeline_unit_parse(text, &id);
    if (k != model_unit(text) || !id)
        abort();
    if (k != PIPELINE_UNIT_BAD && k != PIPELINE_UNIT_HQ && strcmp(strchr(text, '/') + 1, id))
        abort();
    char from[PERIOD_DATE_SIZE], to[PERIOD_DATE_SIZE];
    struct err_detail why = {0};
    if (!period_range(text, from, to, &why)) {
        /* 'to' is the end, excluded: one past the last business date (9998-12-31). */
        bool end_ok = period_date_valid(to) || !strcmp(to, "9999-01-01");
        if (!period_date_valid(from) || !end_ok || strcmp(from, to) >= 0 ||
            strcmp(from + 7, "-01") || strcmp(to + 7, "-01"))
            abort();
    } else if (why.code != -ERR_INVALID_FIELD)
        abort();
    if (size >= 9) {
        uint64_t raw;
        memcpy(&raw, data, sizeof raw);
        int64_t value = (int64_t)(raw % (((uint64_t)1 << 53) + 1));
        int p = data[8] % 101;
        int64_t w = pipeline_weighted(value, p);
        __int128 exact = (__int128)value * p, back = (__int128)w * 100;
        if (w < 0 || w > value || back - exact > 50 || exact - back > 50 || exact - back == 50)
            abort();
    }
    free(text);
    return 0;
}
