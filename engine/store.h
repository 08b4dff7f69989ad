/* engine/store.h
 *
 * The durable record of ltcd: one SQLite database in WAL mode. All SQL lives
 * in store.c (with store_leads.c, store_pipeline.c) and store_schema.c, run
 * through db.h's statements on the store's own connection; the rest of the
 * engine calls store_* and never sees db_* or sqlite3_*. Statements are
 * prepared once (at open, or at first use) and finalized at close.
 *
 * The record is the append-only `events` table (SQLite triggers refuse any
 * UPDATE or DELETE on it); `instances` holds each instance's current state,
 * written in the same transaction as the event that changed it. An instance
 * document (`doc`) is the JSON the API returns for the instance, stored whole
 * so a read is one row lookup.
 *
 * Transactions are explicit (store_begin / store_commit) so the caller can
 * group the writes of many requests into one commit. Inside a transaction,
 * store_savepoint / store_release / store_rollback_to isolate one request's
 * writes, so a refused request leaves nothing behind.
 *
 * Strings returned in rows are owned by the caller (free()) unless stated.
 * The daemon's connection is used on the loop thread only; readers
 * (store_open_reader) on the threads of job.h.
 */
#ifndef ENGINE_STORE_H
#define ENGINE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct store; /* opaque; one open database */

/* Open (creating if needed) and migrate. sync_full selects
 * PRAGMA synchronous=FULL (survives power loss) over NORMAL (survives a crash).
 * On success *out is owned by the caller (store_close). */
int store_open(const char *path, bool sync_full, struct store **out, struct err_detail *why);
void store_close(struct store *st);

/* A second, read-only connection to the database at 'path' (which a daemon
 * has opened and migrated: a schema other than this ltcd's is refused). For
 * long reads on another thread (job.h): each connection is used by one thread
 * at a time, and a reader never blocks the loop's writes (WAL). Nothing that
 * writes works on it. *out is owned by the caller (store_close). */
int store_open_reader(const char *path, struct store **out, struct err_detail *why);

/* Begin a read transaction whose reads all see the database as it was at
 * this call (one consistent snapshot, however many statements follow);
 * store_rollback ends it. */
int store_snapshot_begin(struct store *st, struct err_detail *why);

/* The schema version (number of migrations applied). */
int store_schema_version(struct store *st);

int store_begin(struct store *st, struct err_detail *why);
/* Commit; with sync_full, also fsync the WAL before returning (durable). */
int store_commit(struct store *st, struct err_detail *why);
/* Commit without the fsync: the caller must fsync store_sync_fd() (from any
 * thread) before acknowledging anything the transaction wrote. */
int store_commit_deferred(struct store *st, struct err_detail *why);
/* The descriptor to fsync after a deferred commit, or -1 when nothing needs
 * it (sync normal, or no WAL yet). Owned by the store. */
int store_sync_fd(struct store *st);
void store_rollback(struct store *st);
/* Report the fsync of store_sync_fd() that makes deferred commits durable:
 * 0, or the errno that made the store degraded. Loop thread. */
void store_sync_done(struct store *st, int sync_errno);
int store_savepoint(struct store *st, struct err_detail *why);
void store_release(struct store *st);
void store_rollback_to(struct store *st);

/* Instances. The next id is max(id) + 1 read inside the caller's transaction,
 * so an insert that is rolled back (a refused request, a failed commit) leaves
 * no gap; instances are never deleted, so an id is never reused. */
int store_instance_next_id(struct store *st, int64_t *id, struct err_detail *why);

struct store_instance {
    int64_t id;
    const char *stage;       /* borrowed for the call */
    const char *region;      /* region ID (without "region/") */
    const char *office;      /* office ID */
    const char *temperature; /* may be NULL */
    const char *doc;         /* JSON text of the whole instance */
    int64_t at_ms;           /* creation or update time */
    int64_t last_seq;        /* seq of the newest event */
    const char *customer;    /* the lead's customer (insert only) */
    int64_t exposure;        /* what it adds to its customer's credit exposure:
                              * its contract value while at stage contract, else 0 */
    const char *owner;       /* the lead's owner (person id), or NULL */
    const char *next_review; /* a nurtured lead's next review date, or NULL: at stage
                              * lead it waits in the review queue from then (at once
                              * without one); at any other stage it does not wait */
    int64_t prev_seq;        /* update only: the last_seq the caller read */
    /* Its place in the funnel (funnel_sums): its closure outcome, "" while
     * open, and its contract value, else its budget amount, else 0. NULL
     * 'outcome': the store reads both from 'doc' (slower; for tests and
     * tools that write documents by hand). */
    const char *outcome;
    int64_t funnel_value;
};

