/* engine/ltcctl.c: the command-line client of ltcd: its verb table and main.
 *
 * ltcctl [--url URL] [--token TOKEN] [--json] VERB ... (see ltcctl.h for the
 * layout and the exit codes). Every verb prints a readable table or sentence,
 * or the API's JSON with --json; money is typed in fen (or yuan under a yuan
 * option) and printed as 1,200,000.00 CNY.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ltcctl.h"

/* --- options, per verb ---------------------------------------------------- */

static const struct ltcctl_opt lead_create_opts[] = {
    {"--office", "ID", "the representative office (required)", false},
    {"--customer", "TEXT", "the customer (required)", false},
    {"--title", "TEXT", "what the lead is about (required)", false},
    {"--source", "S", "sales|technical|delivery|marketing (default: the office's)", false},
    {"--amount", "FEN", "the customer's budget in fen: 120000000 is 1,200,000.00 CNY", false},
    {"--yuan", "YUAN", "the budget in yuan instead, at most two decimals: 1200000.00", false},
    {"--currency", "CUR", "the budget's currency (default CNY)", false},
    {"--budget", "STATUS", "approved|planned|none (default none)", false},
    {"--horizon", "MONTHS", "months to the customer's decision, 0..120 (default: the office's)",
     false},
    {"--signal", "NAME=0..5", "a lead signal, e.g. --signal strategic_fit=4", true},
    {NULL, NULL, NULL, false},
};

static const struct ltcctl_opt lead_list_opts[] = {
    {"--stage", "S", "lead|opportunity|contract|closed", false},
    {"--office", "ID", "one office", false},
    {"--region", "ID", "one region", false},
    {"--temperature", "T", "hot|warm|cold", false},
    {"--owner", "PERSON", "the leads one person owns (nurtures)", false},
    {"--limit", "N", "at most N instances, 1..500 (default 50)", false},
    {"--after", "ID", "the page after instance ID (as printed under the table)", false},
    {NULL, NULL, NULL, false},
};

static const struct ltcctl_opt base_opts[] = {
    {"--base", "V", "build on version V instead of the newest one", false},
    {NULL, NULL, NULL, false},
};

static const struct ltcctl_opt test_opts[] = {
    {"--leads", "FILE.jsonl", "also evaluate these leads (a JSON lead body a line; - is stdin)",
     false},
    {"--hq", "DIR", "HQ's rules from DIR (an hq directory or a tree holding one)", false},
    {"--owner", "OWNER", "the owner DIR's files belong to, when its path does not say", false},
    {NULL, NULL, NULL, false},
};

static const struct ltcctl_opt shadow_opts[] = {
    {"--hours", "N", "start a shadow run of N hours, 1..168 (without: show the run)", false},
    {NULL, NULL, NULL, false},
};

static const struct ltcctl_opt yuan_opts[] = {
    {"--yuan", "YUAN", "the amount in yuan instead of fen, at most two decimals", false},
    {NULL, NULL, NULL, false},
};

static const struct ltcctl_opt party_list_opts[] = {
    {"--office", "ID", "one office (default: every office in your scope)", false},
    {"--limit", "N", "at most N records, 1..500 (default 50)", false},
    {"--after", "ID", "the page after record ID (as printed under the table)", false},
    {NULL, NULL, NULL, false},
};

static const struct ltcctl_opt person_put_opts[] = {
    {"--name", "TEXT", "the person's name, 1..200 characters (required)", false},
    {"--office", "ID", "the person's office (required)", false},
    {"--role", "ROLE", "admin|reviewer|lead_manager|ar|sr|fr|finance|viewer, at most 8", true},
    {"--inactive", NULL, "store the person inactive (without it: active)", false},
    {NULL, NULL, NULL, false},
};

static const struct ltcctl_opt customer_put_opts[] = {
    {"--name", "TEXT", "the customer's name, 1..200 characters (required)", false},
    {"--office", "ID", "the office that serves the customer (required)", false},
    {"--segment", "TEXT", "the customer's segment, 1..60 characters", false},
    {"--credit-limit", "FEN", "the credit KCP's limit in fen, 0..10^15 (default: HQ's)", false},
    {"--yuan", "YUAN", "the credit limit in yuan instead, at most two decimals", false},
    {NULL, NULL, NULL, false},
};

