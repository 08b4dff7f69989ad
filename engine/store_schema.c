/* engine/store_schema.c
 *
 * The ordered, append-only list of migrations. Entry N brings the schema from
 * user_version N to N+1 in one transaction. Never edit a shipped entry: add a
 * new one.
 */
#include "store_schema.h"

/* A kept sum's two columns (migration 14): an amount's low 32 bits, and
 * what the upsert of a sum NAME adds or an update takes back. */
#define LO(x) "((" x ") & 4294967295)"
#define ADD(name)                                                                                  \
    name "_lo = " name "_lo + excluded." name "_lo, " name "_hi = " name "_hi + excluded." name    \
         "_hi"
#define SUB(name, x)                                                                               \
    name "_lo = " name "_lo - " LO(x) ", " name "_hi = " name "_hi - ((" x ") >> 32)"
/* An instance's place in the funnel: its contract value, else its budget;
 * its closure outcome, '' while open. */
#define FUNNEL_VALUE(row)                                                                          \
    "coalesce(json_extract(" row ".doc, '$.contract.value'), json_extract(" row                    \
    ".doc, '$.budget.amount'), 0)"
#define FUNNEL_OUTCOME(row) "coalesce(json_extract(" row ".doc, '$.closure.outcome'), '')"

/* clang-format off */ /* it cannot lay out strings joined with macros */
/* 14: kept sums that cannot overflow. Each amount is at most 2^53 fen,
 * but 1,024 of them in one sum are past 2^63: an account manager who
 * created that many leads of 2^53 in one office made every later create
 * there, and the funnel, fail. Each kept sum is now two columns, the sum
 * of its amounts' low 32 bits (_lo) and of their high bits (_hi, an
 * arithmetic shift): neither nears 2^63 for any number of rows a
 * database holds, and the sum is _hi * 2^32 + _lo, exact; readers join
 * the two (money_join) and cap what they report at 2^53. */
