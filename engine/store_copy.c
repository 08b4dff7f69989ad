/* engine/store_copy.c: ltcd --copy-db (store_copy.h). */
#include "store_copy.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "db.h"
#include "store_backup.h"
#include "store_lock.h"
#include "store_schema.h"

#define COPY_PARAMS_MAX  8000       /* parameters of one multi-row INSERT (both kinds) */
#define COPY_BATCH_BYTES (16 << 20) /* text held for one INSERT before it is sent */
#define COPY_FETCH_ROWS  2000       /* PostgreSQL: rows a round trip, but for wide_tables */
#define COPY_PATH_MAX    4096
#define COPY_TMP_SUFFIX  ".copy-tmp-"
#define COPY_CACHE_KIB   65536 /* SQLite DEST's page cache while it is written */

/* Every table of the schema (store_schema.c, store_schema_pg.c), parents
 * before the tables whose foreign keys name them. 'types' has a letter a
 * column: i integer, r real, t text. 'key' is the primary key (the order of
 * the hash). 'seq' names, on PostgreSQL, the sequence that gives the table's
 * ids ('identity': the id column's own), set past the highest id copied. */
static const struct copy_table {
    const char *name, *cols, *types, *key, *seq;
    bool identity;
} tables[] = {
    {"instances",
     "id, stage, region, office, temperature, doc, created_at, updated_at, last_seq, customer,"
     " exposure, owner, review_due, funnel_value, outcome",
     "itttttiiitittit", "id", "instance_ids", false},
    {"events", "instance_id, seq, at, actor, action, payload, outcome, rules, person", "iiitttttt",
     "instance_id, seq", NULL, false},
    {"rule_versions",
     "owner, version, hash, status, files, origin, created_at, created_by, activated_at,"
     " approved_by, reason, signature, base",
     "tittttitittti", "owner, version", NULL, false},
    {"rule_active", "owner, version", "ti", "owner", NULL, false},
    {"rule_events", "id, owner, version, at, actor, action, hash, message", "itiitttt", "id",
     "rule_events", true},
    {"rule_numbers", "owner, number, key", "tit", "owner, number", NULL, false},
    {"rule_disk", "owner, hash, files, read_at", "ttti", "owner", NULL, false},
    {"rule_shadows", "id, owner, version, started_at, until_at, started_by, ended_at, end_reason",
     "itiiitit", "id", "rule_shadows", true},
    {"rule_shadow_results", "id, shadow_id, instance_id, at, differs, error, summary, active",
     "iiiiittt", "id", "rule_shadow_results", true},
    {"ledger",
     "id, instance_id, seq, kind, amount, margin, at, region, office, customer, product_line,"
     " ar, sr, fr",
     "iiitirtttttttt", "id", "ledger", true},
    {"ledger_attribution", "instance_id, region, office, customer, product_line, ar, sr, fr",
     "ittttttt", "instance_id", NULL, false},
    {"ledger_daily", "kind, at, office, amount_lo, amount_hi", "tttii", "kind, at, office", NULL,
     false},
    {"ledger_customers", "kind, month, office, customer, amount_lo, amount_hi", "ttttii",
     "kind, month, office, customer", NULL, false},
    {"share_runs", "id, period, pool, input_hash, result, created_at, created_by", "itittit", "id",
     "share_run_ids", false},
    {"share_run_parts", "run_id, part, text", "iit", "run_id, part", NULL, false},
    {"targets", "unit, period, metric, amount, set_at, set_by", "tttiit", "unit, period, metric",
     NULL, false},
    {"customer_exposure", "customer, amount_lo, amount_hi", "tii", "customer", NULL, false},
    {"person_load", "person, open_leads", "ti", "person", NULL, false},
    {"funnel_sums", "region, office, stage, outcome, n, value_lo, value_hi", "ttttiii",
     "region, office, stage, outcome", NULL, false},
    {"people", "id, region, office, active, doc, updated_at, updated_by", "tttitit", "id", NULL,
     false},
    {"customers", "id, region, office, credit_limit, doc, updated_at, updated_by", "tttitit", "id",
     NULL, false},
    {"activities",
     "id, region, person, office, customer, kind, at, budget_year, doc, created_at, created_by",
     "ittttttitit", "id", "activities", true},
    {"reviews", "id, unit, held_at, doc, created_at, created_by", "itttit", "id", "review_ids",
     false},
    {"forecasts", "id, region, office, customer, month, value, weighted, category, rules",
     "ittttiitt", "id", NULL, false},
    {"pipeline_sums",
     "month, office, customer, category, n, value_lo, value_hi, weighted_lo, weighted_hi",
     "ttttiiiii", "month, office, customer, category", NULL, false},
};
#define N_TABLES ((int)(sizeof tables / sizeof *tables))

