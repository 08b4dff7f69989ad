/* engine/json_text.h
 *
 * jansson values as compact JSON text, fast: byte for byte what
 * json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(12))
 * writes (keys in the object's order, reals as "%.12g" with jansson's ".0"
 * and exponent fix-ups, strings escaped as jansson escapes them), which
 * tests/unit/json_text_test.c holds against jansson over random values.
 *
 * Why not json_dumps: it checks every container for a reference loop through
 * a hash table keyed by the container's address printed with snprintf, and
 * writes through a callback a few bytes at a time; on the hot paths (an
 * instance document, its event's payload and outcome, each response) that
 * was a sixth of a lead create's CPU. Values here come from the parser or
 * are built by the engine and hold no loop; nesting deeper than
 * JSON_TEXT_MAX_DEPTH (the parser's own limit) is refused.
 *
 * json_text: a malloc'd NUL-terminated text (caller frees), or NULL for
 * NULL, out of memory, a real that is not finite, or too deep a value.
 * json_text_put: the same appended to b; -1 (b unchanged in length but
 * possibly grown) on the same failures, a failed buf included.
 */
#ifndef ENGINE_JSON_TEXT_H
#define ENGINE_JSON_TEXT_H

#include <jansson.h>

#include "buf.h"

#define JSON_TEXT_MAX_DEPTH 2048

char *json_text(const json_t *v);
int json_text_put(struct buf *b, const json_t *v);

#endif