static const char store_migration_kept_sums[] =
    "DROP TRIGGER ledger_sums;"
    "DROP TRIGGER ledger_customer_sums;"
    "DROP TRIGGER instances_exposure_insert;"
    "DROP TRIGGER instances_exposure_update;"
    "DROP TRIGGER forecasts_insert;"
    "DROP TRIGGER forecasts_update;"
    "DROP TRIGGER forecasts_delete;"
    "DROP TRIGGER instances_funnel_insert;"
    "DROP TRIGGER instances_funnel_update;"
    "ALTER TABLE ledger_daily RENAME COLUMN amount TO amount_lo;"
    "ALTER TABLE ledger_daily ADD COLUMN amount_hi INTEGER NOT NULL DEFAULT 0;"
    "UPDATE ledger_daily SET amount_hi = amount_lo >> 32, amount_lo = " LO("amount_lo") ";"
    "ALTER TABLE ledger_customers RENAME COLUMN amount TO amount_lo;"
    "ALTER TABLE ledger_customers ADD COLUMN amount_hi INTEGER NOT NULL DEFAULT 0;"
    "UPDATE ledger_customers SET amount_hi = amount_lo >> 32, amount_lo = " LO("amount_lo") ";"
    "ALTER TABLE customer_exposure RENAME COLUMN amount TO amount_lo;"
    "ALTER TABLE customer_exposure ADD COLUMN amount_hi INTEGER NOT NULL DEFAULT 0;"
    "UPDATE customer_exposure SET amount_hi = amount_lo >> 32, amount_lo = " LO("amount_lo") ";"
    "ALTER TABLE pipeline_sums RENAME COLUMN value TO value_lo;"
    "ALTER TABLE pipeline_sums ADD COLUMN value_hi INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE pipeline_sums RENAME COLUMN weighted TO weighted_lo;"
    "ALTER TABLE pipeline_sums ADD COLUMN weighted_hi INTEGER NOT NULL DEFAULT 0;"
    "UPDATE pipeline_sums SET value_hi = value_lo >> 32, value_lo = " LO("value_lo") ","
    "  weighted_hi = weighted_lo >> 32, weighted_lo = " LO("weighted_lo") ";"
    "ALTER TABLE funnel_sums RENAME COLUMN value TO value_lo;"
    "ALTER TABLE funnel_sums ADD COLUMN value_hi INTEGER NOT NULL DEFAULT 0;"
    "UPDATE funnel_sums SET value_hi = value_lo >> 32, value_lo = " LO("value_lo") ";"
    "CREATE TRIGGER ledger_sums AFTER INSERT ON ledger BEGIN"
    "  INSERT INTO ledger_daily(kind, at, office, amount_lo, amount_hi)"
    "    VALUES (NEW.kind, NEW.at, NEW.office, " LO("NEW.amount") ", NEW.amount >> 32)"
    "    ON CONFLICT(kind, at, office) DO UPDATE SET " ADD("amount") ";"
    "  INSERT INTO ledger_attribution(instance_id, region, office, customer, product_line,"
    "    ar, sr, fr) VALUES (NEW.instance_id, NEW.region, NEW.office, NEW.customer,"
    "    NEW.product_line, NEW.ar, NEW.sr, NEW.fr)"
    "    ON CONFLICT(instance_id) DO UPDATE SET region = excluded.region,"
    "    office = excluded.office, customer = excluded.customer,"
    "    product_line = excluded.product_line, ar = excluded.ar, sr = excluded.sr,"
    "    fr = excluded.fr;"
    "END;"
    "CREATE TRIGGER ledger_customer_sums AFTER INSERT ON ledger BEGIN"
    "  INSERT INTO ledger_customers(kind, month, office, customer, amount_lo, amount_hi)"
    "    VALUES (NEW.kind, substr(NEW.at, 1, 7), NEW.office, NEW.customer,"
    "    " LO("NEW.amount") ", NEW.amount >> 32)"
    "    ON CONFLICT DO UPDATE SET " ADD("amount") ";"
    "END;"
    "CREATE TRIGGER instances_exposure_insert AFTER INSERT ON instances"
    "  WHEN NEW.exposure <> 0 AND NEW.customer IS NOT NULL BEGIN"
    "  INSERT INTO customer_exposure(customer, amount_lo, amount_hi)"
    "    VALUES (NEW.customer, " LO("NEW.exposure") ", NEW.exposure >> 32)"
    "    ON CONFLICT(customer) DO UPDATE SET " ADD("amount") ";"
    "END;"
    "CREATE TRIGGER instances_exposure_update AFTER UPDATE OF exposure, customer ON instances"
    "  WHEN OLD.exposure <> NEW.exposure OR OLD.customer IS NOT NEW.customer BEGIN"
    "  UPDATE customer_exposure SET " SUB("amount", "OLD.exposure")
    "    WHERE customer = OLD.customer;"
    "  INSERT INTO customer_exposure(customer, amount_lo, amount_hi)"
    "    SELECT NEW.customer, " LO("NEW.exposure") ", NEW.exposure >> 32"
    "    WHERE NEW.customer IS NOT NULL"
    "    ON CONFLICT(customer) DO UPDATE SET " ADD("amount") ";"
    "END;"
    "CREATE TRIGGER forecasts_insert AFTER INSERT ON forecasts BEGIN"
    "  INSERT INTO pipeline_sums(month, office, customer, category, n, value_lo, value_hi,"
    "    weighted_lo, weighted_hi) VALUES (NEW.month, NEW.office, NEW.customer, NEW.category,"
    "    1, " LO("NEW.value") ", NEW.value >> 32, " LO("NEW.weighted") ", NEW.weighted >> 32)"
    "    ON CONFLICT DO UPDATE SET n = n + 1, " ADD("value") ", " ADD("weighted") ";"
    "END;"
    "CREATE TRIGGER forecasts_update AFTER UPDATE OF month, value, weighted, category"
    "  ON forecasts BEGIN"
    "  UPDATE pipeline_sums SET n = n - 1, " SUB("value", "OLD.value") ","
    "    " SUB("weighted", "OLD.weighted") " WHERE month = OLD.month AND office = OLD.office"
    "    AND customer = OLD.customer AND category = OLD.category;"
    "  INSERT INTO pipeline_sums(month, office, customer, category, n, value_lo, value_hi,"
    "    weighted_lo, weighted_hi) VALUES (NEW.month, NEW.office, NEW.customer, NEW.category,"
    "    1, " LO("NEW.value") ", NEW.value >> 32, " LO("NEW.weighted") ", NEW.weighted >> 32)"
    "    ON CONFLICT DO UPDATE SET n = n + 1, " ADD("value") ", " ADD("weighted") ";"
    "END;"
    "CREATE TRIGGER forecasts_delete AFTER DELETE ON forecasts BEGIN"
    "  UPDATE pipeline_sums SET n = n - 1, " SUB("value", "OLD.value") ","
    "    " SUB("weighted", "OLD.weighted") " WHERE month = OLD.month AND office = OLD.office"
    "    AND customer = OLD.customer AND category = OLD.category;"
    "END;"
    "CREATE TRIGGER instances_funnel_insert AFTER INSERT ON instances BEGIN"
    "  INSERT INTO funnel_sums(region, office, stage, outcome, n, value_lo, value_hi)"
    "    VALUES (NEW.region, NEW.office, NEW.stage, " FUNNEL_OUTCOME("NEW") ", 1,"
    "    " LO(FUNNEL_VALUE("NEW")) ", " FUNNEL_VALUE("NEW") " >> 32)"
    "    ON CONFLICT DO UPDATE SET n = n + 1, " ADD("value") ";"
    "END;"
    "CREATE TRIGGER instances_funnel_update AFTER UPDATE OF stage, doc ON instances BEGIN"
    "  UPDATE funnel_sums SET n = n - 1, " SUB("value", FUNNEL_VALUE("OLD"))
    "    WHERE region = OLD.region AND office = OLD.office AND stage = OLD.stage"
    "    AND outcome = " FUNNEL_OUTCOME("OLD") ";"
    "  INSERT INTO funnel_sums(region, office, stage, outcome, n, value_lo, value_hi)"
    "    VALUES (NEW.region, NEW.office, NEW.stage, " FUNNEL_OUTCOME("NEW") ", 1,"
    "    " LO(FUNNEL_VALUE("NEW")) ", " FUNNEL_VALUE("NEW") " >> 32)"
    "    ON CONFLICT DO UPDATE SET n = n + 1, " ADD("value") ";"
    "END;";