static const struct ltcctl_opt queue_opts[] = {
    {"--unit", "U", "hq, region/ID or office/ID (default: your own unit)", false},
    {"--as-of", "DATE", "the day of the meeting, YYYY-MM-DD (default: today)", false},
    {NULL, NULL, NULL, false},
};

static const struct ltcctl_opt activity_opts[] = {
    {"--person", "ID", "who was in front of the customer (required)", false},
    {"--customer", "ID", "a registered customer (required)", false},
    {"--kind", "K", "visit|call|workshop|budget_table (required)", false},
    {"--at", "DATE", "when, YYYY-MM-DD (required)", false},
    {"--instance", "ID", "the lead or instance it was about", false},
    {"--note", "TEXT", "1..200 characters", false},
    {"--budget-year", "Y", "budget_table: the year the budget is for, 1900..9998", false},
    {"--budget-amount", "FEN", "budget_table: the customer's investment budget in fen", false},
    {"--budget-yuan", "YUAN", "budget_table: the budget in yuan instead", false},
    {NULL, NULL, NULL, false},
};

static const struct ltcctl_opt activities_opts[] = {
    {"--person", "ID", "one person's", false},
    {"--customer", "ID", "one customer's", false},
    {"--office", "ID", "one office's", false},
    {"--from", "DATE", "on or after DATE, YYYY-MM-DD", false},
    {"--to", "DATE", "on or before DATE, YYYY-MM-DD", false},
    {"--limit", "N", "at most N activities, 1..500 (default 50)", false},
    {"--after", "ID", "the page after activity ID (as printed under the table)", false},
    {NULL, NULL, NULL, false},
};

static const struct ltcctl_opt scorecard_opts[] = {
    {"--unit", "U", "hq, region/ID or office/ID (default: your own unit)", false},
    {"--week", "YYYY-Www", "the ISO week, Monday to Sunday, e.g. 2026-W53 (required)", false},
    {NULL, NULL, NULL, false},
};

static const struct ltcctl_opt pipeline_opts[] = {
    {"--unit", "U", "hq, region/ID, office/ID or customer/ID (default: your own unit)", false},
    {"--period", "P", "YYYY, YYYY-Qn or YYYY-MM (default: this year)", false},
    {"--metric", "orders", "the pipeline is of orders, the only metric it has", false},
    {"--depth", "N", "levels below the unit, 0..3 (default: all, down to customers)", false},
    {NULL, NULL, NULL, false},
};

static const struct ltcctl_opt metrics_opts[] = {
    {"--unit", "U", "hq, region/ID or office/ID (default: your own unit)", false},
    {"--period", "P", "YYYY, YYYY-Qn or YYYY-MM (default: this year)", false},
    {"--wait", "SECONDS", "how long to wait for the daemon's job, 1..3600 (default 120)", false},
    {NULL, NULL, NULL, false},
};

static const struct ltcctl_opt migrate_opts[] = {
    {"--to", "VERSION", "the HQ process version to move to, one that was active (required)", false},
    {"--unit", "U", "hq, region/ID or office/ID: whose open instances (default hq: all)", false},
    {"--stage", "S", "only the instances at this open stage (lead, opportunity, contract)", false},
    {"--dry-run", NULL, "list what would move and what is refused, change nothing (default)",
     false},
    {"--apply", NULL, "move them: re-pin each accepted instance, one migrate event each", false},
    {NULL, NULL, NULL, false},
};

/* --- the verbs -------------------------------------------------------------
 * One row per verb; ltcctl_help_all prints them in this order. */

#define ACTION(name, usage, summary)                                                               \
    {                                                                                              \
        name, "ID " usage, summary, 1, LTCCTL_POS_MAX, NULL, ltcctl_action, false                  \
    }

