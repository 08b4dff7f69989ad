/* engine/rules_watch.c */
#include "rules_watch.h"

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

struct watched {
    uv_fs_event_t ev;
    char path[1024];
    struct rules_watch *w;
};

struct rules_watch {
    uv_loop_t *loop;
    char root[900];
    rules_watch_cb *changed;
    void *ctx;
    uv_timer_t debounce;
    struct watched *dirs[RULES_WATCH_MAX_DIRS]; /* owned; freed in close callbacks */
    size_t n;
    int closing; /* handles still to close */
};

static void on_quiet(uv_timer_t *t)
{
    struct rules_watch *w = t->data;
    w->changed(w->ctx);
    rules_watch_rescan(w);
}

static void on_event(uv_fs_event_t *ev, const char *filename, int events, int status)
{
    (void)events;
    struct watched *d = ev->data;
    if (status < 0)
        return;
    /* Ignore editor droppings: only *.lua files and directory entries count. */
    if (filename) {
        size_t n = strlen(filename);
        bool lua = n > 4 && !strcmp(filename + n - 4, ".lua");
        bool hidden = filename[0] == '.' || filename[n ? n - 1 : 0] == '~';
        if (hidden || (!lua && strchr(filename, '.')))
            return;
    }
    uv_timer_start(&d->w->debounce, on_quiet, RULES_WATCH_DEBOUNCE_MS, 0);
}

static bool watching(struct rules_watch *w, const char *path)
{
    for (size_t i = 0; i < w->n; i++)
        if (!strcmp(w->dirs[i]->path, path))
            return true;
    return false;
}

/* Below the root, links are not followed: the tree refuses them (rules_tree.c),
 * so there is nothing behind one to watch. */
static void add(struct rules_watch *w, const char *path, bool follow)
{
    struct stat st;
    if (w->n == RULES_WATCH_MAX_DIRS || (follow ? stat(path, &st) : lstat(path, &st)) ||
        !S_ISDIR(st.st_mode) || watching(w, path))
        return;
    struct watched *d = calloc(1, sizeof *d);
    if (!d)
        return;
    snprintf(d->path, sizeof d->path, "%s", path);
    d->w = w;
    uv_fs_event_init(w->loop, &d->ev);
    d->ev.data = d;
    if (uv_fs_event_start(&d->ev, on_event, path, 0)) {
        log_warn("rules: cannot watch %s", path);
        uv_close((uv_handle_t *)&d->ev, (uv_close_cb)free);
        return;
    }
    w->dirs[w->n++] = d;
}

void rules_watch_rescan(struct rules_watch *w)
{
    char path[1024];
    add(w, w->root, true);
    static const char *const sub[] = {"hq", "regions", "offices"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", w->root, sub[i]);
        add(w, path, false);
        if (i == 0)
            continue;
        DIR *dir = opendir(path);
        struct dirent *e;
        while (dir && (e = readdir(dir))) {
            if (e->d_name[0] == '.')
                continue;
            char child[1024];
            snprintf(child, sizeof child, "%s/%.200s", path, e->d_name);
            add(w, child, false);
        }
        if (dir)
            closedir(dir);
    }
}

int rules_watch_start(uv_loop_t *loop, const char *root, rules_watch_cb *changed, void *ctx,
                      struct rules_watch **out, struct err_detail *why)
{
    struct rules_watch *w = calloc(1, sizeof *w);
    if (!w)
        return err_set(why, -ERR_NOMEM, "out of memory");
    w->loop = loop;
    snprintf(w->root, sizeof w->root, "%s", root);
    w->changed = changed;
    w->ctx = ctx;
    uv_timer_init(loop, &w->debounce);
    w->debounce.data = w;
    rules_watch_rescan(w);
    *out = w;
    return 0;
}

static void release(struct rules_watch *w)
{
    if (--w->closing == 0)
        free(w);
}

static void on_dir_closed(uv_handle_t *h)
{
    struct watched *d = h->data;
    struct rules_watch *w = d->w;
    free(d);
    release(w);
}

static void on_timer_closed(uv_handle_t *h)
{
    release(h->data);
}

void rules_watch_stop(struct rules_watch *w)
{
    if (!w)
        return;
    w->closing = (int)w->n + 1;
    for (size_t i = 0; i < w->n; i++) {
        uv_fs_event_stop(&w->dirs[i]->ev);
        uv_close((uv_handle_t *)&w->dirs[i]->ev, on_dir_closed);
    }
    w->n = 0;
    uv_timer_stop(&w->debounce);
    uv_close((uv_handle_t *)&w->debounce, on_timer_closed);
}
