# ltcd: see README.md. Targets are one-liners on purpose.
CC      ?= cc
VERSION := 0.3.0
PKGS    := lua5.4 libuv sqlite3 jansson libsodium libsystemd libpq
CFLAGS  ?= -O2 -g
# Flags every build needs, whatever CFLAGS the command line sets.
XCFLAGS := -std=c11 -D_GNU_SOURCE -DLTCD_VERSION='"$(VERSION)"' -Wall -Wextra -Wshadow \
           -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla -Iengine \
           $(shell pkg-config --cflags $(PKGS))
XCFLAGS += $(if $(findstring clang,$(CC)),,-Wno-format-truncation)
# jemalloc from Debian: about 11% less daemon CPU a create than glibc's malloc
# (A/B, make bench). The sanitizer builds keep their own allocator (MALLOC=).
MALLOC  ?= -ljemalloc
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lhttp_parser -lm $(MALLOC)
BUILD   ?= build
BIN     ?= bin

ENGINE  := err utf8 num log buf config auth store store_schema store_lock store_backup store_copy org lead sandbox sandbox_guard sandbox_freeze rules rules_check rules_tree rules_eval rules_process rules_simulate \
           period allocation targets metrics \
           rules_watch http app api \
           api_instances api_rules api_shares api_static
# Rule review (issue 11): runtime errors, shadow runs and their API.
ENGINE  += rules_errors rules_shadow api_shadow
ENGINE  += diff rules_diff
# Rule tests and bound relations (tests.lua, --check-rules, ltcctl rules test).
ENGINE  += rules_bounds rules_tests
# Long reads off the loop (simulations, allocation runs): job threads.
ENGINE  += job rules_snapshot
# HQ's declared inputs: lead signals and action bodies (issue 15).
ENGINE  += rules_inputs
# GET /v1/openapi.json: engine/openapi.json compiled in (build/openapi_doc.c).
ENGINE  += api_openapi openapi_doc
# The dashboard's work lists: decisions waiting, overdue receivables (issue 15).
ENGINE  += api_worklist
# Money as exact text and strict command-line values (ltcctl, issue 15).
ENGINE  += money cli_value
# JSON text on the hot paths, byte for byte jansson's, without its per-container costs (issue 12),
# and read back as jansson reads it, a run at a time instead of a byte at a time.
ENGINE  += json_text json_read
# Lead management (issue 13): people, customers, assignment, review meetings, activities.
ENGINE  += records store_leads period_week rules_leads api_people api_owner api_reviews api_activities
# Strategy to numbers (issue 14): customer targets, pipeline and forecast, process metrics, migration.
ENGINE  += store_pipeline rules_forecast pipeline process_metrics api_pipeline
# One statement vocabulary over SQLite and PostgreSQL (issue 16).
ENGINE  += db db_sqlite db_pg store_schema_pg
# The core thread: the engine off the loop, which only speaks HTTP.
ENGINE  += core nodes
OBJS    := $(ENGINE:%=$(BUILD)/%.o)
UNITS   := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/*_test.c))

.PHONY: all run test test-pg check unit integration asan tsan fuzz bench deps lint-rules clean install format format-check browser-test
all: $(BIN)/ltcd $(BIN)/ltcctl

deps:
	@sh scripts/install-deps.sh

# The OpenAPI document as a C array (od is POSIX; no xxd needed).
$(BUILD)/openapi_doc.c: engine/openapi.json | $(BUILD)
	{ echo 'const char api_openapi_doc[] = {'; od -An -v -tx1 $< | sed 's/\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0};'; echo 'const unsigned long api_openapi_len = sizeof api_openapi_doc - 1;'; } >$@
$(BUILD)/openapi_doc.o: $(BUILD)/openapi_doc.c
	$(CC) $(CFLAGS) -c -o $@ $<
$(BUILD)/%.o: engine/%.c engine/*.h | $(BUILD)
	$(CC) $(CFLAGS) $(XCFLAGS) -c -o $@ $<
$(BUILD) $(BIN):
	mkdir -p $@
$(BIN)/ltcd: $(BUILD)/main.o $(OBJS) | $(BIN)
	$(CC) $(CFLAGS) $(XCFLAGS) -o $@ $^ $(LDLIBS)
# ltcctl links the engine (an archive: only what `rules test` reaches) to
# evaluate local bundles offline with the daemon's own code.
$(BUILD)/libltcd.a: $(OBJS)
	$(AR) rcs $@ $^
# ltcctl's own files (ltcctl.h): verbs table and main, options, HTTP, formatting, verbs.
LTCCTL  := ltcctl ltcctl_args ltcctl_http ltcctl_print ltcctl_lead ltcctl_rules ltcctl_bundle \
           ltcctl_shares ltcctl_people ltcctl_review ltcctl_activity ltcctl_pipeline
$(BIN)/ltcctl: $(LTCCTL:%=$(BUILD)/%.o) $(BUILD)/libltcd.a | $(BIN)
	$(CC) $(CFLAGS) $(XCFLAGS) -o $@ $^ $(shell pkg-config --libs libcurl) $(LDLIBS)
$(BUILD)/%_test: tests/unit/%_test.c $(OBJS) tests/unit/test.h tests/unit/tree.h
	$(CC) $(CFLAGS) $(XCFLAGS) -Itests/unit -o $@ $< $(OBJS) $(LDLIBS)

run: deps all
	@mkdir -p var
	$(BIN)/ltcd --listen 127.0.0.1:8080 --db var/ltc.db --rules rules --tokens examples/tokens.conf

$(BUILD)/promparse: tests/unit/promparse.c tests/unit/promparse.h | $(BUILD)
	$(CC) $(CFLAGS) $(XCFLAGS) -o $@ $< -lm

unit: $(UNITS:%=$(BUILD)/%)
	@sh tests/run-suites.sh $(UNITS:%=$(BUILD)/%)

integration: all
	@sh tests/run-suites.sh tests/integration/[0-9][0-9]-*.sh

lint-rules:
	@sh tests/lint-rules.sh

check: all unit integration
# make test: the suites on SQLite, then on PostgreSQL when it is installed
# (a throwaway cluster: scripts/pg-cluster.sh); make test-pg: the unit tests
# and the suites on PostgreSQL only.
test: deps
	@$(MAKE) --no-print-directory all $(UNITS:%=$(BUILD)/%) $(BUILD)/promparse
	@sh tests/run-all.sh
test-pg: deps
	@$(MAKE) --no-print-directory all $(UNITS:%=$(BUILD)/%) $(BUILD)/promparse
	@LTC_DBS=postgresql sh tests/run-all.sh

# Both halves, as make test: the PostgreSQL one adds about 3 minutes here
# (SQLite's 3.2), far from doubling CI; LTC_PG_SUITES would narrow it.
asan:
	@$(MAKE) --no-print-directory BUILD=build-asan BIN=bin-asan CC=clang-14 MALLOC= \
	  CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" all $(UNITS:%=build-asan/%) build-asan/promparse
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  LTC_BIN=bin-asan LTC_BUILD=build-asan LTC_SLOW=1 sh tests/run-all.sh

# The daemon under ThreadSanitizer, over the suites that cross its threads
# most (loop and core, fsyncs, jobs, reloads under load): a race fails them.
# On PostgreSQL too when it is installed: the listening thread of several
# nodes (49), the probe reconnecting under the core (51), and a suite of load.
TSAN_SUITES := 01-api 05-lifecycle 06-reload-under-load 09-shares 12-safety 38-jobs 39-pipeline
TSAN_PG_SUITES := 01-api 49-nodes 51-pg-faults
tsan:
	@$(MAKE) --no-print-directory BUILD=build-tsan BIN=bin-tsan CC=clang-14 MALLOC= \
	  CFLAGS="-O1 -g -fsanitize=thread -fno-omit-frame-pointer" all build-tsan/promparse
	@TSAN_OPTIONS=halt_on_error=1:report_signal_unsafe=0 LTC_BIN=bin-tsan LTC_BUILD=build-tsan \
	  LTC_UNITS= LTC_SUITES="$(TSAN_SUITES:%=tests/integration/%.sh)" \
	  LTC_PG_SUITES="$(TSAN_PG_SUITES:%=tests/integration/%.sh)" sh tests/run-all.sh

fuzz:
	@sh scripts/fuzz.sh $(FUZZ_SECONDS)

browser-test:
	@sh scripts/install-deps.sh --browser
	@$(MAKE) --no-print-directory all
	@sh tests/browser/run.sh
	@sh tests/browser/openapi.sh

bench: deps all
	@sh scripts/bench.sh

PREFIX  ?= /usr/local
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/man/man8 $(DESTDIR)$(PREFIX)/lib/systemd/system \
	  $(DESTDIR)$(PREFIX)/share/ltcd
	install -m 755 $(BIN)/ltcd $(BIN)/ltcctl $(DESTDIR)$(PREFIX)/bin/
	install -m 644 examples/man/ltcctl.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 examples/man/ltcd.8 $(DESTDIR)$(PREFIX)/share/man/man8/
	sed -e 's|@BINDIR@|$(PREFIX)/bin|' -e 's|@DATADIR@|$(PREFIX)/share/ltcd|' examples/ltcd.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/ltcd.service
	cp -r rules $(DESTDIR)$(PREFIX)/share/ltcd/
	install -d $(DESTDIR)$(PREFIX)/share/ltcd/www
	install -m 644 engine/www/* $(DESTDIR)$(PREFIX)/share/ltcd/www/

clean:
	rm -rf build build-asan build-fuzz bin bin-asan

format:
	clang-format-14 -i engine/*.c engine/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c
format-check:
	clang-format-14 --dry-run --Werror engine/*.c engine/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c