void (*store_copydb_fault)(struct db *dest);

/* Tables whose rows may be megabytes (an allocation run's text, its 4 MiB
 * parts, rule bundles): fewer rows a fetch, so that one round trip holds
 * tens of MiB, not gigabytes. */
static const struct {
    const char *name;
    int fetch_rows;
} wide_tables[] = {
    {"share_runs", 4},
    {"share_run_parts", 4},
    {"rule_versions", 32},
    {"rule_disk", 32},
};

static int fetch_rows(const struct copy_table *t)
{
    for (size_t i = 0; i < sizeof wide_tables / sizeof *wide_tables; i++)
        if (!strcmp(wide_tables[i].name, t->name))
            return wide_tables[i].fetch_rows;
    return COPY_FETCH_ROWS;
}

int store_copydb_table_count(void)
{
    return N_TABLES;
}

const char *store_copydb_table_name(int i)
{
    return i >= 0 && i < N_TABLES ? tables[i].name : NULL;
}

/* What one side of the copy is. */
struct side {
    const char *target; /* as given */
    char shown[512];    /* db_target_shown */
    struct db *db;
    bool pg;
};

/* Per table, as read from one side. */
struct tally {
    int64_t rows;
    unsigned char hash[crypto_generichash_BYTES];
};

static int fail(struct side *s, struct err_detail *why, const char *what)
{
    return err_set(why, -ERR_STORE, "%s: %s: %s", s->shown, what, db_message(s->db));
}

static int exec(struct side *s, const char *sql, struct err_detail *why)
{
    return db_exec(s->db, sql) ? fail(s, why, "exec") : 0;
}

/* One integer from a query of one row. */
static int query_int(struct side *s, const char *sql, const char *param, int64_t *out,
                     struct err_detail *why)
{
    struct db_stmt *st = NULL;
    if (db_prepare(s->db, sql, &st))
        return fail(s, why, "prepare");
    if (param)
        db_bind_text(st, 1, param);
    int rc = db_step(st);
    if (rc == DB_ROW)
        *out = db_column_int64(st, 0);
    int err = rc == DB_ERROR ? fail(s, why, "query") : 0;
    if (rc == DB_DONE)
        err = err_set(why, -ERR_STORE, "%s: no row from %s", s->shown, sql);
    db_finalize(st);
    return err;
}

/* The list of every table's name, ','-separated, for ANY(string_to_array). */
static void table_names(struct buf *b)
{
    buf_str(b, "ltc_schema");
    for (int t = 0; t < N_TABLES; t++)
        buf_printf(b, ",%s", tables[t].name);
}

/* The schema version of an opened side into *version: 0, or an error (a
 * PostgreSQL database without ltc_schema holds no ltcd database). */
static int schema_version(struct side *s, int *version, struct err_detail *why)
{
    int64_t v = 0;
    int rc = 0;
    if (s->pg) {
        int64_t n = 0;
        rc = query_int(s,
                       "SELECT count(*) FROM information_schema.tables"
                       " WHERE table_schema = current_schema() AND table_name = 'ltc_schema'",
                       NULL, &n, why);
        if (!rc && !n)
            return err_set(why, -ERR_STORE, "%s holds no ltcd database", s->shown);
        if (!rc)
            rc = query_int(s, "SELECT version FROM ltc_schema", NULL, &v, why);
    } else {
        rc = query_int(s, "PRAGMA user_version", NULL, &v, why);
    }
    *version = (int)v;
    return rc;
}

/* The tables and their columns are those this file knows: a migration that
 * adds either must add it to 'tables' too, or every copy refuses. */