int store_instance_insert(struct store *st, const struct store_instance *in,
                          struct err_detail *why);
/* Replace state: stage, temperature, doc, updated_at, last_seq, exposure,
 * owner and next_review, only while the stored last_seq is in->prev_seq:
 * -ERR_RACE when another writer moved the instance on since it was read
 * (on PostgreSQL the update waits for that writer's commit, then finds it).
 * Update before appending the event, so the loser of a race fails here,
 * not on the event's key. */
int store_instance_update(struct store *st, const struct store_instance *in,
                          struct err_detail *why);

struct store_instance_row {
    int64_t id;
    char *stage, *region, *office, *temperature; /* owned; temperature may be NULL */
    char *doc;                                   /* owned */
    int64_t last_seq;
};
void store_instance_row_deinit(struct store_instance_row *row);

/* Where an instance is (its region and office ids, at most 63 bytes each:
 * they never change), without reading its document; -ERR_NOT_FOUND. */
#define STORE_ID_SIZE 64
int store_instance_where(struct store *st, int64_t id, char region[STORE_ID_SIZE],
                         char office[STORE_ID_SIZE], struct err_detail *why);

/* -ERR_NOT_FOUND when there is no such instance. */
int store_instance_get(struct store *st, int64_t id, struct store_instance_row *row,
                       struct err_detail *why);

struct store_instance_filter {
    const char *stage, *region, *office, *temperature; /* NULL: any */
    const char *owner;                                 /* the lead owner's person id; NULL: any */
    int64_t after_id;                                  /* ids greater than this */
    int limit;
};

/* Calls 'each' for every matching instance in id order; stops at 'limit' rows
 * or when 'each' returns non-zero. The row's strings are borrowed for the
 * call only. */
typedef int store_instance_cb(const struct store_instance_row *row, void *ctx);
int store_instance_list(struct store *st, const struct store_instance_filter *f,
                        store_instance_cb *each, void *ctx, struct err_detail *why);

/* As store_instance_list, with row->doc a JSON object of only the named
 * top-level fields of each document (NULL-terminated list of names of
 * [a-z_], at most STORE_FIELDS_MAX): a field the document lacks is null. For
 * long reads that need a few fields of many documents (a simulation). */
#define STORE_FIELDS_MAX 32
int store_instance_list_fields(struct store *st, const struct store_instance_filter *f,
                               const char *const *fields, store_instance_cb *each, void *ctx,
                               struct err_detail *why);

/* Events: append-only. */
struct store_event {
    int64_t instance_id;
    int64_t seq;
    int64_t at_ms;
    const char *actor;   /* "UNIT:ROLE" of the principal */
    const char *action;  /* "create", "review", ... */
    const char *payload; /* JSON text */
    const char *outcome; /* JSON text */
    const char *rules;   /* JSON text: { OWNER: VERSION } */
    const char *person;  /* the person id of the principal, or NULL (unknown) */
};

int store_event_append(struct store *st, const struct store_event *ev, struct err_detail *why);

/* Calls 'each' for every event of the instance in seq order; the event's
 * strings are borrowed for the call only. */
typedef int store_event_cb(const struct store_event *ev, void *ctx);
int store_event_list(struct store *st, int64_t instance_id, store_event_cb *each, void *ctx,
                     struct err_detail *why);

/* The signed value of the customer's open contracts (stage contract), but
 * instance 'exclude_id': the credit exposure a new contract adds to. One row
 * read: the sum is kept by triggers as instances change (migration 6), so
 * the cost does not grow with the number of contracts. */
int store_customer_exposure(struct store *st, const char *customer, int64_t exclude_id,
                            int64_t *out, struct err_detail *why);

/* Count instances (for tests and metrics). */
int64_t store_instance_count(struct store *st);

