/* tests/unit/diff_test.c: unified diffs: the exact format on small cases, a
 * patch applier proving every diff turns a into b, minimality against an LCS
 * on random texts, and the cap on large, wholly different files. */
#include <stdint.h>
#include <time.h>

#include "diff.h"
#include "test.h"

static char *diff_of(const char *a, const char *b, struct diff_stats *st)
{
    struct buf out = {0};
    if (diff_unified("f.lua", a, strlen(a), b, strlen(b), &out, st))
        return NULL;
    if (!out.p)
        return strdup("");
    return buf_take(&out, NULL);
}

/* A line of a text: [p, p + len). */
struct span {
    const char *p;
    size_t len;
};

static size_t lines_of(const char *s, size_t n, struct span *out, size_t cap)
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i < n && k < cap; i++)
        if (s[i] == '\n' || i + 1 == n) {
            out[k++] = (struct span){s + start, i + 1 - start};
            start = i + 1;
        }
    return k;
}

/* Apply a unified diff to a, as patch would, strictly: every context and
 * removed line must match, every hunk header must count right. Returns the
 * new text (malloc'd) or NULL when the diff does not apply. */
static char *apply(const char *a, size_t alen, const char *diff)
{
    size_t cap = alen + strlen(diff) + 2;
    struct span *al = malloc((alen + 1) * sizeof *al);
    size_t na = lines_of(a, alen, al, alen + 1), ai = 0;
    char *out = malloc(cap), *res = NULL;
    size_t olen = 0;
    const char *p = diff;
    if (!*p)
        goto copy_rest;
    if (strncmp(p, "--- a/f.lua\n+++ b/f.lua\n", 24))
        goto fail;
    p += 24;
    while (*p) {
        unsigned long as, ac = 1, bs, bc = 1;
        int used = 0;
        if (sscanf(p, "@@ -%lu%n", &as, &used) != 1)
            goto fail;
        p += used;
        if (*p == ',' && sscanf(p, ",%lu%n", &ac, &used) == 1)
            p += used;
        if (sscanf(p, " +%lu%n", &bs, &used) != 1)
            goto fail;
        p += used;
        if (*p == ',' && sscanf(p, ",%lu%n", &bc, &used) == 1)
            p += used;
        if (strncmp(p, " @@\n", 4))
            goto fail;
        p += 4;
        size_t first = ac ? as - 1 : as; /* 0-based line of a where the hunk starts */
        if (first < ai || first > na)
            goto fail;
        for (; ai < first; ai++) {
            memcpy(out + olen, al[ai].p, al[ai].len);
            olen += al[ai].len;
        }
        unsigned long got_a = 0, got_b = 0;
        while (*p == ' ' || *p == '-' || *p == '+') {
            char mark = *p++;
            const char *nl = strchr(p, '\n');
            if (!nl)
                goto fail;
            size_t len = (size_t)(nl - p) + 1;
            if (!strncmp(nl + 1, "\\ No newline at end of file\n", 28))
                len--; /* the line has no '\n' of its own */
            if (mark != '+') {
                if (ai >= na || al[ai].len != len || memcmp(al[ai].p, p, len))
                    goto fail;
                ai++;
                got_a++;
            }
            if (mark != '-') {
                memcpy(out + olen, p, len);
                olen += len;
                got_b++;
            }
            p = nl + 1;
            if (!strncmp(p, "\\ No newline at end of file\n", 28))
                p += 28;
        }
        if (got_a != ac || got_b != bc)
            goto fail;
    }
copy_rest:
    for (; ai < na; ai++) {
        memcpy(out + olen, al[ai].p, al[ai].len);
        olen += al[ai].len;
    }
    out[olen] = '\0';
    res = out;
    out = NULL;
fail:
    free(out);
    free(al);
    return res;
}

static int applies(const char *a, const char *b, struct diff_stats *st)
{
    char *d = diff_of(a, b, st);
    char *got = d ? apply(a, strlen(a), d) : NULL;
    int ok = got && !strcmp(got, b);
    if (!ok)
        fprintf(stderr, "# diff does not turn a into b:\n%s", d ? d : "(null)\n");
    free(d);
    free(got);
    return ok;
}

TEST(identical_texts_give_nothing)
{
    char *d = diff_of("a\nb\n", "a\nb\n", NULL);
    CHECK(d && !strcmp(d, ""));
    free(d);
    d = diff_of("", "", NULL);
    CHECK(d && !strcmp(d, ""));
    free(d);
}

