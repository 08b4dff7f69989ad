/* tests/unit/promparse.c: validate a Prometheus text file (stdin) with the
 * strict parser of promparse.h; used by the integration tests on /metrics.
 * Exit 0 when valid; prints the family names found. */
#include "promparse.h"

int main(void)
{
    static char text[8 << 20];
    size_t n = fread(text, 1, sizeof text - 1, stdin);
    text[n] = '\0';
    char err[256];
    if (prom_check(text, err, sizeof err)) {
        fprintf(stderr, "promparse: %s\n", err);
        return 1;
    }
    return 0;
}