const struct ltcctl_verb ltcctl_verbs[] = {
    {"health", "", "the daemon's status", 0, 0, NULL, ltcctl_health, false},
    {"lead create", "--office ID --customer TEXT --title TEXT (--amount FEN | --yuan YUAN) ...",
     "create a lead from options (or from a JSON body: lead create FILE|-)\n"
     "and print it with its evaluation",
     0, 1, lead_create_opts, ltcctl_lead_create, false},
    {"lead show", "ID",
     "one instance: stage, budget, evaluation, team, gates, contract, "
     "milestones",
     1, 1, NULL, ltcctl_lead_show, false},
    {"lead list",
     "[--stage S] [--office ID] [--region ID] [--temperature T] [--owner PERSON] [--limit N] "
     "[--after ID]",
     "a page of instances in your scope", 0, 0, lead_list_opts, ltcctl_lead_list, false},
    {"events", "ID", "an instance's audit trail: business date, action, actor, outcome", 1, 1, NULL,
     ltcctl_events, false},
    ACTION("reevaluate", "[at=YYYY-MM-DD]", "evaluate a lead again under today's rules"),
    ACTION("review",
           "decision=convert|nurture|close [note=TEXT] [next_review=YYYY-MM-DD] [owner=PERSON]",
           "the lead review's decision (convert: to opportunity)\n"
           "(nurture: back in the queue on next_review, default HQ's nurture_days; owner: a new "
           "nurturer)"),
    ACTION("assign", "ar=NAME sr=NAME fr=NAME", "name the iron triangle"),
    ACTION("decide",
           "kdp=ATI|ATB|ATC|ATAC|ATCC outcome=approve|approve_with_conditions|reject|defer\n"
           "       value=FEN|value_yuan=YUAN discount=PCT margin=PCT ['conditions=[{...}]']",
           "a key decision point, routed to the level the region's authority needs\n"
           "(conditions: [{\"text\",\"owner\",\"due\"}])"),
    ACTION("sign",
           "value=FEN|value_yuan=YUAN net_days=N "
           "'terms=[{\"milestone\":\"advance\",\"percent\":10},...]'",
           "sign the contract after ATC is approved"),
    ACTION("milestone",
           "kind=delivery|acceptance|invoice|payment amount=FEN|amount_yuan=YUAN ref=TEXT",
           "record a delivery, acceptance, invoice or payment"),
    ACTION("close", "reason=TEXT", "close the instance (won after ATCC, else lost or dropped)"),
    {"assign-owner", "ID PERSON",
     "make PERSON the lead's owner (its nurturer)\n"
     "the assign_owner action: at stage lead, by reviewers and admins; PERSON an active\n"
     "person of the lead's office",
     2, 2, NULL, ltcctl_assign_owner, false},
    {"act", "ID ACTION [KEY=VALUE]...",
     "any action by name; every action takes at=YYYY-MM-DD (when it happened).\n"
     "Keys are typed: money in fen (or KEY_yuan=YUAN), percentages, dates, days;\n"
     "for an action ltcctl does not know, VALUE is JSON when it parses, else text",
     2, LTCCTL_POS_MAX, NULL, ltcctl_act, false},
    {"document", "ID KIND", "a document from the office's template (e.g. quote)", 2, 2, NULL,
     ltcctl_document, false},
    {"receivables", "ID [YYYY-MM-DD]", "invoiced, paid, overdue and escalation as of a date", 1, 2,
     NULL, ltcctl_receivables, false},
    {"people list", "[--office ID] [--limit N] [--after ID]",
     "the people of your scope: id, name, office, active, roles", 0, 0, party_list_opts,
     ltcctl_people_list, false},
    {"people show", "ID", "one person", 1, 1, NULL, ltcctl_people_show, false},
    {"people put", "ID --name TEXT --office ID [--role ROLE]... [--inactive]",
     "register or replace a person (the whole record; an admin of the office or above)", 1, 1,
     person_put_opts, ltcctl_people_put, false},
    {"people deactivate", "ID",
     "deactivate a person: kept, but never an owner or on a scorecard again", 1, 1, NULL,
     ltcctl_people_deactivate, false},
    {"customers list", "[--office ID] [--limit N] [--after ID]",
     "the customers of your scope with their credit limits", 0, 0, party_list_opts,
     ltcctl_customers_list, false},
    {"customers show", "ID", "one customer", 1, 1, NULL, ltcctl_customers_show, false},
    {"customers put",
     "ID --name TEXT --office ID [--segment TEXT] [--credit-limit FEN | --yuan YUAN]",
     "register or replace a customer (the whole record; the credit KCP uses its limit)", 1, 1,
     customer_put_opts, ltcctl_customers_put, false},
    {"queue", "[--unit U] [--as-of DATE]",
     "the review queue: the leads waiting for the review meeting, highest priority first\n"
     "(HQ's lead.lua), each with its owner, evaluation, age in days and staleness",
     0, 0, queue_opts, ltcctl_queue, false},
    {"review-meeting", "FILE|-",
     "submit a review meeting from a JSON file, all or nothing\n"
     "FILE is the body of POST /v1/reviews: {\"unit\", \"held_at\", \"decisions\": "
     "[{\"instance\",\n"
     "\"decision\": convert|nurture|close, \"note\", \"next_review\", \"owner\"}]} (- is stdin);\n"
     "prints the meeting's record, or every refused decision (exit 1; nothing is recorded)",
     1, 1, NULL, ltcctl_meeting, false},
    {"review-meeting show", "ID", "a recorded review meeting and its decisions", 1, 1, NULL,
     ltcctl_meeting_show, false},
    {"activity add",
     "--person ID --customer ID --kind K --at DATE [--instance ID] [--note TEXT]\n"
     "       [--budget-year Y --budget-amount FEN|--budget-yuan YUAN]",
     "record a visit, call, workshop or a customer's budget table (with its year and amount)", 0, 0,
     activity_opts, ltcctl_activity_add, false},
    {"activities", "[--person ID] [--customer ID] [--from DATE] [--to DATE] ...",
     "the activities of your scope, oldest first", 0, 0, activities_opts, ltcctl_activities, false},
    {"scorecard", "--week YYYY-Www [--unit U]",
     "the week's front-line scorecard of a unit\n"
     "per person: visits against the minimum, budget tables overdue, points lost;\n"
     "per customer: next year's budget table collected or missing, this year's overdue",
     0, 0, scorecard_opts, ltcctl_scorecard, false},
    {"pipeline", "[--unit U] [--period P] [--depth N]",
     "the pipeline tree against the orders targets, down to customers\n"
     "each node's target, won, open, weighted, coverage, gap and forecast categories\n"
     "(commit, best case, pipeline, omitted); the unit's categories in full below it",
     0, 0, pipeline_opts, ltcctl_pipeline, false},
    {"metrics", "[--unit U] [--period P] [--wait SECONDS]",
     "the process metrics of a unit and period, in process order\n"
     "leads by source, days at each stage, conversion at each step, win rate, lead-to-cash\n"
     "cycle, DSO and overdue ratio, each with the counts it comes from; waits for the\n"
     "daemon's job at most --wait seconds (exit 3 when it did not answer in time)",
     0, 0, metrics_opts, ltcctl_metrics, false},
    {"migrate", "--to VERSION [--unit U] [--stage S] [--dry-run | --apply]",
     "move open instances to an HQ process version: a dry run unless --apply\n"
     "(hq admin) each instance is checked by the version's migrate; lists the instances\n"
     "that move (or would) and the refused ones with their reasons. Exit 0 when every\n"
     "instance moves, 4 when some are refused or more remain (run it again), 1 when the\n"
     "daemon refuses the request, 2 for a bad option",
     0, 0, migrate_opts, ltcctl_migrate, false},
    {"rules status", "", "every owner's active and pending versions and last error", 0, 0, NULL,
     ltcctl_rules_status, false},
    {"rules put", "OWNER FILE [PATH] [--base V]",
     "upload one file as a new version built on the newest one (or on V);\n"
     "FILE is its name in the bundle (thresholds.lua), read from PATH (default FILE);\n"
     "a FILE with a '/' and no PATH is read from there and named by its last part",
     2, 3, base_opts, ltcctl_rules_put, false},
    {"rules rm", "OWNER FILE [--base V]", "remove one file (a new version, as with put)", 2, 2,
     base_opts, ltcctl_rules_rm, false},
    {"rules push", "OWNER DIR",
     "upload DIR's *.lua files as one bundle (with DIR/bundle.sig "
     "when present)",
     2, 2, NULL, ltcctl_rules_push, false},
    {"rules sign", "DIR KEYFILE", "sign DIR's bundle: writes DIR/bundle.sig", 2, 2, NULL,
     ltcctl_rules_sign, true},
    {"rules test", "DIR [--leads FILE.jsonl] [--hq DIR] [--owner OWNER]",
     "run DIR's tests.lua offline (DIR: an owner's directory or a whole tree) with HQ's\n"
     "rules from --hq or the daemon's active version; submits nothing; exit 0 when all pass",
     1, 1, test_opts, ltcctl_rules_test, false},
    {"rules approve", "OWNER VERSION", "approve a pending version (hq admin)", 1, 2, NULL,
     ltcctl_rules_approve, false},
    {"rules reject", "OWNER VERSION [REASON]", "reject a pending version (hq admin)", 1, 3, NULL,
     ltcctl_rules_reject, false},
    {"rules versions", "OWNER", "version history: status, origin, base, hash", 1, 1, NULL,
     ltcctl_rules_versions, false},
    {"rules show", "OWNER [VERSION]", "one version (default: the active one): each file's source",
     1, 2, NULL, ltcctl_rules_show, false},
    {"rules diff", "OWNER V [W]", "what V changes against W (default: the active version)", 2, 3,
     NULL, ltcctl_rules_diff, false},
    {"rules simulate", "OWNER VERSION [unit=UNIT] [from=DATE] [to=DATE] [limit=N] [max_ms=N]",
     "what-if over stored leads: what VERSION would change; changes nothing", 2, 7, NULL,
     ltcctl_rules_simulate, false},
    {"rules shadow", "OWNER VERSION [--hours N]",
     "run a pending version beside the active one on live leads, or show its run", 2, 2,
     shadow_opts, ltcctl_rules_shadow, false},
    {"rules rollback", "OWNER", "back to the previous good version", 1, 1, NULL,
     ltcctl_rules_rollback, false},
    {"rules events", "OWNER", "the audit of the owner's rule operations", 1, 1, NULL,
     ltcctl_rules_events, false},
    {"rules reload", "", "re-read the rules directory (hq admin)", 0, 0, NULL, ltcctl_rules_reload,
     false},
    {"keygen", "PREFIX", "an ed25519 key pair: PREFIX.pub, PREFIX.key", 1, 1, NULL, ltcctl_keygen,
     true},
    {"shares run", "PERIOD POOL|--yuan YUAN", "allocate a bonus pool (fen) over a period's cash", 1,
     2, yuan_opts, ltcctl_shares_run, false},
    {"shares show", "ID", "an allocation run as a tree (your part of it)", 1, 1, NULL,
     ltcctl_shares_show, false},
    {"targets set", "UNIT PERIOD METRIC AMOUNT|--yuan YUAN",
     "a target: METRIC orders|cash, AMOUNT in fen", 3, 4, yuan_opts, ltcctl_targets_set, false},
    {"targets show", "PERIOD [METRIC]", "the roll-up tree with completion (default orders)", 1, 2,
     NULL, ltcctl_targets_show, false},
    {NULL, NULL, NULL, 0, 0, NULL, NULL, false},
};