static int check_tables(struct side *s, struct err_detail *why)
{
    int64_t n = 0;
    int rc = query_int(s,
                       s->pg ? "SELECT count(*) FROM information_schema.tables"
                               " WHERE table_schema = current_schema()"
                               " AND table_name <> 'ltc_schema'"
                             : "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
                               " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                       NULL, &n, why);
    if (!rc && n != N_TABLES)
        return err_set(why, -ERR_STORE, "%s has %lld tables, this ltcd copies %d", s->shown,
                       (long long)n, N_TABLES);
    for (int t = 0; !rc && t < N_TABLES; t++) {
        rc = query_int(s,
                       s->pg ? "SELECT count(*) FROM information_schema.columns"
                               " WHERE table_schema = current_schema() AND table_name = ?1"
                             : "SELECT count(*) FROM pragma_table_info(?1)",
                       tables[t].name, &n, why);
        if (!rc && n != (int64_t)strlen(tables[t].types))
            rc = err_set(why, -ERR_STORE, "%s: table %s has %lld columns, this ltcd copies %zu",
                         s->shown, tables[t].name, (long long)n, strlen(tables[t].types));
    }
    return rc;
}

/* --- Reading a table in key order, and hashing its rows ---------------- */

struct reader {
    struct side *side;
    struct db_stmt *st;
    bool cursor; /* PostgreSQL: st fetches from the cursor ltc_copy */
    int fetched; /* rows of the current fetch */
};

/* The type letter of the column named by the 'n' bytes at 'name'. */
static char col_type(const struct copy_table *t, const char *name, size_t n)
{
    const char *p = t->cols;
    for (int col = 0; *p; col++) {
        size_t m = strcspn(p, ",");
        if (m == n && !strncmp(p, name, n))
            return t->types[col];
        p += m;
        p += strspn(p, ", ");
    }
    return '?';
}

static void select_sql(const struct copy_table *t, bool pg, struct buf *b)
{
    buf_printf(b, "SELECT %s FROM %s ORDER BY ", t->cols, t->name);
    /* PostgreSQL's default collation is the locale's; "C" is SQLite's
     * BINARY (byte order), so both sides hash rows in one order. */
    for (const char *k = t->key; *k;) {
        size_t n = strcspn(k, ",");
        buf_put(b, k, n);
        if (pg && col_type(t, k, n) == 't')
            buf_str(b, " COLLATE \"C\"");
        k += n;
        if (*k) {
            buf_str(b, ", ");
            k += strspn(k, ", ");
        }
    }
}

static int reader_open(struct reader *r, struct side *s, const struct copy_table *t,
                       struct err_detail *why)
{
    *r = (struct reader){.side = s, .cursor = s->pg};
    struct buf sql = {0};
    if (s->pg)
        buf_str(&sql, "DECLARE ltc_copy NO SCROLL CURSOR FOR ");
    select_sql(t, s->pg, &sql);
    if (sql.failed) {
        buf_deinit(&sql);
        return err_set(why, -ERR_NOMEM, "out of memory");
    }
    int rc = 0;
    if (s->pg) {
        rc = exec(s, sql.p, why);
        char fetch[64];
        snprintf(fetch, sizeof fetch, "FETCH %d FROM ltc_copy", fetch_rows(t));
        if (!rc && db_prepare(s->db, fetch, &r->st))
            rc = fail(s, why, "prepare fetch");
    } else if (db_prepare(s->db, sql.p, &r->st)) {
        rc = fail(s, why, "prepare read");
    }
    buf_deinit(&sql);
    return rc;
}

/* DB_ROW, DB_DONE or DB_ERROR, as db_step. */
static int reader_step(struct reader *r)
{
    int rc = db_step(r->st);
    if (!r->cursor || rc != DB_DONE) {
        r->fetched += rc == DB_ROW;
        return rc;
    }
    if (!r->fetched)
        return DB_DONE;
    db_reset(r->st);
    r->fetched = 0;
    rc = db_step(r->st);
    r->fetched += rc == DB_ROW;
    return rc;
}

static void reader_close(struct reader *r)
{
    db_finalize(r->st);
    r->st = NULL;
    if (r->cursor && db_in_transaction(r->side->db))
        db_exec(r->side->db, "CLOSE ltc_copy");
}

static void put_u64(crypto_generichash_state *h, uint64_t v)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (56 - 8 * i));
    crypto_generichash_update(h, b, sizeof b);
}

/* The row's encoding: a column NULL is the byte 0; an integer 'i' and its
 * 8 bytes, a real 'r' and its IEEE 754 bits, a text 't', its length (8
 * bytes) and bytes; all big-endian. */
