/* engine/diff.c: unified diffs (Myers, capped) behind diff.h. */
#include "diff.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct line {
    const char *p; /* borrowed from the text */
    size_t len;    /* with its '\n', when it has one */
    uint64_t hash; /* FNV-1a of the bytes */
};

enum op { OP_SAME, OP_DEL, OP_INS };

/* The lines of s[0..n): *out is malloc'd (NULL and 0 lines for an empty text). */
static int split_lines(const char *s, size_t n, struct line **out, size_t *count)
{
    size_t lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += s[i] == '\n';
    lines += n > 0 && s[n - 1] != '\n';
    *out = NULL;
    *count = lines;
    if (!lines)
        return 0;
    struct line *l = malloc(lines * sizeof *l);
    if (!l)
        return -ERR_NOMEM;
    size_t k = 0, start = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\n' && i + 1 < n)
            continue;
        uint64_t h = 1469598103934665603ull;
        for (size_t j = start; j <= i; j++)
            h = (h ^ (unsigned char)s[j]) * 1099511628211ull;
        l[k++] = (struct line){s + start, i + 1 - start, h};
        start = i + 1;
    }
    *out = l;
    return 0;
}

static bool same(const struct line *x, const struct line *y)
{
    return x->hash == y->hash && x->len == y->len && !memcmp(x->p, y->p, x->len);
}

/* Myers' greedy search over a[0..n) and b[0..m), whose first and last lines
 * differ. On success ops[0..*nops) is the edit script; 1 when a cap was hit
 * (nothing written), -ERR_NOMEM. */
static int myers(const struct line *a, size_t n, const struct line *b, size_t m, unsigned char *ops,
                 size_t *nops)
{
    if (n + m > INT32_MAX / 2) /* the search keeps line numbers as int32_t */
        return 1;
    int32_t max = (int32_t)(n + m < DIFF_MAX_EDITS ? n + m : DIFF_MAX_EDITS);
    int32_t off = max + 1, nn = (int32_t)n, mm = (int32_t)m, d, found = -1;
    int32_t *v = calloc(2 * (size_t)max + 3, sizeof *v);
    /* snap keeps V after each step d for k in [-d, d]; step d starts at d*d. */
    int32_t *snap = NULL;
    size_t snap_cap = 0, work = 0;
    if (!v)
        return -ERR_NOMEM;
    for (d = 0; d <= max && found < 0 && work <= DIFF_MAX_WORK; d++) {
        size_t need = (size_t)(d + 1) * (size_t)(d + 1);
        if (need > snap_cap) {
            size_t cap = snap_cap ? snap_cap * 2 : 64;
            while (cap < need)
                cap *= 2;
            int32_t *g = realloc(snap, cap * sizeof *g);
            if (!g) {
                free(v);
                free(snap);
                return -ERR_NOMEM;
            }
            snap = g;
            snap_cap = cap;
        }
        for (int32_t k = -d; k <= d; k += 2) {
            bool down = k == -d || (k != d && v[off + k - 1] < v[off + k + 1]);
            int32_t x = down ? v[off + k + 1] : v[off + k - 1] + 1, y = x - k;
            while (x < nn && y < mm && work <= DIFF_MAX_WORK && same(&a[x], &b[y])) {
                x++;
                y++;
                work++;
            }
            if (++work > DIFF_MAX_WORK) /* within a step too: one step may be long */
                break;
            v[off + k] = x;
            /* Points past the end of a or b never come first: (n, m) is
             * reached at a smaller step than anything beyond it. */
            if (x >= nn && y >= mm)
                found = d;
        }
        memcpy(snap + (size_t)d * (size_t)d, v + off - d, (size_t)(2 * d + 1) * sizeof *v);
    }
    free(v);
    if (found < 0) {
        free(snap);
        return 1;
    }
    /* Walk back from (n, m), writing the script from its end: D edits and
     * (n + m - D) / 2 equal lines. */
    size_t w = (size_t)found + (n + m - (size_t)found) / 2;
    *nops = w;
    int32_t x = nn, y = mm;
    for (d = found; d > 0; d--) {
        const int32_t *prev = snap + (size_t)(d - 1) * (size_t)(d - 1) + (d - 1); /* prev[k] */
        int32_t k = x - y;
        bool down = k == -d || (k != d && prev[k - 1] < prev[k + 1]);
        int32_t pk = down ? k + 1 : k - 1, px = prev[pk], py = px - pk;
        while (x > (down ? px : px + 1) && y > (down ? py + 1 : py)) {
            ops[--w] = OP_SAME;
            x--;
            y--;
        }
        ops[--w] = down ? OP_INS : OP_DEL;
        x = px;
        y = py;
    }
    while (x > 0 && y > 0) {
        ops[--w] = OP_SAME;
        x--;
        y--;
    }
    free(snap);
    return 0;
}