/* 15: an instance's place in the funnel as two columns the engine sets
 * (funnel_value, outcome: FUNNEL_VALUE and FUNNEL_OUTCOME of its document,
 * computed in C), so that the funnel's triggers read no document, and the
 * update trigger runs only when the place moved: reading the old and the
 * new document with json_extract was 7 of an instance update's 9 us. A
 * row written without them (NULL) is placed from its document, as before. */
#define PLACE_VALUE(row) "coalesce(" row ".funnel_value, " FUNNEL_VALUE(row) ")"
#define PLACE_OUTCOME(row) "coalesce(" row ".outcome, " FUNNEL_OUTCOME(row) ")"
static const char store_migration_funnel_place[] =
    "DROP TRIGGER instances_funnel_insert;"
    "DROP TRIGGER instances_funnel_update;"
    "ALTER TABLE instances ADD COLUMN funnel_value INTEGER;"
    "ALTER TABLE instances ADD COLUMN outcome TEXT;"
    "UPDATE instances SET funnel_value = " FUNNEL_VALUE("instances") ","
    "  outcome = " FUNNEL_OUTCOME("instances") ";"
    "CREATE TRIGGER instances_funnel_insert AFTER INSERT ON instances BEGIN"
    "  INSERT INTO funnel_sums(region, office, stage, outcome, n, value_lo, value_hi)"
    "    VALUES (NEW.region, NEW.office, NEW.stage, " PLACE_OUTCOME("NEW") ", 1,"
    "    " LO(PLACE_VALUE("NEW")) ", " PLACE_VALUE("NEW") " >> 32)"
    "    ON CONFLICT DO UPDATE SET n = n + 1, " ADD("value") ";"
    "END;"
    "CREATE TRIGGER instances_funnel_update"
    "  AFTER UPDATE OF stage, doc, funnel_value, outcome ON instances"
    "  WHEN OLD.stage IS NOT NEW.stage OR OLD.funnel_value IS NOT NEW.funnel_value"
    "    OR OLD.outcome IS NOT NEW.outcome OR NEW.funnel_value IS NULL OR NEW.outcome IS NULL"
    "  BEGIN"
    "  UPDATE funnel_sums SET n = n - 1, " SUB("value", PLACE_VALUE("OLD"))
    "    WHERE region = OLD.region AND office = OLD.office AND stage = OLD.stage"
    "    AND outcome = " PLACE_OUTCOME("OLD") ";"
    "  INSERT INTO funnel_sums(region, office, stage, outcome, n, value_lo, value_hi)"
    "    VALUES (NEW.region, NEW.office, NEW.stage, " PLACE_OUTCOME("NEW") ", 1,"
    "    " LO(PLACE_VALUE("NEW")) ", " PLACE_VALUE("NEW") " >> 32)"
    "    ON CONFLICT DO UPDATE SET n = n + 1, " ADD("value") ";"
    "END;";