static void hash_row(crypto_generichash_state *h, const struct copy_table *t, struct db_stmt *st)
{
    for (int c = 0; t->types[c]; c++) {
        unsigned char tag = (unsigned char)t->types[c];
        if (db_column_null(st, c)) {
            tag = 0;
            crypto_generichash_update(h, &tag, 1);
            continue;
        }
        crypto_generichash_update(h, &tag, 1);
        if (tag == 'i') {
            put_u64(h, (uint64_t)db_column_int64(st, c));
        } else if (tag == 'r') {
            double d = db_column_double(st, c);
            uint64_t bits;
            memcpy(&bits, &d, sizeof bits);
            put_u64(h, bits);
        } else {
            size_t n = db_column_bytes(st, c);
            put_u64(h, n);
            crypto_generichash_update(h, (const unsigned char *)db_column_text(st, c), n);
        }
    }
}

/* --- Writing rows in multi-row INSERTs ---------------------------------- */

struct value {
    int64_t i;
    double r;
    size_t off, len; /* text: in batch.text */
    bool null;
};

struct batch {
    struct side *side;
    const struct copy_table *t;
    int cols, rows, cap;  /* columns a row; rows held; rows of a full INSERT */
    struct value *v;      /* owned: cap * cols */
    struct buf text;      /* the rows' texts */
    struct db_stmt *full; /* the INSERT of cap rows, prepared at the first full batch */
};

static int insert_sql(const struct batch *b, int rows, struct buf *sql)
{
    buf_printf(sql, "INSERT INTO %s (%s) VALUES ", b->t->name, b->t->cols);
    for (int r = 0, p = 1; r < rows; r++) {
        buf_str(sql, r ? ", (" : "(");
        for (int c = 0; c < b->cols; c++)
            buf_printf(sql, c ? ", ?%d" : "?%d", p++);
        buf_str(sql, ")");
    }
    return sql->failed ? -1 : 0;
}

static int batch_flush(struct batch *b, struct err_detail *why)
{
    if (!b->rows)
        return 0;
    struct db_stmt *st = b->rows == b->cap ? b->full : NULL;
    bool own = b->rows != b->cap;
    if (!st) {
        struct buf sql = {0};
        int rc = insert_sql(b, b->rows, &sql) ? err_set(why, -ERR_NOMEM, "out of memory") : 0;
        if (!rc && db_prepare(b->side->db, sql.p, &st))
            rc = fail(b->side, why, "prepare insert");
        buf_deinit(&sql);
        if (rc)
            return rc;
        if (!own)
            b->full = st;
    }
    for (int r = 0, p = 1; r < b->rows; r++) {
        for (int c = 0; c < b->cols; c++, p++) {
            const struct value *v = &b->v[r * b->cols + c];
            if (v->null)
                db_bind_null(st, p);
            else if (b->t->types[c] == 'i')
                db_bind_int64(st, p, v->i);
            else if (b->t->types[c] == 'r')
                db_bind_double(st, p, v->r);
            else
                db_bind_text_n(st, p, b->text.p + v->off, v->len);
        }
    }
    int rc = db_step(st) == DB_ERROR ? fail(b->side, why, b->t->name) : 0;
    db_reset(st);
    if (own)
        db_finalize(st);
    b->rows = 0;
    b->text.len = 0;
    return rc;
}

/* Take the reader's current row into the batch, sending it when full. */
static int batch_add(struct batch *b, struct db_stmt *from, struct err_detail *why)
{
    struct value *row = &b->v[b->rows * b->cols];
    for (int c = 0; c < b->cols; c++) {
        struct value *v = &row[c];
        *v = (struct value){.null = db_column_null(from, c)};
        if (v->null)
            continue;
        if (b->t->types[c] == 'i') {
            v->i = db_column_int64(from, c);
        } else if (b->t->types[c] == 'r') {
            v->r = db_column_double(from, c);
        } else {
            v->off = b->text.len;
            v->len = db_column_bytes(from, c);
            buf_put(&b->text, db_column_text(from, c), v->len);
        }
    }
    if (b->text.failed)
        return err_set(why, -ERR_NOMEM, "out of memory");
    if (++b->rows == b->cap || b->text.len >= COPY_BATCH_BYTES)
        return batch_flush(b, why);
    return 0;
}

/* Copy table 't' from 'src' to 'dst', tallying what was read. */
static int copy_table(struct side *src, struct side *dst, const struct copy_table *t,
                      struct tally *read, struct err_detail *why)
{
    struct batch b = {.side = dst, .t = t, .cols = (int)strlen(t->types)};
    b.cap = COPY_PARAMS_MAX / b.cols;
    b.v = calloc((size_t)(b.cap * b.cols), sizeof *b.v);
    if (!b.v)
        return err_set(why, -ERR_NOMEM, "out of memory");
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, sizeof read->hash);
    struct reader r;
    int rc = reader_open(&r, src, t, why), step = DB_DONE;
    read->rows = 0;
    while (!rc && (step = reader_step(&r)) == DB_ROW) {
        hash_row(&h, t, r.st);
        read->rows++;
        rc = batch_add(&b, r.st, why);
    }
    if (!rc && step == DB_ERROR)
        rc = fail(src, why, t->name);
    if (!rc)
        rc = batch_flush(&b, why);
    reader_close(&r);
    db_finalize(b.full);
    free(b.v);
    buf_deinit(&b.text);
    crypto_generichash_final(&h, read->hash, sizeof read->hash);
    return rc;
}

