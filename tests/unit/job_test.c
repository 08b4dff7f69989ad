/* tests/unit/job_test.c: long reads off the loop (job.h): a job runs on
 * another thread with its own rules and its own snapshot of the database, the
 * loop commits meanwhile, a simulation gives the same answer there as on the
 * live rules, and the queue's limits and shutdown. */
#include <pthread.h>
#include <uv.h>

#include "allocation.h"
#include "job.h"
#include "rules_internal.h"
#include "test.h"
#include "tree.h"

static struct store *st;

static void write_tree(void)
{
    snprintf(root, sizeof root, "/tmp/ltcd-job-test-%d", getpid());
    SH("rm -rf %s %s.db*", root, root);
    put("hq/org.lua", "return { regions = { south = { offices = { 'pa', 'pb' } },"
                      " north = { offices = { 'nc' } } } }");
    put("hq/bounds.lua",
        "return { thresholds = { mature_budget = { min = 0, max = 1000000, integer = true },"
        " horizon_months = { min = 1, max = 36, integer = true }, hot = { min = 50, max = 95 },"
        " warm = { min = 20, max = 80 } }, authority = { office = { max_value = { min = 0,"
        " max = 100000 } } } }");
    put("hq/lead.lua",
        "return { evaluate = function(lead, t) return { score = (lead.signals.s or 0) * 20,"
        " fit = true, risk_ok = true, reasons = { 'r' } } end,"
        " thresholds = { mature_budget = 1000, horizon_months = 12, hot = 80, warm = 40 } }");
    put("hq/process.lua",
        "return { stages = { 'lead', 'opportunity', 'contract', 'closed' }, credit_limit = 100,"
        " act = function() return { error = 'conflict', message = 'x' } end,"
        " route = function(a, value) local o = a.office or {}"
        " if value <= (o.max_value or 1000) then return 'office' end return 'region' end }");
    put("hq/share.lua", "return { split = function() return {} end }");
    put("regions/south/thresholds.lua", "return { hot = 60 }");
}

static struct rules *open_rules_with(bool auto_approve)
{
    snprintf(dbpath, sizeof dbpath, "%s.db", root);
    struct err_detail why = {0};
    struct rules *r = NULL;
    if (store_open(dbpath, false, &st, &why) || rules_open(st, root, auto_approve, &r, &why)) {
        fprintf(stderr, "# open: %s\n", why.msg);
        return NULL;
    }
    return r;
}

static struct rules *open_rules(void)
{
    return open_rules_with(true);
}

static void done_all(struct rules *r, struct jobs *j)
{
    jobs_close(j);
    rules_close(r);
    store_close(st);
    st = NULL;
    SH("rm -rf %s %s.db %s.db-wal %s.db-shm", root, root, root, root);
}

/* A stored lead of office 'pa' with signal s (score s * 20); at stage
 * opportunity with ATI approved at 'value' when value > 0. */
static int store_at(struct rules *r, int s, int value)
{
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:{s:i, s:s}, s:i, s:{s:i}}", "office", "pa",
                             "customer", "c", "title", "t", "source", "sales", "budget", "amount",
                             5000, "status", "approved", "horizon_months", 6, "signals", "s", s);
    json_t *l = NULL, *ev = NULL;
    const char *region = NULL;
    struct err_detail why = {0};
    int rc = rules_evaluate_lead(r, body, &l, &ev, &region, &why);
    int64_t id = 0;
    if (!rc)
        rc = store_instance_next_id(st, &id, &why);
    if (!rc) {
        json_object_set_new(l, "id", json_integer(id));
        json_object_set_new(l, "stage", json_string(value > 0 ? "opportunity" : "lead"));
        if (value > 0)
            json_object_set_new(l, "gates",
                                json_pack("{s:{s:s, s:i, s:i, s:i}}", "ATI", "outcome", "approve",
                                          "value", value, "discount", 5, "margin", 20));
        json_object_set_new(l, "created_at", json_string("2026-01-01T00:00:00Z"));
        json_object_set(l, "evaluation", ev);
        char *text = json_dumps(l, JSON_COMPACT);
        struct store_instance in = {.id = id,
                                    .stage = value > 0 ? "opportunity" : "lead",
                                    .region = region,
                                    .office = "pa",
                                    .doc = text,
                                    .at_ms = 1,
                                    .last_seq = 1};
        rc = store_instance_insert(st, &in, &why);
        free(text);
    }
    if (rc)
        fprintf(stderr, "# store_lead: %s\n", why.msg);
    json_decref(body);
    json_decref(l);
    json_decref(ev);
    return rc;
}