/* clang-format on */

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

    /* 3: the ledger of what instances earn (signed orders, collected cash with
     * its margin), attributed to every unit; allocation runs; targets. */
    "CREATE TABLE ledger ("
    "  id INTEGER PRIMARY KEY,"
    "  instance_id INTEGER NOT NULL REFERENCES instances(id),"
    "  seq INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  amount INTEGER NOT NULL,"
    "  margin REAL NOT NULL,"
    "  at TEXT NOT NULL,"
    "  region TEXT NOT NULL,"
    "  office TEXT NOT NULL,"
    "  customer TEXT NOT NULL,"
    "  product_line TEXT NOT NULL,"
    "  ar TEXT, sr TEXT, fr TEXT"
    ") STRICT;"
    /* Per project: a covering index, so sums by instance need no sort. */
    "CREATE INDEX ledger_project ON ledger(kind, instance_id, at, amount, margin);"
    /* Each project's attribution as of its newest entry. */
    "CREATE TABLE ledger_attribution ("
    "  instance_id INTEGER PRIMARY KEY,"
    "  region TEXT NOT NULL, office TEXT NOT NULL, customer TEXT NOT NULL,"
    "  product_line TEXT NOT NULL, ar TEXT, sr TEXT, fr TEXT"
    ") STRICT;"
    /* Sums per kind, day and office, kept by trigger: roll-ups read this. */
    "CREATE TABLE ledger_daily ("
    "  kind TEXT NOT NULL, at TEXT NOT NULL, office TEXT NOT NULL,"
    "  amount INTEGER NOT NULL,"
    "  PRIMARY KEY (kind, at, office)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TRIGGER ledger_sums AFTER INSERT ON ledger BEGIN"
    "  INSERT INTO ledger_daily(kind, at, office, amount)"
    "    VALUES (NEW.kind, NEW.at, NEW.office, NEW.amount)"
    "    ON CONFLICT(kind, at, office) DO UPDATE SET amount = amount + excluded.amount;"
    "  INSERT INTO ledger_attribution(instance_id, region, office, customer, product_line,"
    "    ar, sr, fr) VALUES (NEW.instance_id, NEW.region, NEW.office, NEW.customer,"
    "    NEW.product_line, NEW.ar, NEW.sr, NEW.fr)"
    "    ON CONFLICT(instance_id) DO UPDATE SET region = excluded.region,"
    "    office = excluded.office, customer = excluded.customer,"
    "    product_line = excluded.product_line, ar = excluded.ar, sr = excluded.sr,"
    "    fr = excluded.fr;"
    "END;"
    "CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger"
    "  BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;"
    "CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger"
    "  BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;"
    "CREATE TABLE share_runs ("
    "  id INTEGER PRIMARY KEY,"
    "  period TEXT NOT NULL,"
    "  pool INTEGER NOT NULL,"
    "  input_hash TEXT NOT NULL,"
    "  result TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL"
    ") STRICT;"
    "CREATE TABLE targets ("
    "  unit TEXT NOT NULL,"
    "  period TEXT NOT NULL,"
    "  metric TEXT NOT NULL,"
    "  amount INTEGER NOT NULL,"
    "  set_at INTEGER NOT NULL,"
    "  set_by TEXT NOT NULL,"
    "  PRIMARY KEY (unit, period, metric)"
    ") STRICT;",

    /* 4: recent events across instances (the dashboard's feed). */
    "CREATE INDEX events_at ON events(at);",

    /* 5: the ed25519 signature an HQ bundle carried, when HQ signs its rules. */
    "ALTER TABLE rule_versions ADD COLUMN signature TEXT;",

    /* 6: each customer's credit exposure (the value of its contracts in
     * execution) kept up to date by triggers as instances change, so the
     * credit KCP reads one row instead of every contract document. An
     * instance's `exposure` is its contract value while at stage contract. */
    "ALTER TABLE instances ADD COLUMN customer TEXT;"
    "ALTER TABLE instances ADD COLUMN exposure INTEGER NOT NULL DEFAULT 0;"
    "UPDATE instances SET customer = json_extract(doc, '$.customer'),"
    "  exposure = CASE WHEN stage = 'contract'"
    "    THEN coalesce(json_extract(doc, '$.contract.value'), 0) ELSE 0 END;"
    "CREATE TABLE customer_exposure ("
    "  customer TEXT PRIMARY KEY,"
    "  amount INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "INSERT INTO customer_exposure(customer, amount)"
    "  SELECT customer, sum(exposure) FROM instances"
    "  WHERE exposure <> 0 AND customer IS NOT NULL GROUP BY customer;"
    "CREATE TRIGGER instances_exposure_insert AFTER INSERT ON instances"
    "  WHEN NEW.exposure <> 0 AND NEW.customer IS NOT NULL BEGIN"
    "  INSERT INTO customer_exposure(customer, amount) VALUES (NEW.customer, NEW.exposure)"
    "    ON CONFLICT(customer) DO UPDATE SET amount = amount + excluded.amount;"
    "END;"
    "CREATE TRIGGER instances_exposure_update AFTER UPDATE OF exposure, customer ON instances"
    "  WHEN OLD.exposure <> NEW.exposure OR OLD.customer IS NOT NEW.customer BEGIN"
    "  UPDATE customer_exposure SET amount = amount - OLD.exposure"
    "    WHERE customer = OLD.customer;"
    "  INSERT INTO customer_exposure(customer, amount)"
    "    SELECT NEW.customer, NEW.exposure WHERE NEW.customer IS NOT NULL"
    "    ON CONFLICT(customer) DO UPDATE SET amount = amount + excluded.amount;"
    "END;",

    /* 7: no index on region or office: no query uses one (listings walk the
     * primary key with optional filters), yet every create paid for both. */
    "DROP INDEX instances_region;"
    "DROP INDEX instances_office;",

    /* 8: a shadow run of a pending rule version is a window (rule_shadows; a new window of
     * the same version ends the old one) and one compact row per live lead
     * evaluation done beside the active rules (rule_shadow_results), written
     * in the transaction of the lead it shadows. 'summary' is the shadow's
     * evaluation { score, temperature, maturity, recommendation } (NULL when
     * it failed), 'active' the live one's, kept only when they differ. */
    "CREATE TABLE rule_shadows ("
    "  id INTEGER PRIMARY KEY,"
    "  owner TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  started_at INTEGER NOT NULL,"
    "  until_at INTEGER NOT NULL,"
    "  started_by TEXT NOT NULL,"
    "  ended_at INTEGER,"
    "  end_reason TEXT"
    ") STRICT;"
    "CREATE INDEX rule_shadows_version ON rule_shadows(owner, version, id);"
    "CREATE TABLE rule_shadow_results ("
    "  id INTEGER PRIMARY KEY,"
    "  shadow_id INTEGER NOT NULL REFERENCES rule_shadows(id),"
    "  instance_id INTEGER NOT NULL REFERENCES instances(id),"
    "  at INTEGER NOT NULL,"
    "  differs INTEGER NOT NULL,"
    "  error TEXT,"
    "  summary TEXT,"
    "  active TEXT"
    ") STRICT;"
    "CREATE INDEX rule_shadow_results_shadow ON rule_shadow_results(shadow_id, id);",

    /* 9: rule lineage.
     * rule_versions.base is the version a new one was built on (NULL: none,
     * or stored before lineage). rule_numbers keeps the number each refused
     * candidate was given, with its content's hash, so that no number is
     * ever given to two contents. rule_disk is what the daemon last read from each owner's
     * directory, so the tree is submitted only when it changed on disk;
     * seeded with each owner's newest version read from disk. */
    "ALTER TABLE rule_versions ADD COLUMN base INTEGER;"
    "CREATE TABLE rule_numbers ("
    "  owner TEXT NOT NULL,"
    "  number INTEGER NOT NULL,"
    "  key TEXT NOT NULL,"
    "  PRIMARY KEY (owner, number)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX rule_numbers_key ON rule_numbers(owner, key, number);"
    "CREATE TABLE rule_disk ("
    "  owner TEXT PRIMARY KEY,"
    "  hash TEXT NOT NULL,"
    "  files TEXT NOT NULL,"
    "  read_at INTEGER NOT NULL"
    ") STRICT;"
    "INSERT INTO rule_disk(owner, hash, files, read_at)"
    "  SELECT owner, hash, files, created_at FROM rule_versions v WHERE origin = 'disk'"
    "  AND version = (SELECT max(version) FROM rule_versions"
    "    WHERE owner = v.owner AND origin = 'disk');",

    /* Lead management (issue 13, CONTRACT 8.3).
     * people and customers are data with the office they belong to; events
     * record the person who acted. An instance's owner (the lead's nurturer)
     * and review_due (the date from which it waits in the review queue: '' for
     * a lead never reviewed, NULL once it is not waiting) are columns, so the
     * queue and ?owner= are index reads; person_load counts each person's open
     * leads (stage lead), kept by triggers in the transaction that changes an
     * instance, so choosing an owner never scans instances. */
    "ALTER TABLE events ADD COLUMN person TEXT;"
    "ALTER TABLE instances ADD COLUMN owner TEXT;"
    "ALTER TABLE instances ADD COLUMN review_due TEXT;"
    "UPDATE instances SET review_due = '' WHERE stage = 'lead';"
    "CREATE INDEX instances_owner ON instances(owner, id) WHERE owner IS NOT NULL;"
    "CREATE INDEX instances_review_office ON instances(office, review_due, id)"
    "  WHERE review_due IS NOT NULL;"
    "CREATE INDEX instances_review_region ON instances(region, review_due, id)"
    "  WHERE review_due IS NOT NULL;"
    "CREATE TABLE people ("
    "  id TEXT PRIMARY KEY,"
    "  region TEXT NOT NULL,"
    "  office TEXT NOT NULL,"
    "  active INTEGER NOT NULL,"
    "  doc TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  updated_by TEXT NOT NULL"
    ") STRICT;"
    "CREATE INDEX people_office ON people(office, id);"
    "CREATE TABLE person_load ("
    "  person TEXT PRIMARY KEY,"
    "  open_leads INTEGER NOT NULL"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TRIGGER instances_load_insert AFTER INSERT ON instances"
    "  WHEN NEW.owner IS NOT NULL AND NEW.stage = 'lead' BEGIN"
    "  INSERT INTO person_load(person, open_leads) VALUES (NEW.owner, 1)"
    "    ON CONFLICT(person) DO UPDATE SET open_leads = open_leads + 1;"
    "END;"
    "CREATE TRIGGER instances_load_update AFTER UPDATE OF owner, stage ON instances"
    "  WHEN OLD.owner IS NOT NEW.owner OR OLD.stage IS NOT NEW.stage BEGIN"
    "  UPDATE person_load SET open_leads = open_leads - 1"
    "    WHERE person = OLD.owner AND OLD.stage = 'lead';"
    "  INSERT INTO person_load(person, open_leads)"
    "    SELECT NEW.owner, 1 WHERE NEW.owner IS NOT NULL AND NEW.stage = 'lead'"
    "    ON CONFLICT(person) DO UPDATE SET open_leads = open_leads + 1;"
    "END;"
    "CREATE TABLE customers ("
    "  id TEXT PRIMARY KEY,"
    "  region TEXT NOT NULL,"
    "  office TEXT NOT NULL,"
    "  credit_limit INTEGER,"
    "  doc TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  updated_by TEXT NOT NULL"
    ") STRICT;"
    "CREATE INDEX customers_office ON customers(office, id);"
    "CREATE TABLE activities ("
    "  id INTEGER PRIMARY KEY,"
    "  region TEXT NOT NULL,"
    "  person TEXT NOT NULL,"
    "  office TEXT NOT NULL,"
    "  customer TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  at TEXT NOT NULL,"
    "  budget_year INTEGER,"
    "  doc TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL"
    ") STRICT;"
    "CREATE INDEX activities_person ON activities(person, at);"
    "CREATE INDEX activities_customer ON activities(customer, at);"
    "CREATE INDEX activities_office ON activities(office, at);"
    "CREATE INDEX activities_region ON activities(region, at);"
    "CREATE INDEX activities_budget ON activities(customer, budget_year, at)"
    "  WHERE kind = 'budget_table';"
    "CREATE TABLE reviews ("
    "  id INTEGER PRIMARY KEY,"
    "  unit TEXT NOT NULL,"
    "  held_at TEXT NOT NULL,"
    "  doc TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL"
    ") STRICT;",
    /* Strategy to numbers (issue 14, CONTRACT 8.4).
     * forecasts holds each open instance's forecast while it is in the
     * pipeline (the month it expects to close, its value, weighted value,
     * category and the rule versions that computed them), written in the
     * transaction of the action that changed it: a narrow row of its own, so
     * recomputing many after a rule change rewrites little. pipeline_sums adds
     * them up per month, office, customer and category, kept by triggers, so
     * the pipeline reads sums, never instances. ledger_customers is the
     * ledger summed per kind, month, office and customer (customer targets
     * and the pipeline's won). */
    "CREATE TABLE forecasts ("
    "  id INTEGER PRIMARY KEY REFERENCES instances(id),"
    "  region TEXT NOT NULL, office TEXT NOT NULL, customer TEXT NOT NULL,"
    "  month TEXT NOT NULL, value INTEGER NOT NULL, weighted INTEGER NOT NULL,"
    "  category TEXT NOT NULL, rules TEXT NOT NULL"
    ") STRICT;"
    "CREATE INDEX forecasts_rules ON forecasts(region, rules);"
    "CREATE TABLE pipeline_sums ("
    "  month TEXT NOT NULL, office TEXT NOT NULL, customer TEXT NOT NULL,"
    "  category TEXT NOT NULL, n INTEGER NOT NULL, value INTEGER NOT NULL,"
    "  weighted INTEGER NOT NULL,"
    "  PRIMARY KEY (month, office, customer, category)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TRIGGER forecasts_insert AFTER INSERT ON forecasts BEGIN"
    "  INSERT INTO pipeline_sums VALUES (NEW.month, NEW.office, NEW.customer, NEW.category, 1,"
    "    NEW.value, NEW.weighted)"
    "    ON CONFLICT DO UPDATE SET n = n + 1, value = value + excluded.value,"
    "    weighted = weighted + excluded.weighted;"
    "END;"
    "CREATE TRIGGER forecasts_update AFTER UPDATE OF month, value, weighted, category"
    "  ON forecasts BEGIN"
    "  UPDATE pipeline_sums SET n = n - 1, value = value - OLD.value,"
    "    weighted = weighted - OLD.weighted WHERE month = OLD.month AND office = OLD.office"
    "    AND customer = OLD.customer AND category = OLD.category;"
    "  INSERT INTO pipeline_sums VALUES (NEW.month, NEW.office, NEW.customer, NEW.category, 1,"
    "    NEW.value, NEW.weighted)"
    "    ON CONFLICT DO UPDATE SET n = n + 1, value = value + excluded.value,"
    "    weighted = weighted + excluded.weighted;"
    "END;"
    "CREATE TRIGGER forecasts_delete AFTER DELETE ON forecasts BEGIN"
    "  UPDATE pipeline_sums SET n = n - 1, value = value - OLD.value,"
    "    weighted = weighted - OLD.weighted WHERE month = OLD.month AND office = OLD.office"
    "    AND customer = OLD.customer AND category = OLD.category;"
    "END;"
    "CREATE TABLE ledger_customers ("
    "  kind TEXT NOT NULL, month TEXT NOT NULL, office TEXT NOT NULL, customer TEXT NOT NULL,"
    "  amount INTEGER NOT NULL,"
    "  PRIMARY KEY (kind, month, office, customer)"
    ") STRICT, WITHOUT ROWID;"
    "INSERT INTO ledger_customers SELECT kind, substr(at, 1, 7), office, customer, sum(amount)"
    "  FROM ledger GROUP BY 1, 2, 3, 4;"
    "CREATE TRIGGER ledger_customer_sums AFTER INSERT ON ledger BEGIN"
    "  INSERT INTO ledger_customers VALUES (NEW.kind, substr(NEW.at, 1, 7), NEW.office,"
    "    NEW.customer, NEW.amount)"
    "    ON CONFLICT DO UPDATE SET amount = amount + excluded.amount;"
    "END;",
    /* The funnel's sums by region, office, stage and closure outcome, kept by
     * triggers in the transaction of each write, so that the funnel costs the
     * same however many instances there are. An instance's value is its
     * contract value, else its budget. Rows whose count fell to 0 stay. */
    "CREATE TABLE funnel_sums ("
    "  region TEXT NOT NULL,"
    "  office TEXT NOT NULL,"
    "  stage TEXT NOT NULL,"
    "  outcome TEXT NOT NULL," /* '' while not closed */
    "  n INTEGER NOT NULL,"
    "  value INTEGER NOT NULL,"
    "  PRIMARY KEY (region, office, stage, outcome)"
    ") STRICT, WITHOUT ROWID;"
    "INSERT INTO funnel_sums(region, office, stage, outcome, n, value)"
    "  SELECT region, office, stage, coalesce(json_extract(doc, '$.closure.outcome'), ''),"
    "    count(*), coalesce(sum(coalesce(json_extract(doc, '$.contract.value'),"
    "    json_extract(doc, '$.budget.amount'))), 0)"
    "  FROM instances GROUP BY 1, 2, 3, 4;"
    "CREATE TRIGGER instances_funnel_insert AFTER INSERT ON instances BEGIN"
    "  INSERT INTO funnel_sums(region, office, stage, outcome, n, value)"
    "    VALUES (NEW.region, NEW.office, NEW.stage,"
    "      coalesce(json_extract(NEW.doc, '$.closure.outcome'), ''), 1,"
    "      coalesce(json_extract(NEW.doc, '$.contract.value'),"
    "      json_extract(NEW.doc, '$.budget.amount'), 0))"
    "    ON CONFLICT DO UPDATE SET n = n + 1, value = value + excluded.value;"
    "END;"
    "CREATE TRIGGER instances_funnel_update AFTER UPDATE OF stage, doc ON instances BEGIN"
    "  UPDATE funnel_sums SET n = n - 1, value = value -"
    "    coalesce(json_extract(OLD.doc, '$.contract.value'),"
    "    json_extract(OLD.doc, '$.budget.amount'), 0)"
    "    WHERE region = OLD.region AND office = OLD.office AND stage = OLD.stage"
    "    AND outcome = coalesce(json_extract(OLD.doc, '$.closure.outcome'), '');"
    "  INSERT INTO funnel_sums(region, office, stage, outcome, n, value)"
    "    VALUES (NEW.region, NEW.office, NEW.stage,"
    "      coalesce(json_extract(NEW.doc, '$.closure.outcome'), ''), 1,"
    "      coalesce(json_extract(NEW.doc, '$.contract.value'),"
    "      json_extract(NEW.doc, '$.budget.amount'), 0))"
    "    ON CONFLICT DO UPDATE SET n = n + 1, value = value + excluded.value;"
    "END;",
    /* An allocation run's text in parts, each written in its own write
     * (allocation_store_part): storing 60 MB at once held the loop. */
    "CREATE TABLE share_run_parts ("
    "  run_id INTEGER NOT NULL,"
    "  part INTEGER NOT NULL,"
    "  text TEXT NOT NULL,"
    "  PRIMARY KEY (run_id, part)"
    ") STRICT;",

    /* 14 */ store_migration_kept_sums,
    /* 15 */ store_migration_funnel_place,
};

const int store_migration_count = sizeof store_migrations / sizeof *store_migrations;
