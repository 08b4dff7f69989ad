// tests/browser/openapi.mjs: the OpenAPI document against a real daemon
// (make browser-test; openapi.sh seeds nothing and starts it).
// 1. GET /v1/openapi.json is a valid OpenAPI 3.1 document
//    (@seriousme/openapi-schema-validator) and is engine/openapi.json byte for byte.
// 2. A scenario takes every operation of the document at least once, on a
//    real daemon with the shipped rules, and checks each answer (status and
//    body) against the schema the document gives for that status (Ajv, JSON
//    Schema 2020-12 as OpenAPI 3.1 uses it), and each JSON body the daemon
//    accepted (2xx) against the operation's request schema. Some steps are
//    errors on purpose: they are checked against the error envelope.
// Prints TAP and "N passed, N failed"; exit 1 on any failure.
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const URL = process.env.LTC_URL;
const ROOT = process.env.LTC_ROOT;
let passed = 0, failed = 0, n = 0;
const ok = (name) => { n++; passed++; console.log(`ok ${n} - ${name}`); };
const notOk = (name, why) => { n++; failed++; console.log(`not ok ${n} - ${name}`); if (why) console.log(`# ${String(why).replace(/\n/g, "\n# ")}`); };

const served = await (await fetch(`${URL}/v1/openapi.json`)).text();
const inTree = readFileSync(`${ROOT}/engine/openapi.json`, "utf8");
served === inTree ? ok("the daemon serves engine/openapi.json as built") : notOk("the daemon serves engine/openapi.json as built");
const doc = JSON.parse(served);

const validator = new Validator();
const res = await validator.validate(doc);
res.valid ? ok(`the document is valid OpenAPI ${validator.version}`) : notOk("the document is valid OpenAPI 3.1", JSON.stringify(res.errors, null, 1).slice(0, 3000));

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc, "openapi.json");

