/* engine/rules_watch.h
 *
 * Watches the rules tree (hq/, regions/, offices/ and each owner directory,
 * never single files: editors save by rename) and calls 'changed' once the
 * tree has been quiet for RULES_WATCH_DEBOUNCE_MS after a change to a *.lua
 * file or a directory. New owner directories are picked up at each rescan.
 * Loop thread only.
 */
#ifndef ENGINE_RULES_WATCH_H
#define ENGINE_RULES_WATCH_H

#include <uv.h>

#include "err.h"

#define RULES_WATCH_DEBOUNCE_MS 150
#define RULES_WATCH_MAX_DIRS    1100

struct rules_watch;
typedef void rules_watch_cb(void *ctx);

/* *out is owned by the caller: rules_watch_stop frees it once its handles close. */
int rules_watch_start(uv_loop_t *loop, const char *root, rules_watch_cb *changed, void *ctx,
                      struct rules_watch **out, struct err_detail *why);
/* Re-scan the tree for directories to watch (after a sync). */
void rules_watch_rescan(struct rules_watch *w);
void rules_watch_stop(struct rules_watch *w);

#endif