/* Read table 't' again (DEST as written) and tally it. */
static int tally_table(struct side *s, const struct copy_table *t, struct tally *out,
                       struct err_detail *why)
{
    crypto_generichash_state h;
    crypto_generichash_init(&h, NULL, 0, sizeof out->hash);
    struct reader r;
    int rc = reader_open(&r, s, t, why), step = DB_DONE;
    out->rows = 0;
    while (!rc && (step = reader_step(&r)) == DB_ROW) {
        hash_row(&h, t, r.st);
        out->rows++;
    }
    if (!rc && step == DB_ERROR)
        rc = fail(s, why, t->name);
    reader_close(&r);
    crypto_generichash_final(&h, out->hash, sizeof out->hash);
    return rc;
}

static int verify(struct side *dst, const struct tally *src, struct err_detail *why)
{
    int rc = check_tables(dst, why);
    for (int t = 0; !rc && t < N_TABLES; t++) {
        struct tally got;
        rc = tally_table(dst, &tables[t], &got, why);
        if (!rc && got.rows != src[t].rows)
            rc = err_set(why, -ERR_STORE,
                         "verification failed: %s has %lld rows in %s, %lld in the source",
                         tables[t].name, (long long)got.rows, dst->shown, (long long)src[t].rows);
        else if (!rc && memcmp(got.hash, src[t].hash, sizeof got.hash))
            rc = err_set(why, -ERR_STORE,
                         "verification failed: the rows of %s in %s differ from the source's",
                         tables[t].name, dst->shown);
    }
    return rc;
}

/* --- The schema and the triggers on DEST -------------------------------- */

/* The migrations of store_schema.c (SQLite) or store_schema_pg.c, all in
 * the caller's transaction, as store_open would apply them one by one. */
static int create_schema(struct side *d, struct err_detail *why)
{
    char bump[64];
    int rc = 0;
    if (d->pg) {
        rc = exec(d,
                  "SELECT pg_advisory_xact_lock(" STORE_PG_MIGRATE_LOCK ");"
                  " CREATE TABLE ltc_schema (version BIGINT NOT NULL);"
                  " INSERT INTO ltc_schema VALUES (0)",
                  why);
        for (int i = 0; !rc && i < store_pg_migration_count; i++)
            rc = exec(d, store_pg_migrations[i], why);
        snprintf(bump, sizeof bump, "UPDATE ltc_schema SET version=%d", store_migration_count);
    } else {
        for (int i = 0; !rc && i < store_migration_count; i++)
            rc = exec(d, store_migrations[i], why);
        snprintf(bump, sizeof bump, "PRAGMA user_version=%d", store_migration_count);
    }
    return rc ? rc : exec(d, bump, why);
}

/* SQLite's triggers, to drop during the copy and create again after it. */
struct triggers {
    char **name, **sql;
    int n;
};

static void triggers_free(struct triggers *tr)
{
    for (int i = 0; i < tr->n; i++) {
        free(tr->name[i]);
        free(tr->sql[i]);
    }
    free(tr->name);
    free(tr->sql);
    *tr = (struct triggers){0};
}

static int triggers_save(struct side *d, struct triggers *tr, struct err_detail *why)
{
    struct db_stmt *st = NULL;
    if (db_prepare(d->db, "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'", &st))
        return fail(d, why, "prepare triggers");
    int rc = 0, step;
    while (!rc && (step = db_step(st)) == DB_ROW) {
        char **name = realloc(tr->name, (size_t)(tr->n + 1) * sizeof *name);
        if (name)
            tr->name = name;
        char **sql = realloc(tr->sql, (size_t)(tr->n + 1) * sizeof *sql);
        if (sql)
            tr->sql = sql;
        if (!name || !sql) {
            rc = err_set(why, -ERR_NOMEM, "out of memory");
            break;
        }
        tr->name[tr->n] = strdup(db_column_text(st, 0));
        tr->sql[tr->n] = strdup(db_column_text(st, 1));
        tr->n++;
        if (!tr->name[tr->n - 1] || !tr->sql[tr->n - 1])
            rc = err_set(why, -ERR_NOMEM, "out of memory");
    }
    if (!rc && step == DB_ERROR)
        rc = fail(d, why, "triggers");
    db_finalize(st);
    return rc;
}

