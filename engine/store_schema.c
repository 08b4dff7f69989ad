/* engine/store_schema.c
 *
 * The ordered, append-only list of migrations. Entry N brings the schema from
 * user_version N to N+1 in one transaction. Never edit a shipped entry: add a
 * new one.
 */
#include "store_schema.h"

const char *const store_migrations[] = {
    /* 1: instances and their append-only event record. */
    "CREATE TABLE instances ("
    "  id INTEGER PRIMARY KEY,"
    "  stage TEXT NOT NULL,"
    "  region TEXT NOT NULL,"
    "  office TEXT NOT NULL,"
    "  temperature TEXT,"
    "  doc TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  last_seq INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX instances_stage ON instances(stage, id);"
    "CREATE INDEX instances_region ON instances(region, id);"
    "CREATE INDEX instances_office ON instances(office, id);"
    "CREATE TABLE events ("
    "  instance_id INTEGER NOT NULL REFERENCES instances(id),"
    "  seq INTEGER NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  payload TEXT NOT NULL,"
    "  outcome TEXT NOT NULL,"
    "  rules TEXT NOT NULL,"
    "  PRIMARY KEY (instance_id, seq)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TRIGGER events_no_update BEFORE UPDATE ON events"
    "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;"
    "CREATE TRIGGER events_no_delete BEFORE DELETE ON events"
    "  BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;",

    /* 2: rule versions (bundles with their sources), the active pointer per
     * owner, and the audit of every rule operation. */
    "CREATE TABLE rule_versions ("
    "  owner TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  hash TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  files TEXT NOT NULL,"
    "  origin TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  activated_at INTEGER,"
    "  approved_by TEXT,"
    "  reason TEXT,"
    "  PRIMARY KEY (owner, version)"
    ") STRICT;"
    "CREATE INDEX rule_versions_hash ON rule_versions(owner, hash);"
    "CREATE INDEX rule_versions_pending ON rule_versions(owner, version)"
    "  WHERE status = 'pending';"
    "CREATE TABLE rule_active ("
    "  owner TEXT PRIMARY KEY,"
    "  version INTEGER NOT NULL"
    ") STRICT;"
    "CREATE TABLE rule_events ("
    "  id INTEGER PRIMARY KEY,"
    "  owner TEXT NOT NULL,"
    "  version INTEGER,"
    "  at INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  hash TEXT,"
    "  message TEXT"
    ") STRICT;",
};

const int store_migration_count = sizeof store_migrations / sizeof *store_migrations;