// The document's path template a concrete path falls under: literal
// segments before templated ones, as OpenAPI resolves them.
const templates = Object.keys(doc.paths).map((t) => ({ t, segs: t.split("/") }));
function templateOf(path, method) {
    const segs = path.split("?")[0].split("/");
    let best = null, bestScore = -1;
    for (const { t, segs: ts } of templates) {
        if (ts.length !== segs.length || !doc.paths[t][method]) continue;
        let score = 0, fits = true;
        ts.forEach((s, i) => {
            if (s.startsWith("{")) return;
            if (s === decodeURIComponent(segs[i])) score++; else fits = false;
        });
        if (fits && score > bestScore) { best = t; bestScore = score; }
    }
    return best;
}
const pointer = (...parts) => "#/" + parts.map((p) => encodeURIComponent(String(p).replace(/~/g, "~0").replace(/\//g, "~1"))).join("/");
const taken = new Set();

// One request, checked against the document: the answer's status must be
// documented (or fall under default) and its body must fit that schema.
async function call(method, path, token, body, want, name) {
    const headers = {};
    if (token) headers.Authorization = `Bearer ${token}`;
    let data;
    if (body !== undefined) data = typeof body === "string" ? body : JSON.stringify(body);
    const r = await fetch(URL + path, { method, headers, body: data });
    const text = await r.text();
    const m = method.toLowerCase();
    const t = templateOf(path, m);
    const label = `${name}: ${method} ${path} -> ${r.status}`;
    if (!t) { notOk(label, "no operation of the document matches"); return null; }
    taken.add(`${m} ${t}`);
    if (want && r.status !== want) { notOk(label, `wanted ${want}: ${text.slice(0, 400)}`); return null; }
    const responses = doc.paths[t][m].responses;
    let code = String(r.status);
    if (!responses[code]) code = "default";
    let resp = responses[code];
    if (resp && resp.$ref) resp = doc.components.responses[resp.$ref.split("/").pop()];
    if (!resp) { notOk(label, "status not documented"); return null; }
    const ctype = (r.headers.get("content-type") || "").split(";")[0].trim();
    const media = resp.content && resp.content[ctype];
    if (!media) { notOk(label, `content type ${ctype} not documented for ${code}`); return null; }
    let value = text;
    if (ctype === "application/json") {
        try { value = JSON.parse(text); } catch (e) { notOk(label, `not JSON: ${e}`); return null; }
    }
    const ref = responses[code].$ref
        ? `openapi.json${pointer("components", "responses", responses[code].$ref.split("/").pop(), "content", ctype, "schema")}`
        : `openapi.json${pointer("paths", t, m, "responses", code, "content", ctype, "schema")}`;
    const validate = ajv.getSchema(ref) || ajv.compile({ $ref: ref });
    if (!validate(value)) { notOk(label, JSON.stringify(validate.errors, null, 1).slice(0, 1500)); return value; }
    // A JSON body the daemon accepted must fit the request schema the
    // document gives, so that what it documents is what is really taken.
    const rb = doc.paths[t][m].requestBody;
    if (r.status < 300 && rb && rb.content["application/json"] && body !== undefined && typeof body !== "string") {
        const rref = `openapi.json${pointer("paths", t, m, "requestBody", "content", "application/json", "schema")}`;
        const vreq = ajv.getSchema(rref) || ajv.compile({ $ref: rref });
        if (!vreq(body)) { notOk(`${label}: its accepted body fits the request schema`, JSON.stringify(vreq.errors, null, 1).slice(0, 1500)); return value; }
    }
    ok(label);
    return value;
}

const LEAD = {
    office: "province-a", customer: "ACME Telecom", title: "5G core", source: "sales",
    budget: { amount: 60000000, currency: "CNY", status: "approved" }, horizon_months: 6,
    signals: { strategic_fit: 4, urgency: 5, relationship: 4, coach: 3, solution_maturity: 4 },
};
const act = (id, token, body, want, name) => call("POST", `/v1/instances/${id}/actions`, token, body, want, name);

// Operations and the dashboard's files.
await call("GET", "/health", null, undefined, 200, "health");
await call("GET", "/metrics", null, undefined, 200, "metrics");
for (const p of ["/", "/ui/app.js", "/ui/style.css"]) await call("GET", p, null, undefined, 200, "dashboard file");
await call("GET", "/v1/openapi.json", null, undefined, 200, "the document itself");
await call("GET", "/v1/me", "hq-admin-token", undefined, 200, "me");
await call("GET", "/v1/me", null, undefined, 401, "no token");

// Rules: the shipped region versions wait for HQ (no --auto-approve).
await call("GET", "/v1/rules", "hq-admin-token", undefined, 200, "rules status");
await call("POST", "/v1/rules/region/south/versions/1/approve", "hq-admin-token", undefined, 200, "approve");
await call("POST", "/v1/rules/region/north/versions/1/shadow", "north-admin-token", { hours: 1 }, 201, "shadow start");
await call("GET", "/v1/rules/region/north/versions/1/shadow", "north-admin-token", undefined, 200, "shadow status");
await call("GET", "/v1/rules/region/north/versions/1/diff", "hq-admin-token", undefined, 200, "diff");
await call("POST", "/v1/rules/region/north/versions/1/simulate", "hq-admin-token", {}, 200, "simulate");
await call("POST", "/v1/rules/region/north/versions/1/reject", "hq-admin-token", { reason: "not this quarter" }, 200, "reject");
await call("POST", "/v1/rules/region/north/versions/1/approve", "hq-admin-token", { reson: "typo" }, 400, "an unknown body key");
await call("PUT", "/v1/rules/region/south/thresholds.lua", "south-admin-token", "return { hot = 66 }", 201, "put a region file");
await call("POST", "/v1/rules/region/south/versions/2/approve", "hq-admin-token", undefined, 200, "approve v2");
await call("POST", "/v1/rules/region/south/rollback", "south-admin-token", undefined, 200, "rollback");
await call("PUT", "/v1/rules/region/south/thresholds.lua", "south-admin-token", "return { hot = 99 }", 422, "a value outside HQ bounds");
await call("PUT", "/v1/rules/office/city-c/templates.lua", "cc-admin-token", 'return { quote = function(ctx) return "q" end }', 201, "put an office file");
await call("DELETE", "/v1/rules/office/city-c/templates.lua", "cc-admin-token", undefined, 201, "delete an office file");
await call("POST", "/v1/rules/office/city-c/bundle", "cc-admin-token", { files: { "tools.lua": "return { defaults = { source = 'delivery' } }" } }, 201, "bundle upload");
await call("GET", "/v1/rules/office/city-c/events", "cc-admin-token", undefined, 200, "rule events");
await call("GET", "/v1/rules/office/city-c/versions", "cc-admin-token", undefined, 200, "versions");
await call("GET", "/v1/rules/office/city-c/versions/1", "cc-admin-token", undefined, 200, "one version");
await call("GET", "/v1/rules/hq/versions", "hq-admin-token", undefined, 200, "HQ's versions");
await call("GET", "/v1/rules/hq/versions/1", "hq-admin-token", undefined, 200, "HQ's version 1");
await call("GET", "/v1/rules/hq/versions/1/diff", "hq-admin-token", undefined, 200, "HQ diff");
await call("GET", "/v1/rules/hq/events", "hq-admin-token", undefined, 200, "HQ events");
await call("POST", "/v1/rules/hq/versions/1/simulate", "hq-admin-token", {}, 200, "HQ simulate");
await call("POST", "/v1/rules/hq/versions/1/shadow", "hq-admin-token", { hours: 1 }, 409, "shadowing an active version");
await call("GET", "/v1/rules/hq/versions/1/shadow", "hq-admin-token", undefined, 404, "no shadow of HQ v1");
await call("POST", "/v1/rules/hq/versions/1/approve", "hq-admin-token", undefined, 409, "approving an active version");
await call("POST", "/v1/rules/hq/versions/1/reject", "hq-admin-token", undefined, 409, "rejecting an active version");
await call("POST", "/v1/rules/hq/rollback", "hq-admin-token", undefined, 409, "no HQ version to go back to");
await call("POST", "/v1/rules/hq/bundle", "south-admin-token", { files: { "org.lua": "return {}" } }, 403, "a region may not write HQ");
await call("PUT", "/v1/rules/hq/lead.lua", "south-admin-token", "return {}", 403, "a region may not put HQ files");
await call("DELETE", "/v1/rules/hq/lead.lua", "south-admin-token", undefined, 403, "a region may not delete HQ files");
await call("GET", "/v1/rules/region/south/versions", "south-admin-token", undefined, 200, "South's versions");
await call("GET", "/v1/rules/region/south/versions/1", "south-admin-token", undefined, 200, "South v1");
await call("GET", "/v1/rules/region/south/events", "south-admin-token", undefined, 200, "South's events");
await call("DELETE", "/v1/rules/region/south/actions.lua", "south-admin-token", undefined, 201, "South deletes a file");
await call("POST", "/v1/rules/region/south/bundle", "south-admin-token", { files: { "share.lua": "return { platform = 15, triangle = { ar = 40, sr = 30, fr = 30 } }" } }, 201, "South bundle");
await call("GET", "/v1/rules/office/city-c/versions/1/diff", "cc-admin-token", undefined, 200, "office diff");
await call("POST", "/v1/rules/office/city-c/versions/1/simulate", "cc-admin-token", {}, 200, "office simulate");
await call("POST", "/v1/rules/office/city-c/versions/1/shadow", "cc-admin-token", { hours: 1 }, 409, "office shadow of a retired version");
await call("GET", "/v1/rules/office/city-c/versions/1/shadow", "cc-admin-token", undefined, 404, "no office shadow");
await call("POST", "/v1/rules/office/city-c/versions/1/approve", "hq-admin-token", undefined, 409, "approving a retired office version");
await call("POST", "/v1/rules/office/city-c/versions/1/reject", "hq-admin-token", undefined, 409, "rejecting a retired office version");
await call("POST", "/v1/rules/office/city-c/rollback", "cc-admin-token", undefined, 200, "office rollback");
await call("POST", "/v1/rules/reload", "hq-admin-token", undefined, 200, "reload");

// Instances: a lead taken to cash.
const inst = await call("POST", "/v1/leads", "pa-ar-token", LEAD, 201, "create a lead");
const id = inst ? inst.id : 1;
await call("POST", "/v1/leads", "pa-ar-token", { ...LEAD, signals: { strategy_fit: 4 } }, 400, "a misspelt signal");
await act(id, "pa-ar-token", { action: "reevaluate" }, 200, "reevaluate");
await act(id, "pa-ar-token", { action: "review", decision: "convert", note: "budget confirmed", at: "2026-01-05" }, 200, "review");
await act(id, "pa-ar-token", { action: "assign", ar: "Li", sr: "Wang", fr: "Zhao" }, 200, "assign");
for (const kdp of ["ATI", "ATB"]) await act(id, "pa-admin-token", { action: "decide", kdp, outcome: "approve", value: 800000000, discount: 5, margin: 25 }, 200, kdp);
await act(id, "pa-admin-token", { action: "decide", kdp: "ATC", outcome: "approve", value: 8000000, discount: 5, margin: 25 }, 422, "ATC 100 times below ATB");
await act(id, "pa-admin-token", { action: "decide", kdp: "ATC", outcome: "approve", value: 800000000, discount: 5, margin: 25 }, 200, "ATC");
await act(id, "pa-ar-token", { action: "sign", value: 800000000, net_days: 30, terms: [{ milestone: "delivery", percent: 100 }], at: "2026-02-01" }, 200, "sign");
await act(id, "pa-ar-token", { action: "milestone", kind: "delivery", amount: 800000000, at: "2026-01-01" }, 422, "a date before the last one");
for (const kind of ["delivery", "acceptance", "invoice", "payment"])
    await act(id, "pa-admin-token", { action: "milestone", kind, amount: 400000000, at: "2026-03-01" }, 200, kind);
await act(id, "pa-ar-token", { action: "sign", value: 1, net_days: 30, terms: [] }, 409, "sign at stage contract");
await call("GET", `/v1/instances/${id}`, "pa-ar-token", undefined, 200, "instance");
await call("GET", "/v1/instances/999999", "pa-ar-token", undefined, 404, "an unknown instance");
await call("GET", "/v1/instances?limit=2", "pa-ar-token", undefined, 200, "instance page");
await call("GET", "/v1/instances?limit=0", "pa-ar-token", undefined, 400, "a bad limit");
await call("GET", `/v1/instances/${id}/events`, "pa-ar-token", undefined, 200, "events");
await call("GET", `/v1/instances/${id}/receivables?as_of=2026-06-01`, "pa-ar-token", undefined, 200, "receivables");
await call("GET", `/v1/instances/${id}/documents/quote`, "pa-ar-token", undefined, 200, "document");
await call("GET", `/v1/instances/${id}/documents/nope`, "pa-ar-token", undefined, 404, "no such template");
await call("GET", "/v1/funnel", "hq-admin-token", undefined, 200, "funnel");
await call("GET", "/v1/events?limit=5", "hq-admin-token", undefined, 200, "recent events");
await call("GET", "/v1/decisions/waiting?as_of=2026-06-01", "hq-admin-token", undefined, 200, "decisions waiting");
await call("GET", "/v1/decisions/waiting?level=board", "hq-admin-token", undefined, 400, "an unknown level");
await call("GET", "/v1/receivables/overdue?as_of=2026-12-31", "hq-admin-token", undefined, 200, "overdue receivables");

// Lead management: people, customers, owners, the review meeting, activities
// and scorecards (pa-reviewer-token names a person: openapi.sh's tokens).
const day = (n) => new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);
const PERSON = { name: "Li", office: "province-a", roles: ["ar"] };
await call("PUT", "/v1/people/lin", "pa-admin-token", { name: "Lin", office: "province-a", roles: ["reviewer", "lead_manager"] }, 201, "register a person");
await call("PUT", "/v1/people/li", "pa-admin-token", PERSON, 201, "register an account manager");
await call("PUT", "/v1/people/li", "pa-admin-token", { ...PERSON, roles: ["ar", "sr"], active: true }, 200, "change a person");
await call("PUT", "/v1/people/zhou", "pa-admin-token", { ...PERSON, office: "city-c" }, 403, "a person of another office");
await call("PUT", "/v1/people/li", "pa-admin-token", { ...PERSON, rank: 1 }, 400, "an unknown person key");
await call("GET", "/v1/people/li", "pa-ar-token", undefined, 200, "one person");
await call("GET", "/v1/people/nobody", "pa-ar-token", undefined, 404, "an unknown person");
await call("GET", "/v1/people/li", "cc-admin-token", undefined, 404, "a person out of scope");
await call("GET", "/v1/people/BAD", "pa-ar-token", undefined, 400, "a malformed person id");
await call("GET", "/v1/people?limit=1", "pa-ar-token", undefined, 200, "a page of people");
await call("GET", "/v1/people?office=province-a&after=li", "south-admin-token", undefined, 200, "the next page of an office");
await call("GET", "/v1/people?office=city-c", "pa-ar-token", undefined, 403, "another office's people");
await call("GET", "/v1/people?limit=501", "pa-ar-token", undefined, 400, "a limit beyond 500");
const CUSTOMER = { name: "ACME Telecom", office: "province-a", segment: "telecom", credit_limit: 900000000 };
await call("PUT", "/v1/customers/acme", "pa-admin-token", CUSTOMER, 201, "register a customer");
await call("PUT", "/v1/customers/acme", "south-admin-token", { ...CUSTOMER, credit_limit: 1000000000 }, 200, "change a customer");
await call("PUT", "/v1/customers/bare", "pa-admin-token", { name: "Bare", office: "province-a" }, 201, "a customer without segment or limit");
await call("PUT", "/v1/customers/acme", "pa-admin-token", { ...CUSTOMER, credit_limit: -1 }, 400, "a negative credit limit");
await call("PUT", "/v1/customers/acme", "cc-admin-token", CUSTOMER, 403, "another office's admin");
await call("GET", "/v1/customers/acme", "pa-ar-token", undefined, 200, "one customer");
await call("GET", "/v1/customers/acme", "cc-admin-token", undefined, 404, "a customer out of scope");
await call("GET", "/v1/customers/a.b", "pa-ar-token", undefined, 400, "a malformed customer id");
await call("GET", "/v1/customers?limit=1", "pa-ar-token", undefined, 200, "a page of customers");
await call("GET", "/v1/customers?office=nowhere", "hq-admin-token", undefined, 400, "an office outside the org tree");
await call("GET", "/v1/customers?office=province-a", "north-admin-token", undefined, 403, "another region's office");

// Leads of a registered customer get HQ's default owner (the least-loaded ar).
const lead = async (name) => { const l = await call("POST", "/v1/leads", "pa-ar-token", { ...LEAD, customer: "acme" }, 201, name); return l ? l.id : 0; };
const l1 = await lead("a lead with an owner"), l2 = await lead("a second"), l3 = await lead("a third");
await call("GET", "/v1/instances?owner=li", "pa-ar-token", undefined, 200, "the instances a person owns");
await call("GET", "/v1/instances?owner=Li%20Wei", "pa-ar-token", undefined, 400, "a malformed owner filter");
await act(l1, "pa-admin-token", { action: "assign_owner", owner: "lin" }, 200, "assign_owner");
await act(l1, "pa-ar-token", { action: "assign_owner", owner: "li" }, 403, "assign_owner by an ar");
await act(l1, "pa-admin-token", { action: "assign_owner", owner: "zhou" }, 400, "an owner who is no person");
await act(id, "pa-admin-token", { action: "assign_owner", owner: "li" }, 409, "assign_owner after stage lead");
await act(l3, "pa-admin-token", { action: "review", decision: "nurture", next_review: day(5), owner: "li" }, 200, "a single review with a review date and an owner");
await act(l3, "pa-admin-token", { action: "review", decision: "nurture", meeting: 1 }, 400, "a single review citing a meeting");

// The review queue and the meeting, all or nothing.
await call("GET", "/v1/reviews/queue?unit=office/province-a", "pa-ar-token", undefined, 200, "the office's review queue");
await call("GET", `/v1/reviews/queue?unit=region/south&as_of=${day(6)}`, "south-admin-token", undefined, 200, "the region's queue in six days");
await call("GET", "/v1/reviews/queue", "hq-viewer-token", undefined, 200, "the principal's own unit");
await call("GET", "/v1/reviews/queue?as_of=2026-02-30", "pa-ar-token", undefined, 400, "a date that does not exist");
await call("GET", "/v1/reviews/queue?unit=office/city-c", "pa-ar-token", undefined, 403, "another office's queue");
const MEETING = { unit: "office/province-a", held_at: day(0) };
await call("POST", "/v1/reviews", "pa-reviewer-token", { ...MEETING, decisions: [
    { instance: l1, decision: "convert" },
    { instance: l2, decision: "nurture", owner: "nobody" },
    { instance: id, decision: "close" },
    { instance: l1, decision: "close" },
    { instance: l2, decision: "drop" },
] }, 422, "a meeting with bad items: 422 items_refused");
await call("POST", "/v1/reviews", "pa-reviewer-token", { ...MEETING, decisions: [] }, 400, "a meeting without decisions");
await call("POST", "/v1/reviews", "pa-ar-token", { ...MEETING, decisions: [{ instance: l1, decision: "convert" }] }, 403, "an ar holds no meeting");
const meeting = await call("POST", "/v1/reviews", "pa-reviewer-token", { ...MEETING, decisions: [
    { instance: l1, decision: "convert", note: "budget confirmed" },
    { instance: l2, decision: "nurture", next_review: day(10), owner: "li" },
] }, 201, "a review meeting");
const mid = meeting ? meeting.id : 1;
await call("GET", `/v1/reviews/${mid}`, "pa-ar-token", undefined, 200, "the stored meeting");
await call("GET", `/v1/reviews/${mid}`, "cc-admin-token", undefined, 404, "a meeting out of scope");
await call("GET", "/v1/reviews/abc", "pa-ar-token", undefined, 400, "a malformed meeting id");
await call("GET", `/v1/instances/${l1}/events`, "pa-ar-token", undefined, 200, "events citing the meeting, with the person");

// Front-line activity and the weekly scorecards.
const VISIT = { person: "li", customer: "acme", kind: "visit", at: "2026-11-30" };
await call("POST", "/v1/activities", "pa-ar-token", { ...VISIT, instance: l1, note: "workshop planned" }, 201, "a visit");
await call("POST", "/v1/activities", "pa-ar-token", { ...VISIT, kind: "budget_table", budget: { year: 2027, amount: 500000000 } }, 201, "a budget table");
await call("POST", "/v1/activities", "pa-ar-token", { ...VISIT, budget: { year: 2027, amount: 1 } }, 400, "a budget on a visit");
await call("POST", "/v1/activities", "pa-ar-token", { ...VISIT, customer: "nobody" }, 400, "an unknown customer");
await call("POST", "/v1/activities", "hq-viewer-token", VISIT, 403, "a viewer records nothing");
await call("GET", "/v1/activities?person=li&from=2026-11-01&to=2026-12-31", "pa-ar-token", undefined, 200, "a person's activities");
await call("GET", "/v1/activities?limit=1&customer=acme&office=province-a", "south-admin-token", undefined, 200, "a page of an office's activities");
await call("GET", "/v1/activities?from=2026-13-01", "pa-ar-token", undefined, 400, "a month that does not exist");
await call("GET", "/v1/activities?office=city-c", "pa-ar-token", undefined, 403, "another office's activities");
await call("GET", "/v1/scorecards?unit=office/province-a&week=2026-W49", "pa-ar-token", undefined, 200, "the office's scorecards");
await call("GET", "/v1/scorecards?unit=region/south&week=2026-W53", "south-admin-token", undefined, 200, "a week across the year end");
await call("GET", "/v1/scorecards?week=2026-W54", "hq-admin-token", undefined, 400, "a week that does not exist");
await call("GET", "/v1/scorecards?unit=office/province-a", "pa-ar-token", undefined, 400, "no week");
await call("GET", "/v1/scorecards?unit=office/city-c&week=2026-W49", "pa-ar-token", undefined, 403, "another office's scorecards");

// Acquire-and-share and targets.
const run = await call("POST", "/v1/shares/runs", "hq-admin-token", { period: "2026", pool: 100000 }, 201, "share run");
await call("GET", `/v1/shares/runs/${run ? run.id : 1}`, "hq-admin-token", undefined, 200, "share run read");
await call("POST", "/v1/shares/runs", "hq-admin-token", { period: "2026", pool: 1, poll: 2 }, 400, "an unknown key");
await call("PUT", "/v1/targets/hq/2026", "hq-admin-token", { metric: "cash", amount: 100000000 }, 200, "HQ target");
await call("PUT", "/v1/targets/region/south/2026", "hq-admin-token", { metric: "cash", amount: 50000000 }, 200, "region target");
await call("PUT", "/v1/targets/office/province-a/2026", "south-admin-token", { metric: "cash", amount: 20000000 }, 200, "office target");
await call("PUT", "/v1/targets/customer/acme/2026", "pa-admin-token", { metric: "cash", amount: 5000000 }, 200, "customer target");
await call("PUT", "/v1/targets/customer/nobody/2026", "pa-admin-token", { metric: "cash", amount: 5000000 }, 404, "an unregistered customer's target");
await call("GET", "/v1/targets?period=2026&metric=cash", "hq-admin-token", undefined, 200, "target tree");

// Strategy to numbers: the pipeline, the process metrics, a migration dry run.
await call("GET", "/v1/pipeline?period=2026", "hq-admin-token", undefined, 200, "pipeline");
await call("GET", "/v1/pipeline?period=2026&unit=office/province-a", "south-admin-token", undefined, 200, "an office's pipeline");
await call("GET", "/v1/pipeline?period=26", "hq-admin-token", undefined, 400, "a bad period");
await call("GET", "/v1/process-metrics?period=2026", "hq-admin-token", undefined, 200, "process metrics");
await call("POST", "/v1/instances/migrate", "hq-admin-token", { to_hq: 1, dry_run: true }, 200, "a migration dry run");
await call("POST", "/v1/instances/migrate", "hq-admin-token", { to_hq: 1 }, 400, "a migration without dry_run");

// Every operation of the document was taken.
const all = [];
for (const [t, item] of Object.entries(doc.paths))
    for (const m of Object.keys(item)) all.push(`${m} ${t}`);
const left = all.filter((k) => !taken.has(k));
left.length === 0 ? ok(`every operation of the document (${all.length}) answered and was checked`)
    : notOk("every operation of the document answered and was checked", `not taken: ${left.join(", ")}`);

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