TEST(an_empty_file_against_lines)
{
    struct diff_stats st;
    char *d = diff_of("", "a\nb\n", &st);
    CHECK_MSG(d && !strcmp(d, "--- a/f.lua\n+++ b/f.lua\n@@ -0,0 +1,2 @@\n+a\n+b\n"), "%s", d);
    CHECK(st.added == 2 && st.removed == 0 && st.hunks == 1 && !st.approximate);
    free(d);
    d = diff_of("a\nb\n", "", &st);
    CHECK_MSG(d && !strcmp(d, "--- a/f.lua\n+++ b/f.lua\n@@ -1,2 +0,0 @@\n-a\n-b\n"), "%s", d);
    CHECK(st.removed == 2 && st.added == 0);
    free(d);
}

TEST(one_line_ranges_have_no_count)
{
    char *d = diff_of("a\n", "b\n", NULL);
    CHECK_MSG(d && !strcmp(d, "--- a/f.lua\n+++ b/f.lua\n@@ -1 +1 @@\n-a\n+b\n"), "%s", d);
    free(d);
}

TEST(a_missing_trailing_newline_is_marked)
{
    char *d = diff_of("a\nb", "a\nb\n", NULL);
    CHECK_MSG(d && !strcmp(d, "--- a/f.lua\n+++ b/f.lua\n@@ -1,2 +1,2 @@\n a\n-b\n"
                              "\\ No newline at end of file\n+b\n"),
              "%s", d);
    free(d);
    d = diff_of("x", "y", NULL);
    CHECK_MSG(d && !strcmp(d, "--- a/f.lua\n+++ b/f.lua\n@@ -1 +1 @@\n-x\n"
                              "\\ No newline at end of file\n+y\n"
                              "\\ No newline at end of file\n"),
              "%s", d);
    free(d);
    CHECK(applies("a\nb", "a\nb\n", NULL) && applies("a\nb\n", "a\nc", NULL));
    CHECK(applies("x", "", NULL) && applies("", "x", NULL));
}

TEST(context_is_three_lines_and_near_changes_share_a_hunk)
{
    const char *a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n";
    const char *b =
        "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\nnineteen\n20\n";
    struct diff_stats st;
    char *d = diff_of(a, b, &st);
    CHECK_MSG(d && !strcmp(d, "--- a/f.lua\n+++ b/f.lua\n"
                              "@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
                              "@@ -16,5 +16,5 @@\n 16\n 17\n 18\n-19\n+nineteen\n 20\n"),
              "%s", d);
    CHECK(st.hunks == 2);
    free(d);
    /* Six equal lines between two changes: one hunk. */
    const char *c =
        "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n11\ntwelve\n13\n14\n15\n16\n17\n18\n19\n20\n";
    d = diff_of(a, c, &st);
    CHECK_MSG(d && st.hunks == 1 && strstr(d, "@@ -2,14 +2,14 @@\n"), "%s", d);
    free(d);
    /* Seven: two. */
    const char *e =
        "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n11\n12\nthirteen\n14\n15\n16\n17\n18\n19\n20\n";
    d = diff_of(a, e, &st);
    CHECK(d && st.hunks == 2);
    free(d);
    CHECK(applies(a, b, NULL) && applies(a, c, NULL) && applies(a, e, NULL));
}

TEST(completely_different_texts)
{
    struct diff_stats st;
    char *d = diff_of("a\nb\nc\n", "x\ny\n", &st);
    CHECK_MSG(d && !strcmp(d, "--- a/f.lua\n+++ b/f.lua\n@@ -1,3 +1,2 @@\n-a\n-b\n-c\n+x\n+y\n"),
              "%s", d);
    CHECK(st.removed == 3 && st.added == 2 && !st.approximate);
    free(d);
}

/* The length of a longest common subsequence of lines, by dynamic programming. */
static size_t lcs(const struct span *a, size_t n, const struct span *b, size_t m)
{
    size_t *row = calloc((m + 1) * 2, sizeof *row);
    size_t *prev = row, *cur = row + m + 1;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            bool eq = a[i - 1].len == b[j - 1].len && !memcmp(a[i - 1].p, b[j - 1].p, a[i - 1].len);
            cur[j] = eq ? prev[j - 1] + 1 : (prev[j] > cur[j - 1] ? prev[j] : cur[j - 1]);
        }
        size_t *t = prev;
        prev = cur;
        cur = t;
    }
    size_t r = prev[m];
    free(row);
    return r;
}

static void random_text(char *s, size_t lines, unsigned *seed, int alphabet, int no_newline)
{
    size_t k = 0;
    for (size_t i = 0; i < lines; i++) {
        s[k++] = (char)('a' + rand_r(seed) % alphabet);
        if (rand_r(seed) % 4 == 0)
            s[k++] = (char)('a' + rand_r(seed) % alphabet);
        if (!(no_newline && i + 1 == lines))
            s[k++] = '\n';
    }
    s[k] = '\0';
}