/* Rule versions: one row per distinct bundle content of an owner. 'files' is
 * the JSON object { FILE: SOURCE }. status is pending, active, retired (was
 * active), rejected or superseded. */
struct store_rule_version {
    const char *owner;
    int version;
    const char *hash; /* sha256 hex of the bundle */
    const char *status;
    const char *files;  /* NULL in listings */
    const char *origin; /* "disk" or "api" */
    int64_t created_at_ms;
    const char *created_by;
    int64_t activated_at_ms; /* 0 if never */
    const char *approved_by; /* may be NULL */
    const char *reason;      /* may be NULL */
    const char *signature;   /* hex ed25519 signature of the hash, or NULL */
    int base;                /* the version it was built on; 0: none */
};
typedef int store_rule_version_cb(const struct store_rule_version *v, void *ctx);
typedef int store_rule_active_cb(const char *owner, int version, void *ctx);

/* -ERR_RACE when the owner's version number is taken (another node numbered
 * its own submission the same meanwhile). */
int store_rule_version_insert(struct store *st, const struct store_rule_version *v,
                              struct err_detail *why);
/* The newest non-rejected version of 'owner' with that hash, or 0. */
int store_rule_version_by_hash(struct store *st, const char *owner, const char *hash, int *version,
                               struct err_detail *why);
int store_rule_version_max(struct store *st, const char *owner, int *version,
                           struct err_detail *why);
/* PostgreSQL: a lock of the database every node takes around work two
 * nodes must not do at once (reading rule trees into versions), held by
 * the connection until store_nodes_unlock; it waits for another node's.
 * SQLite: nothing to do (one node). */
int store_nodes_lock(struct store *st, struct err_detail *why);
void store_nodes_unlock(struct store *st);

/* The PostgreSQL channel an activation or a shadow run's start is told on
 * (to every node serving the database, nodes.h), its payload the owner. */
#define STORE_RULES_CHANNEL "ltc_rules"

/* Mark 'version' active, retire the owner's other active one and point
 * rule_active at it; on PostgreSQL, notify STORE_RULES_CHANNEL at the
 * commit. Run inside a transaction. -ERR_NOT_FOUND without the version,
 * -ERR_CONFLICT when it is active already (another node activated it
 * first: an approval happens once). */
int store_rule_activate(struct store *st, const char *owner, int version, int64_t at_ms,
                        const char *approved_by, struct err_detail *why);
int store_rule_set_status(struct store *st, const char *owner, int version, const char *status,
                          const char *reason, struct err_detail *why);
/* Mark the owner's pending versions older than 'by_version' superseded,
 * each with a rule event "superseded" (message "superseded by vN") by
 * 'actor' at 'at_ms'. Run inside a transaction. */
int store_rule_supersede(struct store *st, const char *owner, int by_version, int64_t at_ms,
                         const char *actor, struct err_detail *why);
int store_rule_active_list(struct store *st, store_rule_active_cb *each, void *ctx,
                           struct err_detail *why);
/* One version with its files; strings borrowed for the callback. */
int store_rule_version_get(struct store *st, const char *owner, int version,
                           store_rule_version_cb *each, void *ctx, struct err_detail *why);
/* Every version of an owner, oldest first, without files. */
int store_rule_version_list(struct store *st, const char *owner, store_rule_version_cb *each,
                            void *ctx, struct err_detail *why);
int store_rule_event_append(struct store *st, const char *owner, int version, int64_t at_ms,
                            const char *actor, const char *action, const char *hash,
                            const char *message, struct err_detail *why);

/* The newest retired version older than the active one (0 if none): where a
 * rollback goes. */
int store_rule_version_previous(struct store *st, const char *owner, int *version,
                                struct err_detail *why);

/* Lineage (CONTRACT 8.2). */

/* The owner's newest version that is pending or active (0 if none): what a
 * new version is built on. */
int store_rule_version_head(struct store *st, const char *owner, int *version,
                            struct err_detail *why);
/* The newest superseded or rejected version with that hash, or 0. */
int store_rule_version_dropped(struct store *st, const char *owner, const char *hash, int *version,
                               struct err_detail *why);