static void put_line(struct buf *out, char mark, const struct line *l)
{
    buf_put(out, &mark, 1);
    buf_put(out, l->p, l->len);
    if (!l->len || l->p[l->len - 1] != '\n')
        buf_str(out, "\n\\ No newline at end of file\n");
}

static void put_range(struct buf *out, char sign, size_t first, size_t count)
{
    /* An empty range names the line before it; a single line has no count. */
    if (count == 1)
        buf_printf(out, "%c%zu", sign, first + 1);
    else
        buf_printf(out, "%c%zu,%zu", sign, count ? first + 1 : first, count);
}

/* Print the hunks of the script ops[0..nops) over a and b. */
static void hunks(const unsigned char *ops, size_t nops, const struct line *a, const struct line *b,
                  struct buf *out, struct diff_stats *st)
{
    size_t i = 0, ai = 0, bi = 0; /* op index, and the lines of a and b before it */
    for (;;) {
        size_t c = i;
        while (c < nops && ops[c] == OP_SAME)
            c++;
        if (c == nops)
            return;
        size_t start = c >= i + DIFF_CONTEXT ? c - DIFF_CONTEXT : i;
        for (; i < start; i++) {
            ai++;
            bi++;
        }
        /* Extend over changes separated by at most 2 * DIFF_CONTEXT equal lines. */
        size_t end = c;
        for (;;) {
            while (end < nops && ops[end] != OP_SAME)
                end++;
            size_t r = end;
            while (r < nops && ops[r] == OP_SAME)
                r++;
            if (r == nops || r - end > 2 * DIFF_CONTEXT) {
                end += r - end < DIFF_CONTEXT ? r - end : DIFF_CONTEXT;
                break;
            }
            end = r;
        }
        size_t na = 0, nb = 0;
        for (size_t k = start; k < end; k++) {
            na += ops[k] != OP_INS;
            nb += ops[k] != OP_DEL;
        }
        buf_str(out, "@@ ");
        put_range(out, '-', ai, na);
        buf_str(out, " ");
        put_range(out, '+', bi, nb);
        buf_str(out, " @@\n");
        st->hunks++;
        for (; i < end; i++) {
            if (ops[i] == OP_SAME) {
                put_line(out, ' ', &a[ai++]);
                bi++;
            } else if (ops[i] == OP_DEL) {
                put_line(out, '-', &a[ai++]);
                st->removed++;
            } else {
                put_line(out, '+', &b[bi++]);
                st->added++;
            }
        }
    }
}

int diff_unified(const char *name, const char *a, size_t alen, const char *b, size_t blen,
                 struct buf *out, struct diff_stats *st)
{
    struct diff_stats local;
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    if (alen == blen && !memcmp(a, b, alen))
        return 0;
    struct line *la = NULL, *lb = NULL;
    size_t n = 0, m = 0;
    unsigned char *ops = NULL;
    int rc = split_lines(a, alen, &la, &n);
    if (!rc)
        rc = split_lines(b, blen, &lb, &m);
    if (!rc && !(ops = malloc(n + m + 1)))
        rc = -ERR_NOMEM;
    if (rc)
        goto done;
    /* The common first and last lines cost nothing to find and are kept out
     * of the search. */
    size_t pre = 0, suf = 0;
    while (pre < n && pre < m && same(&la[pre], &lb[pre]))
        pre++;
    while (suf < n - pre && suf < m - pre && same(&la[n - 1 - suf], &lb[m - 1 - suf]))
        suf++;
    size_t mid = 0, mn = n - pre - suf, mm = m - pre - suf;
    memset(ops, OP_SAME, pre);
    /* Only additions or only removals need no search. */
    int found = mn && mm ? myers(la + pre, mn, lb + pre, mm, ops + pre, &mid) : 1;
    if (found < 0) {
        rc = found;
        goto done;
    }
    if (found > 0) { /* over the cap: one replacement of the middle region */
        st->approximate = mn && mm;
        memset(ops + pre, OP_DEL, mn);
        memset(ops + pre + mn, OP_INS, mm);
        mid = mn + mm;
    }
    memset(ops + pre + mid, OP_SAME, suf);
    buf_printf(out, "--- a/%s\n+++ b/%s\n", name, name);
    hunks(ops, pre + mid + suf, la, lb, out, st);
    if (out->failed)
        rc = -ERR_NOMEM;
done:
    free(la);
    free(lb);
    free(ops);
    return rc;
}
