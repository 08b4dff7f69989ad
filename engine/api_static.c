/* engine/api_static.c: the dashboard's files, read once at start from the
 * --www directory and served from memory. Only the names of the table are
 * served: no path from a request ever reaches the file system. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "log.h"

#define STATIC_FILE_MAX (1024 * 1024)

static struct {
    const char *path; /* request path */
    const char *file; /* under the www directory */
    const char *type; /* Content-Type */
    char *body;       /* owned; NULL when the file was missing */
    size_t len;
} files[] = {
    {"/", "index.html", "text/html; charset=utf-8", NULL, 0},
    {"/ui/app.js", "app.js", "text/javascript; charset=utf-8", NULL, 0},
    {"/ui/style.css", "style.css", "text/css; charset=utf-8", NULL, 0},
};

void api_static_load(const char *dir)
{
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, files[i].file);
        FILE *f = fopen(path, "rb");
        if (!f) {
            log_warn("dashboard: %s not found; GET %s will answer 404", path, files[i].path);
            continue;
        }
        char *buf = malloc(STATIC_FILE_MAX);
        size_t n = buf ? fread(buf, 1, STATIC_FILE_MAX, f) : 0;
        fclose(f);
        free(files[i].body);
        files[i].body = buf;
        files[i].len = n;
    }
}

void api_static_free(void)
{
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        free(files[i].body);
        files[i].body = NULL;
    }
}

void api_static(struct api_call *c)
{
    for (size_t i = 0; i < sizeof files / sizeof *files; i++)
        if (!strcmp(files[i].path, http_path(c->req))) {
            if (!files[i].body)
                break;
            api_raw(c->req, 200, files[i].type, files[i].body, files[i].len);
            return;
        }
    api_fail(c->req, -ERR_NOT_FOUND, "the dashboard is not installed (see --www)");
}
