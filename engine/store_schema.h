/* engine/store_schema.h: the migration list (store_schema.c), used by store.c, and by
 * store_backup.c to know which schemas a restore accepts. */
#ifndef ENGINE_STORE_SCHEMA_H
#define ENGINE_STORE_SCHEMA_H

extern const char *const store_migrations[];
extern const int store_migration_count;

#endif