/* The verb whose words start argv (the longest match), and how many words
 * it took. */
static const struct ltcctl_verb *find_verb(int argc, char **argv, int *used)
{
    const struct ltcctl_verb *best = NULL;
    for (const struct ltcctl_verb *v = ltcctl_verbs; v->words; v++) {
        int k = 0;
        const char *w = v->words;
        while (*w && k < argc) {
            size_t n = strcspn(w, " ");
            if (strlen(argv[k]) != n || strncmp(argv[k], w, n))
                break;
            k++;
            w += n + (w[n] == ' ');
        }
        if (!*w && (!best || k > *used)) {
            best = v;
            *used = k;
        }
    }
    return best;
}

/* "rules" alone, or "rules frobnicate": the verbs that start with "rules". */
static void suggest(FILE *f, const char *word)
{
    size_t n = strlen(word);
    int found = 0;
    for (const struct ltcctl_verb *v = ltcctl_verbs; v->words; v++)
        if (!strncmp(v->words, word, n) && v->words[n] == ' ')
            fprintf(f, "%s  ltcctl %s %s\n", found++ ? "" : "its verbs:\n", v->words, v->usage);
    if (!found)
        fprintf(f, "ltcctl help lists every verb\n");
}

int main(int argc, char **argv)
{
    struct ltcctl o = {getenv("LTC_URL"), getenv("LTC_TOKEN"), false};
    if (!o.url)
        o.url = "http://127.0.0.1:8080";
    int i = 1;
    /* Global options before the verb (they are also taken after it). */
    for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
        if (!strcmp(argv[i], "--json"))
            o.json = true;
        else if (!strcmp(argv[i], "--url") && i + 1 < argc)
            o.url = argv[++i];
        else if (!strcmp(argv[i], "--token") && i + 1 < argc)
            o.token = argv[++i];
        else if (!strcmp(argv[i], "--help")) {
            ltcctl_help_all(stdout);
            return LTCCTL_OK;
        } else {
            fprintf(stderr,
                    "ltcctl: unknown option %s (before the verb: --url URL, --token "
                    "TOKEN, --json, --help)\n",
                    argv[i]);
            return LTCCTL_USAGE;
        }
    }
    if (i >= argc) {
        ltcctl_help_all(stderr);
        return LTCCTL_USAGE;
    }
    int used = 0;
    if (!strcmp(argv[i], "help")) {
        const struct ltcctl_verb *v = find_verb(argc - i - 1, argv + i + 1, &used);
        if (i + 1 < argc && !v) {
            fprintf(stderr, "ltcctl: no verb '%s'\n", argv[i + 1]);
            suggest(stderr, argv[i + 1]);
            return LTCCTL_USAGE;
        }
        if (v)
            ltcctl_help_verb(stdout, v);
        else
            ltcctl_help_all(stdout);
        return LTCCTL_OK;
    }
    const struct ltcctl_verb *v = find_verb(argc - i, argv + i, &used);
    if (!v) {
        /* "lead frobnicate": the second word is named only after a group's
         * first word (lead, rules, people, ...), never an id or a key. */
        bool group = false;
        size_t wl = strlen(argv[i]);
        for (const struct ltcctl_verb *g = ltcctl_verbs; g->words; g++)
            group |= !strncmp(g->words, argv[i], wl) && g->words[wl] == ' ';
        bool two = group && i + 1 < argc;
        fprintf(stderr, "ltcctl: no verb '%s%s%s'\n", argv[i], two ? " " : "",
                two ? argv[i + 1] : "");
        suggest(stderr, argv[i]);
        return LTCCTL_USAGE;
    }
    struct ltcctl_args a;
    int rc = ltcctl_args_parse(v, argc - i - used, argv + i + used, &o, &a);
    if (rc)
        return rc < 0 ? LTCCTL_OK : rc;
    if (!v->offline && strncmp(o.url, "http://", 7) && strncmp(o.url, "https://", 8)) {
        fprintf(stderr,
                "ltcctl: --url (or LTC_URL): '%.200s' is not an http:// or https:// URL, "
                "e.g. http://127.0.0.1:8080\n",
                o.url);
        return LTCCTL_USAGE;
    }
    ltcctl_colour = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    if (!v->offline)
        curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = v->fn(&o, &a);
    if (!v->offline)
        curl_global_cleanup();
    return rc;
}
