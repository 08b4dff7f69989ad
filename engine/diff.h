/* engine/diff.h
 *
 * Unified diffs of two texts, line by line, in the format of `diff -u` and
 * git: a header "--- a/NAME" "+++ b/NAME", then hunks
 * "@@ -START,COUNT +START,COUNT @@" (",COUNT" left out when it is 1; an
 * empty range gives the line before it, as "-0,0") with DIFF_CONTEXT lines
 * of context, lines prefixed ' ', '-' or '+', and "\ No newline at end of
 * file" after a last line that has none. `patch -p1` applies the output.
 *
 * The algorithm is Myers' greedy O((N+M)D) search for a shortest edit
 * script, after the common first and last lines are set aside. Its work is
 * capped so that no input, however large or different, costs more than a
 * bounded time and memory: when the lines in between need more than
 * DIFF_MAX_EDITS insertions and deletions, or the search would compare more
 * than DIFF_MAX_WORK pairs of lines, that middle region is given as one
 * replacement (every old line removed, then every new line added): still a
 * correct diff, only not a minimal one (stats.approximate). The search keeps
 * at most DIFF_MAX_EDITS^2 integers (4 MB); lines cost 24 bytes each.
 *
 * Text is bytes: lines end at '\n' (which is part of the line, so "a" and
 * "a\n" differ); NUL and invalid UTF-8 pass through as they are. Leaf
 * module apart from buf and err.
 */
#ifndef ENGINE_DIFF_H
#define ENGINE_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

#define DIFF_CONTEXT   3                 /* lines of context around a change */
#define DIFF_MAX_EDITS 1000              /* edits the exact search looks for */
#define DIFF_MAX_WORK  (8 * 1000 * 1000) /* line pairs the exact search compares */

struct diff_stats {
    size_t added;     /* lines with '+' */
    size_t removed;   /* lines with '-' */
    size_t hunks;     /* "@@" headers */
    bool approximate; /* the cap was hit: the middle region is one replacement */
};

/* Append to 'out' the unified diff that turns a[0..alen) into b[0..blen),
 * the header naming 'name' (a/NAME, b/NAME); nothing at all when the texts
 * are equal. 'st' (may be NULL) receives the counts. Returns 0, or
 * -ERR_NOMEM when memory ran out (then 'out' may hold part of the diff). */
int diff_unified(const char *name, const char *a, size_t alen, const char *b, size_t blen,
                 struct buf *out, struct diff_stats *st);

#endif