/* Summary rows are copied as they are: no trigger may add to them. */
static int triggers_off(struct side *d, struct triggers *tr, struct err_detail *why)
{
    char sql[256];
    int rc = 0;
    if (d->pg) {
        for (int t = 0; !rc && t < N_TABLES; t++) {
            snprintf(sql, sizeof sql, "ALTER TABLE %s DISABLE TRIGGER USER", tables[t].name);
            rc = exec(d, sql, why);
        }
        return rc;
    }
    rc = triggers_save(d, tr, why);
    for (int i = 0; !rc && i < tr->n; i++) {
        snprintf(sql, sizeof sql, "DROP TRIGGER \"%s\"", tr->name[i]);
        rc = exec(d, sql, why);
    }
    return rc;
}

static int triggers_on(struct side *d, const struct triggers *tr, struct err_detail *why)
{
    char sql[256];
    int rc = 0;
    for (int t = 0; d->pg && !rc && t < N_TABLES; t++) {
        snprintf(sql, sizeof sql, "ALTER TABLE %s ENABLE TRIGGER USER", tables[t].name);
        rc = exec(d, sql, why);
    }
    for (int i = 0; !d->pg && !rc && i < tr->n; i++)
        rc = exec(d, tr->sql[i], why);
    return rc;
}

/* PostgreSQL: nextval never gives an id already used. */
static int set_sequences(struct side *d, struct err_detail *why)
{
    char sql[512];
    int rc = 0;
    for (int t = 0; d->pg && !rc && t < N_TABLES; t++) {
        const struct copy_table *x = &tables[t];
        if (!x->seq)
            continue;
        char seq[160];
        if (x->identity)
            snprintf(seq, sizeof seq, "pg_get_serial_sequence('%s', 'id')", x->seq);
        else
            snprintf(seq, sizeof seq, "'%s'", x->seq);
        snprintf(sql, sizeof sql,
                 "SELECT setval(%s, coalesce(max(id), 1), max(id) IS NOT NULL) FROM %s", seq,
                 x->name);
        rc = exec(d, sql, why);
    }
    return rc;
}

/* Schema, rows, triggers, sequences: DEST's transaction is open. */
static int fill(struct side *src, struct side *dst, struct tally *read,
                struct store_copydb_info *info, struct err_detail *why)
{
    struct triggers tr = {0};
    int rc = create_schema(dst, why);
    if (!rc)
        rc = triggers_off(dst, &tr, why);
    for (int t = 0; !rc && t < N_TABLES; t++) {
        rc = copy_table(src, dst, &tables[t], &read[t], why);
        info->rows += read[t].rows;
    }
    if (!rc)
        rc = triggers_on(dst, &tr, why);
    if (!rc)
        rc = set_sequences(dst, why);
    triggers_free(&tr);
    return rc;
}

/* --- The two sides ------------------------------------------------------- */

static bool exists(const char *path, off_t *size)
{
    struct stat sb;
    if (stat(path, &sb))
        return false;
    *size = sb.st_size;
    return true;
}