TEST(random_diffs_apply_and_are_minimal)
{
    unsigned seed = 20260101;
    char a[200], b[200];
    struct span la[80], lb[80];
    for (int round = 0; round < 3000; round++) {
        random_text(a, (size_t)(rand_r(&seed) % 25), &seed, 2 + round % 5, round % 7 == 0);
        random_text(b, (size_t)(rand_r(&seed) % 25), &seed, 2 + round % 5, round % 11 == 0);
        struct diff_stats st;
        CHECK_MSG(applies(a, b, &st), "round %d", round);
        size_t na = lines_of(a, strlen(a), la, 80), nb = lines_of(b, strlen(b), lb, 80);
        size_t common = lcs(la, na, lb, nb);
        CHECK_MSG(!st.approximate && st.removed == na - common && st.added == nb - common,
                  "round %d: -%zu +%zu, LCS %zu of %zu/%zu", round, st.removed, st.added, common,
                  na, nb);
    }
}

/* Lines "PREFIX N", every change_every-th one (0: none) "x N" instead. */
static char *numbered(size_t lines, const char *prefix, size_t change_every)
{
    char *s = malloc(lines * 24 + 1);
    size_t k = 0;
    for (size_t i = 0; i < lines; i++)
        k += (size_t)sprintf(s + k, "%s %zu\n",
                             change_every && i % change_every == 0 ? "x" : prefix, i);
    s[k] = '\0';
    return s;
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

TEST(large_files_with_few_changes_are_exact)
{
    char *a = numbered(10000, "line", 0), *b = numbered(10000, "line", 2500);
    struct diff_stats st;
    CHECK(applies(a, b, &st));
    CHECK(!st.approximate && st.removed == 4 && st.added == 4 && st.hunks == 4);
    free(a);
    free(b);
}

TEST(large_different_files_are_bounded_in_time_and_give_one_replacement)
{
    /* 20,000 lines each, every line different, and a shuffle of the same
     * lines: beyond DIFF_MAX_EDITS, so each is one replacement, quickly. */
    char *a = numbered(20000, "a", 0), *b = numbered(20000, "b", 0);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct diff_stats st;
    CHECK(applies(a, b, &st));
    CHECK(st.approximate && st.removed == 20000 && st.added == 20000 && st.hunks == 1);
    free(b);
    b = malloc(20000 * 24 + 1);
    size_t k = 0;
    for (size_t i = 0; i < 20000; i++) /* every other line kept, in pairs swapped */
        k += (size_t)sprintf(b + k, "a %zu\n", i % 2 ? i - 1 : i + 1);
    b[k] = '\0';
    CHECK(applies(a, b, &st));
    CHECK(st.approximate);
    double ms = ms_since(&t0);
    CHECK_MSG(ms < 3000, "%.0f ms", ms);
    free(a);
    free(b);
}

TEST(many_scattered_edits_under_the_cap_stay_exact_and_fast)
{
    /* 20,000 lines over a two-word alphabet with 300 lines changed at random:
     * a search close to DIFF_MAX_EDITS through short, ambiguous snakes. */
    size_t n = 20000;
    char *a = malloc(2 * n + 1), *b = malloc(2 * n + 1);
    unsigned seed = 7;
    for (size_t i = 0; i < n; i++) {
        a[2 * i] = rand_r(&seed) % 2 ? 'x' : 'y';
        a[2 * i + 1] = '\n';
    }
    a[2 * n] = '\0';
    memcpy(b, a, 2 * n + 1);
    for (int i = 0; i < 300; i++)
        b[2 * (size_t)(rand_r(&seed) % n)] = 'z';
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct diff_stats st;
    CHECK(applies(a, b, &st));
    double ms = ms_since(&t0);
    CHECK_MSG(!st.approximate && st.added == st.removed && st.added <= 300, "+%zu -%zu%s", st.added,
              st.removed, st.approximate ? " approximate" : "");
    CHECK_MSG(ms < 3000, "%.0f ms", ms);
    free(a);
    free(b);
}

TEST(a_first_and_last_line_kept_around_a_huge_insertion)
{
    char *mid = numbered(50000, "n", 0);
    size_t n = strlen(mid);
    char *b = malloc(n + 16);
    sprintf(b, "first\n%slast\n", mid);
    struct diff_stats st;
    CHECK(applies("first\nlast\n", b, &st));
    CHECK(!st.approximate && st.added == 50000 && st.removed == 0);
    free(mid);
    free(b);
}

TEST_MAIN(T(identical_texts_give_nothing), T(an_empty_file_against_lines),
          T(one_line_ranges_have_no_count), T(a_missing_trailing_newline_is_marked),
          T(context_is_three_lines_and_near_changes_share_a_hunk), T(completely_different_texts),
          T(random_diffs_apply_and_are_minimal), T(large_files_with_few_changes_are_exact),
          T(large_different_files_are_bounded_in_time_and_give_one_replacement),
          T(many_scattered_edits_under_the_cap_stay_exact_and_fast),
          T(a_first_and_last_line_kept_around_a_huge_insertion))