/* Version numbers. A candidate gets *number before it is validated; if it
 * is refused, store_rule_number_spend records the number with the
 * candidate's 'key' (its bundle hash, "" when unreadable), so the number is
 * never given to other content, across restarts too. The same key gets its
 * number back (refused again, or accepted later) while no stored version is
 * newer; a stored version spends its number by existing. */
int store_rule_number_next(struct store *st, const char *owner, const char *key, int *number,
                           struct err_detail *why);
int store_rule_number_spend(struct store *st, const char *owner, int number, const char *key,
                            struct err_detail *why);

/* What was last read from the owner's directory: its bundle hash and files
 * (JSON { FILE: SOURCE }, *files malloc'd), or hash "" and *files NULL when
 * never. */
int store_rule_disk_get(struct store *st, const char *owner, char hash[65], char **files,
                        struct err_detail *why);
int store_rule_disk_set(struct store *st, const char *owner, const char *hash, const char *files,
                        int64_t at_ms, struct err_detail *why);

struct store_rule_event {
    const char *owner;
    int version; /* 0 when none */
    int64_t at_ms;
    const char *actor, *action; /* upload, validation_failed, activate, approve, reject,
                                 * rollback, superseded */
    const char *hash, *message; /* may be NULL */
};
typedef int store_rule_event_cb(const struct store_rule_event *e, void *ctx);
int store_rule_event_list(struct store *st, const char *owner, store_rule_event_cb *each, void *ctx,
                          struct err_detail *why);

/* --- shadow runs (CONTRACT 8.2; issue 11) --------------------------------
 * A window in which live lead evaluations of an owner's scope are also run
 * under a pending version, and the compact result of each. Strings of rows
 * handed to callbacks are borrowed for the call only. */
struct store_shadow {
    int64_t id;
    const char *owner;
    int version;
    int64_t started_at_ms, until_ms;
    const char *started_by;
    int64_t ended_at_ms;    /* 0 while not ended early */
    const char *end_reason; /* NULL, or why it ended before until_ms */
};
typedef int store_shadow_cb(const struct store_shadow *s, void *ctx);

/* A new window (its id in *id); the open windows of the same owner and
 * version end now with reason "replaced". Run inside a transaction. */
int store_shadow_start(struct store *st, const struct store_shadow *s, int64_t *id,
                       struct err_detail *why);
/* End a window early (approved, rejected, superseded...). */
int store_shadow_end(struct store *st, int64_t id, int64_t at_ms, const char *reason,
                     struct err_detail *why);
/* The newest window of owner's version (none: 'each' is not called). */
int store_shadow_newest(struct store *st, const char *owner, int version, store_shadow_cb *each,
                        void *ctx, struct err_detail *why);
/* Every window not ended early whose until is after now_ms (for start-up). */
int store_shadow_running(struct store *st, int64_t now_ms, store_shadow_cb *each, void *ctx,
                         struct err_detail *why);

struct store_shadow_result {
    int64_t shadow_id, instance_id, at_ms;
    bool differs;
    const char *error;   /* NULL, or why the shadow evaluation failed */
    const char *summary; /* JSON text, NULL when it failed */
    const char *active;  /* JSON text of the live evaluation when they differ, or NULL */
};
typedef int store_shadow_result_cb(const struct store_shadow_result *r, void *ctx);
int store_shadow_result_insert(struct store *st, const struct store_shadow_result *r,
                               struct err_detail *why);
/* Results of a window: how many, how many differ, how many failed. */
int store_shadow_counts(struct store *st, int64_t shadow_id, int64_t *evaluated, int64_t *differing,
                        int64_t *failed, struct err_detail *why);
/* At most 'limit' results of a window, those that differ or failed first,
 * newest first within each. */
int store_shadow_examples(struct store *st, int64_t shadow_id, int limit,
                          store_shadow_result_cb *each, void *ctx, struct err_detail *why);
/* The status of one version into status (>= 16 bytes), "" when there is none. */
int store_rule_version_status(struct store *st, const char *owner, int version, char *status,
                              struct err_detail *why);

/* The ledger: what instances earn, attributed to every unit, append-only.
 * kind is "orders" (signed value) or "cash" (collected); margin in percent;
 * at is the date "YYYY-MM-DD" it happened. */
