/* engine/store_schema.h: the migration lists (store_schema.c for SQLite,
 * store_schema_pg.c for PostgreSQL), used by store.c, and by store_backup.c
 * to know which schemas a restore accepts. */
#ifndef ENGINE_STORE_SCHEMA_H
#define ENGINE_STORE_SCHEMA_H

extern const char *const store_migrations[];
extern const int store_migration_count;

/* PostgreSQL's (store_schema_pg.c): its first entry is SQLite's schema after
 * STORE_SCHEMA_PG_BASE migrations; every later change is an entry in both
 * lists, so store_migration_count - STORE_SCHEMA_PG_BASE ==
 * store_pg_migration_count - 1. */
#define STORE_SCHEMA_PG_BASE 13
/* The advisory lock a migration of a PostgreSQL database holds to its
 * commit (store.c; store_copy.c, which creates a schema in one transaction):
 * nodes starting together migrate once. */
#define STORE_PG_MIGRATE_LOCK "7418317"
extern const char *const store_pg_migrations[];
extern const int store_pg_migration_count;

#endif