static int store_lead(struct rules *r, int s)
{
    return store_at(r, s, 0);
}

static int count_row(const struct store_instance_row *row, void *ctx)
{
    (void)row;
    ++*(int *)ctx;
    return 0;
}

static int count_instances(struct store *s)
{
    struct store_instance_filter f = {.limit = 100000};
    int n = 0;
    struct err_detail why = {0};
    if (store_instance_list(s, &f, count_row, &n, &why))
        return -1;
    return n;
}

/* --- shared by the loop and the jobs -------------------------------------- */

/* The loop and a job's thread may be the first to need the empty object
 * Lua's {} stands for (rules__as_object), at the same time: under
 * -fsanitize=thread this test is where a lazy, unlocked start would show. */
static pthread_barrier_t both;

static void *as_object_twice(void *arg)
{
    json_t *empty = json_array();
    pthread_barrier_wait(&both); /* both threads ask at once */
    const json_t *o = rules__as_object(empty);
    *(bool *)arg = json_is_object(o) && json_object_size(o) == 0;
    json_decref(empty);
    return NULL;
}

TEST(the_empty_object_is_made_once_for_every_thread)
{
    pthread_t t[2];
    bool ok[2] = {false, false};
    pthread_barrier_init(&both, NULL, 2);
    for (int i = 0; i < 2; i++)
        CHECK(pthread_create(&t[i], NULL, as_object_twice, &ok[i]) == 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&both);
    CHECK(ok[0] && ok[1]);
}

/* --- one job, watched from both sides ------------------------------------ */

struct probe {
    struct rules *live;
    pthread_t loop_thread, job_thread;
    bool own_rules, same_version, own_sandbox;
    uv_sem_t counted, committed; /* job -> test, test -> job */
    int before, after;           /* instances the job saw, before and after the commit */
    int done_calls, done_rc;
};

static int probe_work(const struct job_env *env, void *ctx, struct err_detail *why)
{
    (void)why;
    struct probe *p = ctx;
    p->job_thread = pthread_self();
    struct rules_version *mine = rules_hq(env->rules), *live = rules_hq(p->live);
    p->own_rules = env->rules != p->live && mine != live;
    p->same_version = mine && mine->version == live->version && !strcmp(mine->hash, live->hash);
    p->own_sandbox = mine && mine->sb != live->sb;
    p->before = count_instances(env->st);
    uv_sem_post(&p->counted);
    uv_sem_wait(&p->committed);
    p->after = count_instances(env->st);
    return 0;
}

static void probe_done(int rc, const struct err_detail *why, void *ctx)
{
    (void)why;
    struct probe *p = ctx;
    p->done_calls++;
    p->done_rc = rc;
}