struct store_ledger {
    int64_t instance_id, seq;
    const char *kind;
    int64_t amount;
    double margin;
    const char *at, *region, *office, *customer, *product_line;
    const char *ar, *sr, *fr; /* may be NULL */
};
int store_ledger_append(struct store *st, const struct store_ledger *e, struct err_detail *why);

/* One instance's entries of a kind in [from, to), summed; the team and
 * attribution of its newest entry (of any period). Strings borrowed for the
 * callback. */
struct store_project {
    int64_t instance_id;
    const char *region, *office, *customer, *product_line, *ar, *sr, *fr;
    int64_t amount;         /* sum of amounts */
    double amount_x_margin; /* sum of amount * margin (percent) */
    int64_t records;
};
typedef int store_project_cb(const struct store_project *p, void *ctx);
int store_ledger_projects(struct store *st, const char *kind, const char *from, const char *to,
                          store_project_cb *each, void *ctx, struct err_detail *why);
typedef int store_total_cb(const char *unit, int64_t amount, void *ctx);
/* Sums of a kind in [from, to) by office. */
int store_ledger_offices(struct store *st, const char *kind, const char *from, const char *to,
                         store_total_cb *each, void *ctx, struct err_detail *why);

/* Allocation runs, stored in parts (allocation.h): the next free run id
 * (beyond every run and every part written); part 'part' of run 'id' (text
 * borrowed for the call); the run's row, which makes it exist, once every
 * part is in. A run's result is its parts joined in order (*result
 * malloc'd). */
int store_share_run_reserve(struct store *st, int64_t *id, struct err_detail *why);
int store_share_run_part(struct store *st, int64_t id, int part, const char *text, size_t len,
                         struct err_detail *why);
int store_share_run_insert(struct store *st, int64_t id, const char *period, int64_t pool,
                           const char *hash, int64_t at_ms, const char *by, struct err_detail *why);
int store_share_run_get(struct store *st, int64_t id, char **result, struct err_detail *why);

/* Targets by (unit, period, metric). */
int store_target_set(struct store *st, const char *unit, const char *period, const char *metric,
                     int64_t amount, int64_t at_ms, const char *by, struct err_detail *why);
int store_target_list(struct store *st, const char *period, const char *metric,
                      store_total_cb *each, void *ctx, struct err_detail *why);

/* Instances per stage. */
int store_instance_stage_counts(struct store *st, store_total_cb *each, void *ctx,
                                struct err_detail *why);

/* Instances and their value (contract value, else budget) by stage and, for
 * closed instances, by how they ended (closure.outcome; NULL for instances
 * without a closure), for a region or office (NULL: all). */
typedef int store_funnel_cb(const char *stage, const char *outcome, int64_t count, int64_t value,
                            void *ctx);
int store_funnel(struct store *st, const char *region, const char *office, store_funnel_cb *each,
                 void *ctx, struct err_detail *why);

/* The newest events of the instances of a region or office (NULL: all). */
int store_recent_events(struct store *st, const char *region, const char *office, int limit,
                        store_event_cb *each, void *ctx, struct err_detail *why);

bool store_in_transaction(struct store *st);

/* Health. A statement or commit that fails for a full disk, an I/O error or a
 * corrupt file, or a failed fsync (store_sync_done, store_commit), makes the
 * store degraded; the next commit that writes pages makes it healthy again.
 * Returns the latest failure's message (borrowed until the next store call)
 * and sets *since_ms (may be NULL) to when the trouble began, or NULL when
 * healthy. */
const char *store_degraded(const struct store *st, int64_t *since_ms);

/* A commit that changes nothing yet writes a page (and fsyncs it with
 * sync_full), to find out whether the disk takes writes again: 0 clears the
 * degraded state. On PostgreSQL it connects again first (the server came
 * back; statements are prepared again as they are used). Not inside a
 * transaction.
 *
 * PostgreSQL: a server that is gone fails every statement with
 * -ERR_UNAVAILABLE (503) and makes the store degraded; store_ping, a round
 * trip, finds that out while nothing else runs (SQLite: nothing to do). */
int store_probe(struct store *st, struct err_detail *why);
int store_ping(struct store *st, struct err_detail *why);

/* PRAGMA integrity_check: 0 when "ok". */
int store_integrity_check(struct store *st, struct err_detail *why);

#endif
