/* engine/json_read.h
 *
 * JSON text as jansson values, fast: the value json_loadb(text, len, flags)
 * gives, for the same texts, and NULL for the texts it refuses.
 * tests/unit/json_read_test.c holds the two together over edge cases and
 * random texts, and tests/fuzz/json_fuzz.c over whatever a fuzzer makes.
 *
 * What that is (RFC 8259 as jansson reads it): an object or an array at the
 * top (any value with JSON_DECODE_ANY), then nothing but whitespace;
 * integers as json_int_t, refused past its range; reals by strtod, refused
 * when they overflow (an underflow reads as the nearest value, as jansson
 * reads it); strings as valid UTF-8 (RFC 3629) without control characters,
 * with \uXXXX escapes in surrogate pairs, \u0000 refused; a repeated key
 * keeps its first place and takes the last value (or, with
 * JSON_REJECT_DUPLICATES, refuses the text); at most JSON_READ_MAX_DEPTH
 * values deep (jansson's JSON_PARSER_MAX_DEPTH, every value counted). One
 * difference, on purpose: a NUL byte is refused wherever it is, where
 * jansson takes one after a number at the top ("0\0" with JSON_DECODE_ANY).
 *
 * Why not json_loadb: its lexer reads one byte at a time through a
 * callback, checks UTF-8 byte by byte and copies every token into a string
 * buffer; an instance document of 1.6 KB took 24 us to read, three times
 * what building its values takes, and every action reads one. This reader
 * scans runs of plain bytes and builds the same values with jansson's own
 * constructors. It only says where it stopped: for a refused request body
 * the API asks json_loadb, which refuses it too, for a message with line,
 * column and what was expected.
 *
 * json_read: a new reference, or NULL for a refused text or out of memory;
 * then *bad_at (may be NULL) is the offset where reading stopped. 'flags':
 * JSON_DECODE_ANY and JSON_REJECT_DUPLICATES; no other jansson flag.
 */
#ifndef ENGINE_JSON_READ_H
#define ENGINE_JSON_READ_H

#include <jansson.h>
#include <stddef.h>

#define JSON_READ_MAX_DEPTH 2048

json_t *json_read(const char *text, size_t len, size_t flags, size_t *bad_at);

/* json_read of a NUL-terminated text. */
json_t *json_read_str(const char *text, size_t flags);

#endif