/* SRC open, in its snapshot, at this binary's schema. */
static int open_src(struct side *s, struct store_copydb_info *info, struct err_detail *why)
{
    off_t size = 0;
    if (!s->pg && !exists(s->target, &size))
        return err_set(why, -ERR_NOT_FOUND, "%s: no such database", s->shown);
    int rc = db_open(s->target, true, &s->db, why);
    if (rc)
        return rc;
    rc = exec(s, s->pg ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN", why);
    int version = 0;
    if (!rc)
        rc = schema_version(s, &version, why);
    if (!rc && !s->pg && version == 0)
        rc = err_set(why, -ERR_STORE, "%s holds no ltcd database (schema 0)", s->shown);
    else if (!rc && version < store_migration_count)
        rc = err_set(why, -ERR_STORE,
                     "%s is at schema %d, older than this ltcd's %d: start this ltcd on it once"
                     " (which migrates it), then copy",
                     s->shown, version, store_migration_count);
    else if (!rc && version > store_migration_count)
        rc = err_set(why, -ERR_STORE, "%s is at schema %d, newer than this ltcd's %d: refusing",
                     s->shown, version, store_migration_count);
    if (!rc)
        rc = check_tables(s, why);
    info->schema = version;
    return rc;
}

/* PostgreSQL DEST: one transaction, committed once verified. */
static int copy_to_pg(struct side *src, struct side *dst, struct tally *read,
                      struct store_copydb_info *info, struct err_detail *why)
{
    int rc = db_open(dst->target, false, &dst->db, why);
    if (rc)
        return rc;
    struct buf names = {0};
    table_names(&names);
    int64_t n = 0;
    rc = exec(dst, "BEGIN", why);
    if (!rc)
        rc = exec(dst, "SELECT pg_advisory_xact_lock(" STORE_PG_MIGRATE_LOCK ")", why);
    if (!rc && names.failed)
        rc = err_set(why, -ERR_NOMEM, "out of memory");
    if (!rc)
        rc = query_int(dst,
                       "SELECT count(*) FROM information_schema.tables"
                       " WHERE table_schema = current_schema()"
                       " AND table_name = ANY (string_to_array(?1, ','))",
                       names.p, &n, why);
    buf_deinit(&names);
    if (!rc && n)
        rc = err_set(why, -ERR_CONFLICT,
                     "%s already holds ltcd tables: --copy-db writes only into a new database",
                     dst->shown);
    /* The daemon's listings follow the database's order of text: on
     * PostgreSQL its default collation's, on SQLite byte order. */
    int64_t bytewise = 0;
    if (!rc)
        rc = query_int(dst, "SELECT CAST('B' < 'a' AND 'Z' < 'a' AND 'z' < 'é' AS INTEGER)", NULL,
                       &bytewise, why);
    if (!rc && !bytewise)
        rc = err_set(why, -ERR_USAGE,
                     "%s sorts text in its locale's order, not in bytes as SQLite does (listings"
                     " would come in another order): create it with CREATE DATABASE ... TEMPLATE"
                     " template0 LOCALE 'C.UTF-8'",
                     dst->shown);
    if (!rc)
        rc = fill(src, dst, read, info, why);
    if (!rc && store_copydb_fault)
        store_copydb_fault(dst->db);
    if (!rc)
        rc = verify(dst, read, why);
    if (!rc)
        rc = exec(dst, "COMMIT", why);
    if (rc && db_in_transaction(dst->db))
        db_exec(dst->db, "ROLLBACK");
    return rc;
}

/* The copy written to 'tmp', closed, then read again from the file. */
static int write_sqlite(struct side *src, struct side *dst, const char *tmp, struct tally *read,
                        struct store_copydb_info *info, struct err_detail *why)
{
    struct side w = *dst;
    w.target = tmp;
    int rc = db_open(tmp, false, &w.db, why);
    char cache[64];
    snprintf(cache, sizeof cache, "PRAGMA cache_size=-%d", COPY_CACHE_KIB);
    /* Nothing reads the file before it is verified and fsynced below. */
    if (!rc)
        rc = exec(&w, "PRAGMA synchronous=OFF", why);
    if (!rc)
        rc = exec(&w, cache, why);
    if (!rc)
        rc = exec(&w, "BEGIN IMMEDIATE", why);
    if (!rc)
        rc = fill(src, &w, read, info, why);
    if (!rc)
        rc = exec(&w, "COMMIT", why);
    if (!rc && store_copydb_fault)
        store_copydb_fault(w.db);
    db_close(w.db);
    if (rc)
        return rc;
    struct side r = *dst;
    r.target = tmp;
    rc = db_open(tmp, true, &r.db, why);
    int version = 0;
    if (!rc)
        rc = exec(&r, "BEGIN", why);
    if (!rc)
        rc = schema_version(&r, &version, why);
    if (!rc && version != store_migration_count)
        rc = err_set(why, -ERR_STORE, "verification failed: %s is at schema %d", dst->shown,
                     version);
    if (!rc)
        rc = verify(&r, read, why);
    struct db_stmt *st = NULL;
    if (!rc && db_prepare(r.db, "PRAGMA quick_check", &st))
        rc = fail(&r, why, "quick_check");
    if (!rc && (db_step(st) != DB_ROW || strcmp(db_column_text(st, 0), "ok")))
        rc = err_set(why, -ERR_STORE, "verification failed: %s: quick_check: %s", dst->shown,
                     db_column_text(st, 0) ? db_column_text(st, 0) : db_message(r.db));
    db_finalize(st);
    if (r.db)
        db_exec(r.db, "COMMIT");
    db_close(r.db);
    return rc;
}

/* SQLite DEST: under its lock, a temporary file renamed into place. */
static int copy_to_sqlite(struct side *src, struct side *dst, struct tally *read,
                          struct store_copydb_info *info, struct err_detail *why)
{
    char tmp[COPY_PATH_MAX], side[COPY_PATH_MAX + 16];
    if (snprintf(tmp, sizeof tmp, "%s" COPY_TMP_SUFFIX "%ld", dst->target, (long)getpid()) >=
        (int)sizeof tmp)
        return err_set(why, -ERR_USAGE, "%s: path too long", dst->shown);
    struct store_lock *lock = NULL;
    int rc = store_lock_open(dst->target, &lock, why); /* names DEST and its holder */
    if (rc)
        return rc;
    off_t size = 0;
    if (exists(dst->target, &size) && size > 0)
        rc = err_set(why, -ERR_CONFLICT,
                     "%s exists (%lld bytes): --copy-db writes only a new database", dst->shown,
                     (long long)size);
    if (!rc) {
        store_sweep_stale(dst->target, COPY_TMP_SUFFIX);
        store_unlink_with_side_files(tmp);
        rc = write_sqlite(src, dst, tmp, read, info, why);
    }
    if (!rc)
        rc = store_fsync_path(tmp, false, why);
    /* Side files of an earlier database of that name would be read as the
     * new one's (a hot journal rolled back over it). */
    for (size_t i = 0; !rc && i < STORE_SIDE_FILES; i++) {
        snprintf(side, sizeof side, "%s%s", dst->target, store_side_suffixes[i]);
        if (unlink(side) && errno != ENOENT)
            rc = err_set(why, -ERR_IO, "cannot remove %s: %s", side, strerror(errno));
    }
    if (!rc && rename(tmp, dst->target))
        rc = err_set(why, -ERR_IO, "cannot rename %s to %s: %s", tmp, dst->target, strerror(errno));
    if (!rc) {
        char dir[COPY_PATH_MAX];
        store_dir_of(dst->target, dir, sizeof dir);
        rc = store_fsync_path(dir, true, why);
    } else {
        store_unlink_with_side_files(tmp);
    }
    store_lock_close(lock);
    return rc;
}

static bool same_database(const struct side *a, const struct side *b)
{
    if (a->pg != b->pg)
        return false;
    if (a->pg)
        return !strcmp(a->target, b->target);
    char *ra = store_path_resolve(a->target), *rb = store_path_resolve(b->target);
    bool same = ra && rb && !strcmp(ra, rb);
    free(ra);
    free(rb);
    struct stat sa, sb;
    return same || (!stat(a->target, &sa) && !stat(b->target, &sb) && sa.st_dev == sb.st_dev &&
                    sa.st_ino == sb.st_ino);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int store_copydb(const char *src, const char *dest, struct store_copydb_info *info,
                 struct err_detail *why)
{
    double started = now_s();
    struct store_copydb_info local;
    if (!info)
        info = &local;
    *info = (struct store_copydb_info){0};
    if (sodium_init() < 0)
        return err_set(why, -ERR_INTERNAL, "libsodium did not initialize");
    struct side s = {.target = src, .pg = db_is_postgresql(src)};
    struct side d = {.target = dest, .pg = db_is_postgresql(dest)};
    db_target_shown(src, s.shown, sizeof s.shown);
    db_target_shown(dest, d.shown, sizeof d.shown);
    if (same_database(&s, &d))
        return err_set(why, -ERR_USAGE, "SRC and DEST are the same database (%s)", s.shown);
    struct tally *read = calloc(N_TABLES, sizeof *read);
    if (!read)
        return err_set(why, -ERR_NOMEM, "out of memory");
    int rc = open_src(&s, info, why);
    if (!rc)
        rc = d.pg ? copy_to_pg(&s, &d, read, info, why) : copy_to_sqlite(&s, &d, read, info, why);
    if (s.db && db_in_transaction(s.db))
        db_exec(s.db, "COMMIT");
    db_close(s.db);
    db_close(d.db);
    if (!rc) {
        info->tables = N_TABLES;
        info->instances = read[0].rows;
        info->events = read[1].rows;
        sodium_bin2hex(info->events_hash, sizeof info->events_hash, read[1].hash,
                       sizeof read[1].hash);
        info->seconds = now_s() - started;
    }
    free(read);
    return rc;
}