TEST(a_job_runs_on_its_own_thread_and_snapshot_while_the_loop_commits)
{
    write_tree();
    struct rules *r = open_rules();
    CHECK(r != NULL);
    struct err_detail why = {0};
    CHECK(store_begin(st, &why) == 0);
    for (int i = 0; i < 3; i++)
        CHECK(store_lead(r, 4) == 0);
    CHECK(store_commit(st, &why) == 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct jobs *j = NULL;
    CHECK(jobs_open(&loop, dbpath, &j, &why) == 0);
    struct probe p = {.live = r, .loop_thread = pthread_self()};
    uv_sem_init(&p.counted, 0);
    uv_sem_init(&p.committed, 0);
    CHECK(job_submit(j, r, probe_work, probe_done, &p, &why) == 0);
    CHECK(jobs_in_flight(j) == 1);
    uv_sem_wait(&p.counted); /* the job holds its snapshot: the loop writes anyway */
    CHECK(store_begin(st, &why) == 0);
    CHECK(store_lead(r, 4) == 0);
    CHECK(store_commit(st, &why) == 0);
    uv_sem_post(&p.committed);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(p.done_calls == 1 && p.done_rc == 0);
    CHECK(!pthread_equal(p.job_thread, p.loop_thread));
    CHECK(p.own_rules && p.same_version && p.own_sandbox);
    CHECK(p.before == 3 && p.after == 3); /* one snapshot for the whole job */
    CHECK(count_instances(st) == 4);
    CHECK(jobs_in_flight(j) == 0);
    uv_loop_close(&loop);
    done_all(r, j);
}

/* --- the same answer off the loop ---------------------------------------- */

struct sim_job {
    const char *owner;
    int version;
    struct rules_simulation sim;
    json_t *out;
    int rc;
};

static int sim_work(const struct job_env *env, void *ctx, struct err_detail *why)
{
    struct sim_job *s = ctx;
    return rules_simulate(env->rules, s->owner, s->version, &s->sim, &s->out, why);
}

static void sim_done(int rc, const struct err_detail *why, void *ctx)
{
    struct sim_job *s = ctx;
    s->rc = rc;
    if (rc)
        fprintf(stderr, "# job: %s\n", why->msg);
}

TEST(a_simulation_off_the_loop_equals_the_one_on_the_live_rules)
{
    write_tree();
    struct rules *r = open_rules_with(false); /* the candidate stays pending */
    CHECK(r != NULL);
    struct err_detail why = {0};
    CHECK(store_begin(st, &why) == 0);
    for (int i = 0; i < 1300; i++) /* more than two pages */
        CHECK(store_at(r, i % 5, i % 3 ? 0 : 3000) == 0);
    CHECK(store_commit(st, &why) == 0);
    struct rules_result res = {0};
    const char *src = "return function(lead) if lead.signals.s == 1 then error('one') end"
                      " return { hot = 55 } end";
    CHECK(rules_put_file(r, "region/south", "thresholds.lua", src, strlen(src), "t", &res, &why) ==
          0);
    const char *auth = "return { office = { max_value = 5000 } }";
    CHECK(rules_put_file(r, "region/south", "authority.lua", auth, strlen(auth), "t", &res, &why) ==
          0);
    struct sim_job s = {
        .owner = "region/south", .version = res.version, .sim = {.limit = 100000, .max_ms = 30000}};
    json_t *live = NULL;
    CHECK(rules_simulate(r, s.owner, s.version, &s.sim, &live, &why) == 0);
    CHECK(json_integer_value(json_object_get(live, "evaluated")) == 1300);
    CHECK(json_integer_value(json_object_get(live, "failed_total")) == 260);
    CHECK(json_integer_value(json_object_get(live, "routing_total")) > 0);
    CHECK(json_integer_value(json_object_get(live, "changed_total")) > 0);

    /* One side on a job's thread. */
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct jobs *j = NULL;
    CHECK(jobs_open(&loop, dbpath, &j, &why) == 0);
    CHECK(job_submit(j, r, sim_work, sim_done, &s, &why) == 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(s.rc == 0 && s.out);
    CHECK(json_equal(live, s.out));
    json_decref(s.out);

    /* Two sides, two threads: the same answer, limit included. */
    struct rules_snapshot *snap = NULL;
    struct rules *copy = NULL;
    CHECK(rules_snapshot_take(r, &snap, &why) == 0);
    CHECK(rules_snapshot_open(snap, st, &copy, &why) == 0);
    /* Off the loop a call holds nobody: the copy's deadline is the job's. */
    CHECK(sandbox_call_wall_ms(rules_hq(r)->sb) == SANDBOX_CALL_WALL_MS);
    CHECK(sandbox_call_wall_ms(rules_hq(copy)->sb) == SANDBOX_JOB_CALL_WALL_MS);
    struct rules *sides[2] = {r, copy};
    json_t *two = NULL;
    CHECK(rules_simulate_on(sides, 2, s.owner, s.version, &s.sim, &two, &why) == 0);
    CHECK(json_equal(live, two));
    json_decref(two);
    struct rules_simulation limited = {.limit = 777, .max_ms = 30000};
    json_t *one = NULL;
    CHECK(rules_simulate(r, s.owner, s.version, &limited, &one, &why) == 0);
    CHECK(rules_simulate_on(sides, 2, s.owner, s.version, &limited, &two, &why) == 0);
    CHECK(json_integer_value(json_object_get(two, "evaluated")) == 777);
    CHECK(json_is_true(json_object_get(two, "truncated")));
    CHECK(json_equal(one, two));
    json_decref(one);
    json_decref(two);
    rules_close(copy);
    rules_snapshot_free(snap);
    json_decref(live);
    uv_loop_close(&loop);
    done_all(r, j);
}

/* An allocation's text without its creation time (made when computed). */
static char *run_text_of(struct allocation *a)
{
    char *t = allocation_take_text(a), *at = t ? strstr(t, ",\"created_at\":\"") : NULL;
    if (at)
        memset(at + 14, '-', 20); /* "2026-12-02T05:00:00Z" */
    return t;
}

TEST(an_allocation_on_two_threads_equals_the_one_on_one)
{
    write_tree();
    SH("cp rules/hq/share.lua %s/hq/share.lua", root);
    put("hq/bounds.lua",
        "return { thresholds = { mature_budget = { min = 0, max = 1000000, integer = true },"
        " horizon_months = { min = 1, max = 36, integer = true }, hot = { min = 50, max = 95 },"
        " warm = { min = 20, max = 80 } }, share = { platform = { min = 5, max = 30 } } }");
    put("regions/north/share.lua", "return { platform = 15 }");
    struct rules *r = open_rules();
    CHECK(r != NULL);
    struct err_detail why = {0};
    static const char *const offices[] = {"pa", "pb", "nc"};
    CHECK(store_begin(st, &why) == 0);
    for (int i = 1; i <= 3000; i++) {
        struct store_instance in = {.id = i,
                                    .stage = "contract",
                                    .region = "south",
                                    .office = "pa",
                                    .doc = "{}",
                                    .at_ms = 1,
                                    .last_seq = 1};
        CHECK(store_instance_insert(st, &in, &why) == 0);
        struct store_ledger e = {.instance_id = i,
                                 .seq = 1,
                                 .kind = "cash",
                                 .amount = 1000 + (i * 7919) % 100000,
                                 .margin = 5 + i % 30,
                                 .at = "2026-03-15",
                                 .region = i % 3 == 2 ? "north" : "south",
                                 .office = offices[i % 3],
                                 .customer = "c",
                                 .product_line = "g",
                                 .ar = i % 5 ? "Li" : NULL,
                                 .sr = "Sun",
                                 .fr = i % 7 ? "Qian" : NULL};
        CHECK(store_ledger_append(st, &e, &why) == 0);
    }
    CHECK(store_commit(st, &why) == 0);
    struct rules_snapshot *snap = NULL;
    struct rules *copy = NULL;
    CHECK(rules_snapshot_take(r, &snap, &why) == 0);
    CHECK(rules_snapshot_open(snap, st, &copy, &why) == 0);
    /* Off the loop a call holds nobody: the copy's deadline is the job's. */
    CHECK(sandbox_call_wall_ms(rules_hq(r)->sb) == SANDBOX_CALL_WALL_MS);
    CHECK(sandbox_call_wall_ms(rules_hq(copy)->sb) == SANDBOX_JOB_CALL_WALL_MS);
    struct rules *sides[2] = {r, copy};
    struct allocation *one = NULL, *two = NULL;
    CHECK(allocation_compute(st, sides, 1, "2026", 100000000007, "t", &one, &why) == 0);
    CHECK(allocation_compute(st, sides, 2, "2026", 100000000007, "t", &two, &why) == 0);
    char *t1 = run_text_of(one), *t2 = run_text_of(two);
    CHECK(t1 && t2 && strlen(t1) > 100000 && !strcmp(t1, t2));
    CHECK(strstr(t1, "\"region/north\":") != NULL); /* the region's parameters were used */
    /* A region whose split breaks an invariant fails the run, however split. */
    const char *bad_src = "return { split = function(level, groups)"
                          " if level == 'person' then return {} end"
                          " local out = {} for i, g in ipairs(groups) do local o = {}"
                          " for k, u in ipairs(g.units) do o[u.key] = k == 1 and g.total or 0 end"
                          " out[i] = o end return out end }";
    struct rules_result res = {0};
    CHECK_MSG(rules_put_file(r, "hq", "share.lua", bad_src, strlen(bad_src), "t", &res, &why) == 0,
              "%s", why.msg);
    struct rules_snapshot *snap2 = NULL;
    struct rules *copy2 = NULL;
    CHECK(rules_snapshot_take(r, &snap2, &why) == 0);
    CHECK(rules_snapshot_open(snap2, st, &copy2, &why) == 0);
    sides[1] = copy2;
    struct allocation *bad = NULL;
    struct err_detail why1 = {0}, why2 = {0};
    CHECK(allocation_compute(st, sides, 1, "2026", 1000, "t", &bad, &why1) == -ERR_INVARIANT);
    CHECK(allocation_compute(st, sides, 2, "2026", 1000, "t", &bad, &why2) == -ERR_INVARIANT);
    CHECK_MSG(!strcmp(why1.msg, why2.msg), "%s / %s", why1.msg, why2.msg);
    free(t1);
    free(t2);
    allocation_free(one);
    allocation_free(two);
    rules_close(copy);
    rules_close(copy2);
    rules_snapshot_free(snap);
    rules_snapshot_free(snap2);
    rules_close(r);
    store_close(st);
    st = NULL;
    SH("rm -rf %s %s.db %s.db-wal %s.db-shm", root, root, root, root);
}

/* --- limits and shutdown ------------------------------------------------- */

static uv_sem_t release;
static int done_ok, done_refused, done_other;

static int hold_work(const struct job_env *env, void *ctx, struct err_detail *why)
{
    (void)env, (void)ctx, (void)why;
    uv_sem_wait(&release);
    return 0;
}

static void count_done(int rc, const struct err_detail *why, void *ctx)
{
    (void)ctx;
    if (!rc)
        done_ok++;
    else if (rc == -ERR_UNAVAILABLE && strstr(why->msg, "shutting down"))
        done_refused++;
    else
        done_other++;
}

TEST(past_the_waiting_limit_jobs_are_refused_and_a_stop_ends_the_waiting_ones)
{
    write_tree();
    struct rules *r = open_rules();
    CHECK(r != NULL);
    struct err_detail why = {0};
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct jobs *j = NULL;
    CHECK(jobs_open(&loop, dbpath, &j, &why) == 0);
    uv_sem_init(&release, 0);
    for (int i = 0; i < JOB_RUNNING_MAX + JOB_WAITING_MAX; i++)
        CHECK(job_submit(j, r, hold_work, count_done, NULL, &why) == 0);
    CHECK(jobs_in_flight(j) == JOB_RUNNING_MAX + JOB_WAITING_MAX);
    CHECK(job_submit(j, r, hold_work, count_done, NULL, &why) == -ERR_UNAVAILABLE);
    CHECK(strstr(why.msg, "try again") != NULL);
    jobs_stop(j); /* the waiting ones end now, the running ones finish */
    CHECK(done_refused == JOB_WAITING_MAX && done_ok == 0);
    CHECK(jobs_in_flight(j) == JOB_RUNNING_MAX);
    CHECK(job_submit(j, r, hold_work, count_done, NULL, &why) == -ERR_UNAVAILABLE);
    for (int i = 0; i < JOB_RUNNING_MAX; i++)
        uv_sem_post(&release);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(done_ok == JOB_RUNNING_MAX && done_refused == JOB_WAITING_MAX && done_other == 0);
    CHECK(jobs_in_flight(j) == 0);
    uv_loop_close(&loop);
    done_all(r, j);
}

TEST(a_job_on_a_database_it_cannot_open_ends_with_the_reason)
{
    write_tree();
    struct rules *r = open_rules();
    CHECK(r != NULL);
    struct err_detail why = {0};
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct jobs *j = NULL;
    char missing[400];
    snprintf(missing, sizeof missing, "%s-missing.db", root);
    CHECK(jobs_open(&loop, missing, &j, &why) == 0);
    done_ok = done_refused = done_other = 0;
    CHECK(job_submit(j, r, hold_work, count_done, NULL, &why) == 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(done_other == 1 && done_ok == 0);
    uv_loop_close(&loop);
    done_all(r, j);
}

/* --- a job copies the rules the loop runs ---------------------------------- */

/* An active region version that the current HQ's bounds would refuse (HQ
 * narrowed them after the region's approval) still runs on the loop; a job
 * runs it too, instead of failing to copy it. */
TEST(a_job_copies_an_active_version_a_later_hq_would_refuse)
{
    write_tree();
    struct rules *r = open_rules();
    CHECK(r != NULL);
    struct err_detail why = {0};
    CHECK(store_begin(st, &why) == 0);
    for (int i = 0; i < 5; i++)
        CHECK(store_lead(r, i) == 0);
    CHECK(store_commit(st, &why) == 0);
    struct rules_version *south = rules_active(r, "region/south");
    CHECK(south != NULL);
    int south_v = south ? south->version : 0;
    const char *narrow =
        "return { thresholds = { mature_budget = { min = 0, max = 1000000, integer = true },"
        " horizon_months = { min = 1, max = 36, integer = true }, hot = { min = 70, max = 95 },"
        " warm = { min = 20, max = 80 } }, authority = { office = { max_value = { min = 0,"
        " max = 100000 } } } }";
    struct rules_result res = {0};
    int hq_rc = rules_put_file(r, "hq", "bounds.lua", narrow, strlen(narrow), "t", &res, &why);
    CHECK_MSG(hq_rc == 0, "%s", why.msg);
    CHECK(rules_hq(r)->version == res.version);
    /* The loop still runs region/south's version (hot = 60). */
    CHECK(rules_active(r, "region/south") && rules_active(r, "region/south")->version == south_v);
    /* What HQ's version changes for every lead, the region's thresholds
     * included: on the live rules, then as a job. */
    json_t *live = NULL;
    struct rules_simulation sim = {.limit = 100, .max_ms = 30000};
    CHECK_MSG(rules_simulate(r, "hq", res.version, &sim, &live, &why) == 0, "%s", why.msg);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct jobs *j = NULL;
    CHECK(jobs_open(&loop, dbpath, &j, &why) == 0);
    struct sim_job s = {.owner = "hq", .version = res.version, .sim = sim};
    CHECK(job_submit(j, r, sim_work, sim_done, &s, &why) == 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(s.rc == 0 && s.out);
    CHECK(json_equal(live, s.out));
    json_decref(s.out);
    json_decref(live);
    uv_loop_close(&loop);
    done_all(r, j);
}

TEST_MAIN(T(the_empty_object_is_made_once_for_every_thread),
          T(a_job_runs_on_its_own_thread_and_snapshot_while_the_loop_commits),
          T(a_simulation_off_the_loop_equals_the_one_on_the_live_rules),
          T(an_allocation_on_two_threads_equals_the_one_on_one),
          T(past_the_waiting_limit_jobs_are_refused_and_a_stop_ends_the_waiting_ones),
          T(a_job_on_a_database_it_cannot_open_ends_with_the_reason),
          T(a_job_copies_an_active_version_a_later_hq_would_refuse))
