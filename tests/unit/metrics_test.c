/* tests/unit/metrics_test.c: the /metrics text, parsed (tests/unit/promparse.h). */
#include "metrics.h"
#include "promparse.h"
#include "test.h"

static char *render(void)
{
    struct buf b = {0};
    metrics_render(&b);
    metrics_sample(&b, "ltcd_up", "gauge", "up", NULL, 1);
    metrics_sample(&b, "ltcd_rule_active_version", "gauge", "versions", "owner=\"hq\"", 3);
    metrics_sample(&b, "ltcd_rule_active_version", "gauge", NULL, "owner=\"region/south\"", 2);
    return b.p;
}

TEST(an_empty_registry_is_valid)
{
    metrics_reset();
    char *t = render(), err[256] = "";
    CHECK_MSG(prom_check(t, err, sizeof err) == 0, "%s", err);
    free(t);
}

TEST(counters_and_histograms_parse_and_add_up)
{
    metrics_reset();
    metrics_count(METRICS_HTTP_REQUESTS, "/v1/leads", "201", 3);
    metrics_count(METRICS_HTTP_REQUESTS, "/v1/leads", "400", 1);
    metrics_count(METRICS_HTTP_REQUESTS, "/v1/leads", "201", 2);
    metrics_count(METRICS_RULE_CALLS, "region/\"odd\"\nowner", "budget", 1);
    for (uint64_t ns = 100000; ns < 4000000000u; ns *= 3)
        metrics_observe(METRICS_HTTP_DURATION, "/v1/leads", ns);
    metrics_observe(METRICS_COMMIT_DURATION, NULL, 700000);
    metrics_count(METRICS_COMMIT_WRITES, NULL, NULL, 21);
    char *t = render(), err[256] = "";
    CHECK_MSG(prom_check(t, err, sizeof err) == 0, "%s\n%s", err, t);
    CHECK(strstr(t, "ltcd_http_requests_total{route=\"/v1/leads\",status=\"201\"} 5\n"));
    CHECK(strstr(t, "owner=\"region/\\\"odd\\\"\\nowner\""));
    CHECK(strstr(t, "ltcd_http_request_duration_seconds_count{route=\"/v1/leads\"} 10\n"));
    CHECK(strstr(t, "ltcd_commit_writes_total 21\n"));
    free(t);
}

TEST(the_parser_refuses_broken_text)
{
    char err[256];
    CHECK(prom_check("x 1\n", err, sizeof err) != 0); /* no TYPE */
    CHECK(prom_check("# TYPE x counter\nx -1\n", err, sizeof err) != 0);
    CHECK(prom_check("# TYPE x counter\nx{a=b} 1\n", err, sizeof err) != 0);
    CHECK(prom_check("# TYPE x histogram\nx_bucket{le=\"1\"} 5\nx_bucket{le=\"+Inf\"} 4\n", err,
                     sizeof err) != 0);
    CHECK(prom_check("# TYPE x gauge\nx 1", err, sizeof err) != 0);
    CHECK(prom_check("# TYPE x gauge\n# TYPE x gauge\n", err, sizeof err) != 0);
}

TEST_MAIN(T(an_empty_registry_is_valid), T(counters_and_histograms_parse_and_add_up),
          T(the_parser_refuses_broken_text))
