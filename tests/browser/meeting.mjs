// tests/browser/meeting.mjs: the pages of the weekly lead review and of the
// front line's scorecard, in headless Chromium against the daemon run.sh
// started. It seeds, through the API, people, customers and leads of office
// province-b and a week of activities; then a region reviewer runs the
// meeting from the page: the queue with each lead's evaluation and the three
// questions is the API's; one meeting is refused (a review date not after
// the meeting, a nurturer deactivated meanwhile): every refused decision is
// shown beside its lead and nothing is recorded; the corrected meeting is
// recorded, and the API agrees (the queue after, on and before the nurture
// date, the events citing the meeting, the meeting's record, which the page
// links to). The scorecard page's figures are GET /v1/scorecards'. Every
// view fits at 1280 and 400 px; screenshots go to $OUT. Prints TAP and
// "N passed, N failed".
import { chromium } from 'playwright-core';

const URL = process.env.LTC_URL, OUT = process.env.OUT || '.';
const OFFICE = 'province-b', UNIT = 'office/province-b';
let passed = 0, failed = 0, n = 0;
function check(name, cond, detail = '') {
  n++;
  if (cond) { passed++; console.log(`ok ${n} - ${name}`); }
  else { failed++; console.log(`not ok ${n} - ${name}`); if (detail) console.log(`# ${detail}`); }
}
async function call(method, path, body, token = 'hq-admin-token') {
  const res = await fetch(URL + path, {
    method, headers: { Authorization: 'Bearer ' + token }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  return { status: res.status, data };
}
async function api(path, token) { return (await call('GET', path, undefined, token)).data; }
async function seed(method, path, body, want) {
  const r = await call(method, path, body);
  if (![want].flat().includes(r.status)) throw new Error(`seeding ${method} ${path}: ${r.status} ${JSON.stringify(r.data)}`);
  return r.data;
}
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const attrs = (page, sel, name) => page.$$eval(sel, (els, a) => els.map((e) => e.getAttribute(a)), name);
const day = (n) => new Date(Date.now() + n * 86400000).toISOString().slice(0, 10);
function isoWeek(date) { // the ISO week of a UTC date: its Thursday's
  const d = new Date(date + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + 3 - (d.getUTCDay() + 6) % 7);
  const jan1 = new Date(Date.UTC(d.getUTCFullYear(), 0, 1));
  return `${d.getUTCFullYear()}-W${String(1 + Math.floor((d - jan1) / 604800000)).padStart(2, '0')}`;
}
const TODAY = day(0);

// --- seeding, through the API ------------------------------------------------------
const people = [['pb-lin', 'Lin', ['ar']], ['pb-ma', 'Ma', ['ar']], ['pb-qian', 'Qian', ['sr', 'lead_manager']]];
for (const [id, name, roles] of people) await seed('PUT', `/v1/people/${id}`, { name, office: OFFICE, roles, active: true }, 201);
for (const [id, name] of [['pb-grid', 'Province B Grid'], ['pb-rail', 'Province B Rail']])
  await seed('PUT', `/v1/customers/${id}`, { name, office: OFFICE, segment: 'utility', credit_limit: 500000000 }, 201);
const lead = (title, customer, budget, horizon, signals) => seed('POST', '/v1/leads', {
  office: OFFICE, customer, title, source: 'sales', budget: { amount: budget[1], currency: 'CNY', status: budget[0] },
  horizon_months: horizon, signals }, 201);
const L = {
  convert: await lead('Grid core refresh', 'pb-grid', ['approved', 300000000], 6,
    { strategic_fit: 5, urgency: 5, procurement_path: 4, relationship: 5, coach: 4, solution_maturity: 5, differentiation: 4, team_availability: 4 }),
  nurture: await lead('Rail signalling study', 'pb-rail', ['planned', 80000000], 18, { strategic_fit: 3, urgency: 2, relationship: 2 }),
  close: await lead('Unrelated catering', 'pb-rail', ['none', 0], 30, { strategic_fit: 1, risk: 5 }),
  later: await lead('Grid metering', 'pb-grid', ['none', 0], 12, { strategic_fit: 3, urgency: 3, coach: 2 }),
};
const ids = Object.fromEntries(Object.entries(L).map(([k, v]) => [k, v.id]));
const NURTURER = L.nurture.owner === 'pb-ma' ? 'pb-lin' : 'pb-ma';   // a change of owner

// A week of front-line work, the week before this one: Lin 6 visits, Ma 5;
// next year's budget table of Province B Grid, none of Province B Rail.
const WEEK_MONDAY = (() => { const d = new Date(TODAY + 'T00:00:00Z'); d.setUTCDate(d.getUTCDate() - (d.getUTCDay() + 6) % 7 - 7); return d.toISOString().slice(0, 10); })();
const weekDay = (i) => { const d = new Date(WEEK_MONDAY + 'T00:00:00Z'); d.setUTCDate(d.getUTCDate() + i); return d.toISOString().slice(0, 10); };
const WEEK = isoWeek(WEEK_MONDAY), WEEK_YEAR = Number(WEEK.slice(0, 4));
for (let i = 0; i < 6; i++) await seed('POST', '/v1/activities', { person: 'pb-lin', customer: i % 2 ? 'pb-grid' : 'pb-rail', kind: 'visit', at: weekDay(i % 7) }, 201);
for (let i = 0; i < 5; i++) await seed('POST', '/v1/activities', { person: 'pb-ma', customer: 'pb-grid', kind: 'visit', at: weekDay(i) }, 201);
await seed('POST', '/v1/activities', { person: 'pb-ma', customer: 'pb-grid', kind: 'call', at: weekDay(5) }, 201);
await seed('POST', '/v1/activities', { person: 'pb-lin', customer: 'pb-grid', kind: 'budget_table', at: weekDay(2),
  budget: { year: WEEK_YEAR + 1, amount: 1200000000 } }, 201);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
async function connect(page, token) {
  await page.fill('#token', token);
  await page.click('#connect');
  await page.waitForSelector('body[data-loaded="yes"]', { timeout: 10000 });
}
async function go(page, hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForFunction(() => document.body.dataset.loaded === 'yes');
}
async function fits(page) { // nothing wider than the window, no card scrolling sideways
  return page.evaluate(() => {
    const w = window.innerWidth, bad = [];
    if (document.documentElement.scrollWidth > w) bad.push(`page ${document.documentElement.scrollWidth}px`);
    for (const c of document.querySelectorAll('main:not([hidden]) .card:not([hidden])'))
      if (c.scrollWidth > c.clientWidth + 1) bad.push(`${c.id} ${c.scrollWidth}/${c.clientWidth}`);
    for (const e of document.querySelectorAll('main:not([hidden]) td, main:not([hidden]) button, main:not([hidden]) input, main:not([hidden]) select, header *')) {
      const r = e.getBoundingClientRect();
      if (r.width && r.right > w + 1) bad.push(`${e.tagName} ${e.id || e.textContent.slice(0, 20)} ends at ${r.right}`);
    }
    return bad;
  });
}
const eventsOf = async (id) => (await api(`/v1/instances/${id}/events`)).events;
const queueIds = async (asOf) => (await api(`/v1/reviews/queue?unit=${UNIT}&as_of=${asOf}`)).leads.map((l) => l.instance);
const row = (id) => `#queue tr[data-lead="${id}"]`;

try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const external = [];
  page.on('request', (r) => { if (!r.url().startsWith(URL)) external.push(r.url()); });
  await page.goto(URL + '/');
  await connect(page, 'south-reviewer-token');

  // --- the queue --------------------------------------------------------------------
  await page.click('a[data-nav="meeting"]');
  await page.waitForFunction(() => location.hash.startsWith('#/meeting') && document.body.dataset.loaded === 'yes');
  const unitChoices = await page.$$eval('#m-unit option', (os) => os.map((o) => o.value));
  check('the unit choice is the reviewer\'s region and its offices', same(unitChoices, ['region/south', 'office/province-a', 'office/province-b']), unitChoices.join());
  check('a region reviewer\'s meeting defaults to its first office', await page.inputValue('#m-unit') === 'office/province-a');
  await page.selectOption('#m-unit', UNIT);
  await page.fill('#m-date', TODAY);
  await page.click('#m-show');
  await page.waitForFunction((u) => document.querySelector('#meeting-card').dataset.queue === `${u}@${new Date().toISOString().slice(0, 10)}` &&
    document.body.dataset.loaded === 'yes', UNIT);
  check('the unit and the date go into the address', (await page.evaluate(() => location.hash)) === `#/meeting?unit=${encodeURIComponent(UNIT)}&date=${TODAY}`);
  const before = await api(`/v1/reviews/queue?unit=${UNIT}&as_of=${TODAY}`, 'south-reviewer-token');
  const shown = (await attrs(page, '#queue tbody tr[data-lead]', 'data-lead')).map(Number);
  check(`the page lists the API's queue of ${before.leads.length} leads in priority order`,
        before.leads.length >= 4 && same(shown, before.leads.map((l) => l.instance)), shown.join());
  check('the seeded leads are waiting', Object.values(ids).every((id) => shown.includes(id)));
  const cells = await page.$$eval('#queue tbody tr[data-lead]', (trs) => trs.map((t) => {
    const ev = t.querySelector('[data-score]');
    return { instance: Number(t.dataset.lead), owner: t.querySelector('[data-owner]').dataset.owner || null,
      age: Number(t.querySelector('[data-age]').dataset.age), stale: !!t.querySelector('[data-stale]'),
      score: Number(ev.dataset.score), temperature: ev.dataset.temperature, maturity: ev.dataset.maturity,
      recommendation: t.querySelector('[data-recommendation]').dataset.recommendation,
      reasons: [...t.querySelectorAll('ul.reasons li')].map((li) => li.textContent),
      verdicts: [...t.querySelectorAll('[data-question]')].map((q) => q.dataset.verdict) };
  }));
  const want = before.leads.map((l) => ({ instance: l.instance, owner: l.owner, age: l.age_days, stale: l.stale,
    score: l.evaluation.score, temperature: l.evaluation.temperature, maturity: l.evaluation.maturity,
    recommendation: l.evaluation.recommendation, reasons: l.evaluation.reasons,
    verdicts: [l.evaluation.recommendation === 'close' ? 'no' : 'yes', l.evaluation.maturity, l.evaluation.temperature] }));
  check('each lead with its evaluation (score, temperature, maturity, recommendation, reasons), owner, age and stale',
        same(cells, want), JSON.stringify(cells.find((c, i) => !same(c, want[i]))));
  check('the three questions answered as the evaluation does: a lead, how far, can we win',
        same(cells.find((c) => c.instance === ids.convert).verdicts, ['yes', 'mature', 'hot']) &&
        same(cells.find((c) => c.instance === ids.close).verdicts, ['no', 'early', 'cold']), JSON.stringify(cells.map((c) => c.verdicts)));
  const q2 = await page.textContent(`${row(ids.nurture)} [data-question="2"]`);
  check('"how far is it" names the budget and the horizon against the thresholds',
        q2.includes('budget planned 800,000.00 CNY') && q2.includes('decision in 18 months'), q2);
  const q1 = await page.textContent(`${row(ids.close)} [data-question="1"]`);
  check('"is it a lead" shows the ratings it rests on', q1.includes('strategic_fit 1') && q1.includes('risk 5'), q1);
  check('the owner chosen at creation is shown by name', (await page.textContent(`${row(ids.convert)} [data-owner]`)).includes(`(${L.convert.owner})`) && L.convert.owner !== null);

  // "Take the recommendations" fills every undecided lead with its recommendation.
  await page.click('#m-recommended');
  const filled = await page.$$eval('#queue tbody tr[data-lead]', (trs) => trs.map((t) => t.querySelector('[data-decision]').value));
  check('"take the recommendations" chooses each lead\'s recommendation', same(filled, want.map((w) => w.recommendation)), filled.join());
  for (const id of shown) await page.selectOption(`${row(id)} [data-decision]`, '');
  check('no decision chosen: nothing to record', await page.isDisabled('#m-submit'));

  // --- a refused meeting: every refused decision beside its lead, nothing recorded ------
  await page.selectOption(`${row(ids.convert)} [data-decision]`, 'convert');
  await page.fill(`${row(ids.convert)} [data-note]`, 'budget approved, team ready');
  await page.selectOption(`${row(ids.nurture)} [data-decision]`, 'nurture');
  check('nurture asks for the review date and the nurturer', await page.isVisible(`${row(ids.nurture)} [data-next-review]`) &&
        !(await page.isVisible(`${row(ids.convert)} [data-next-review]`)));
  const mates = await page.$$eval(`${row(ids.nurture)} [data-nurturer] option`, (os) => os.map((o) => o.value));
  check('the nurturer is chosen among the office\'s active people', same([...mates].sort(), ['pb-lin', 'pb-ma', 'pb-qian']), mates.join());
  await page.fill(`${row(ids.nurture)} [data-next-review]`, TODAY);          // not after the meeting: refused
  await page.selectOption(`${row(ids.nurture)} [data-nurturer]`, NURTURER);
  await page.selectOption(`${row(ids.close)} [data-decision]`, 'close');
  await page.fill(`${row(ids.close)} [data-note]`, 'not our business');
  await page.selectOption(`${row(ids.later)} [data-decision]`, 'nurture');
  await page.selectOption(`${row(ids.later)} [data-nurturer]`, 'pb-qian');
  check('the page counts the decisions chosen', (await page.textContent('#m-count')).includes('4 decisions'));
  await seed('PUT', '/v1/people/pb-qian', { name: 'Qian', office: OFFICE, roles: ['sr', 'lead_manager'], active: false }, 200);
  const eventsBefore = await Promise.all(Object.values(ids).map(eventsOf));
  const posts = [];
  page.on('request', (r) => { if (r.method() === 'POST' && r.url().endsWith('/v1/reviews')) posts.push(JSON.parse(r.postData())); });
  await page.click('#m-submit');
  await page.waitForSelector('#m-result.error');
  const refused = await page.$$eval('#queue tr[data-refused]', (trs) => trs.map((t) => [Number(t.dataset.lead),
    t.querySelector('[data-refused-for]').textContent]));
  check('the meeting was sent as one POST /v1/reviews with held_at and the four decisions',
        posts.length === 1 && posts[0].unit === UNIT && posts[0].held_at === TODAY && posts[0].decisions.length === 4 &&
        same(posts[0].decisions.find((d) => d.instance === ids.nurture), { instance: ids.nurture, decision: 'nurture', next_review: TODAY, owner: NURTURER }),
        JSON.stringify(posts));
  check('a refused meeting shows every refused decision next to its lead, and only those',
        same(refused.map((r) => r[0]).sort(), [ids.nurture, ids.later].sort()) && refused.every((r) => r[1].length > 0), JSON.stringify(refused));
  check('... each with the API\'s reason', refused.some((r) => r[0] === ids.nurture && /next_review/.test(r[1])) &&
        refused.some((r) => r[0] === ids.later && /qian/.test(r[1])), JSON.stringify(refused));
  check('... and says nothing was recorded', /2 of 4 decisions refused; nothing was recorded/.test(await page.textContent('#m-result')));
  const eventsAfterRefusal = await Promise.all(Object.values(ids).map(eventsOf));
  check('the API agrees: no event for any lead of the refused meeting', same(eventsAfterRefusal, eventsBefore));
  check('... and the queue is unchanged', same(await queueIds(TODAY), before.leads.map((l) => l.instance)));
  check('the choices stay on the page to be corrected', await page.inputValue(`${row(ids.convert)} [data-decision]`) === 'convert');
  await page.screenshot({ path: `${OUT}/meeting-refused-desktop.png`, fullPage: true });

  // --- the corrected meeting is recorded ------------------------------------------------
  await seed('PUT', '/v1/people/pb-qian', { name: 'Qian', office: OFFICE, roles: ['sr', 'lead_manager'], active: true }, 200);
  const NEXT = day(7);
  await page.fill(`${row(ids.nurture)} [data-next-review]`, NEXT);
  await page.click('#m-submit');
  await page.waitForSelector('#m-result.ok a[data-meeting]');
  const meetingId = Number(await page.getAttribute('#m-result a[data-meeting]', 'data-meeting'));
  check('the recorded meeting links to its record', meetingId > 0 && (await page.getAttribute('#m-result a', 'href')) === `#/reviews/${meetingId}`);
  const rec = await api(`/v1/reviews/${meetingId}`);
  const byId = Object.fromEntries(rec.decisions.map((d) => [d.instance, d]));
  check('the API has the meeting: unit, held_at and the four decisions',
        rec.unit === UNIT && rec.held_at === TODAY && rec.decisions.length === 4 && rec.created_by === 'region/south:reviewer', JSON.stringify(rec));
  check('converted to an opportunity, closed, nurtured with its date and nurturer',
        byId[ids.convert].stage === 'opportunity' && byId[ids.convert].note === 'budget approved, team ready' &&
        byId[ids.close].stage === 'closed' && byId[ids.nurture].next_review === NEXT && byId[ids.nurture].owner === NURTURER &&
        byId[ids.later].owner === 'pb-qian' && byId[ids.later].next_review > TODAY, JSON.stringify(byId));
  let cited = true;
  for (const [k, id] of Object.entries(ids)) {
    const evs = await eventsOf(id), last = evs[evs.length - 1];
    cited &&= evs.length === eventsBefore[Object.keys(ids).indexOf(k)].length + 1 && last.action === 'review' &&
      last.payload.meeting === meetingId && last.payload.decision === byId[id].decision && last.actor === 'region/south:reviewer';
  }
  check('one review event per lead, citing the meeting', cited);
  const after = await queueIds(TODAY);
  check('the queue after: the four decided leads are gone, the others still wait',
        same(after, before.leads.map((l) => l.instance).filter((i) => !Object.values(ids).includes(i))), after.join());
  check('the page shows that queue', same((await attrs(page, '#queue tbody tr[data-lead]', 'data-lead')).map(Number), after));
  check('the nurtured lead is back on its next_review and not the day before',
        (await queueIds(NEXT)).includes(ids.nurture) && !(await queueIds(day(6))).includes(ids.nurture));
  { const bad = await fits(page); check('desktop: the meeting fits its card', bad.length === 0, bad.join('; ')); }
  await page.screenshot({ path: `${OUT}/meeting-desktop.png`, fullPage: true });

  // --- the meeting's record --------------------------------------------------------------
  await page.click('#m-result a[data-meeting]');
  await page.waitForFunction((m) => document.querySelector('#record').dataset.meeting === String(m) && document.body.dataset.loaded === 'yes', meetingId);
  const recRows = await page.$$eval('#record-decisions tbody tr', (trs) => trs.map((t) => [Number(t.dataset.instance),
    t.querySelector('[data-decision]').dataset.decision, t.querySelector('[data-stage]').dataset.stage,
    t.querySelector('[data-owner]').dataset.owner || null, t.querySelector('[data-next-review]').dataset.nextReview || null]));
  check('the record page shows GET /v1/reviews/ID', same(recRows, rec.decisions.map((d) => [d.instance, d.decision, d.stage, d.owner, d.next_review])), JSON.stringify(recRows));
  check('... held on its date, recorded by the reviewer', (await page.textContent('#record-head [data-fact="held_at"]')) === TODAY &&
        (await page.textContent('#record-head [data-fact="created_by"]')).startsWith('region/south:reviewer'));
  await page.screenshot({ path: `${OUT}/record-desktop.png`, fullPage: true });
  await go(page, `#/instances/${ids.convert}`);
  check('the lead\'s timeline links its review to the meeting',
        await page.locator(`#detail-timeline a[data-meeting="${meetingId}"]`).count() === 1);
  await go(page, `#/reviews/${meetingId}`);

  // --- a role that may not record meetings sees the queue only -----------------------------
  await connect(page, 'pb-ar-token');
  await go(page, `#/meeting?unit=${encodeURIComponent(UNIT)}&date=${TODAY}`);
  check('an account manager sees the queue but cannot record a meeting',
        same((await attrs(page, '#queue tbody tr[data-lead]', 'data-lead')).map(Number), after) &&
        await page.isDisabled('#m-submit') && (await page.textContent('#m-count')).includes('admins and reviewers'));

  // --- the scorecard of the week -----------------------------------------------------------------
  await connect(page, 'south-reviewer-token');
  await page.click('a[data-nav="scorecard"]');
  await page.waitForFunction(() => location.hash.startsWith('#/scorecard') && document.body.dataset.loaded === 'yes');
  check('the scorecard opens on this week', await page.inputValue('#s-week') === isoWeek(TODAY), await page.inputValue('#s-week'));
  await page.selectOption('#s-unit', UNIT);
  await page.fill('#s-week', WEEK);
  await page.click('#s-show');
  await page.waitForFunction((k) => document.querySelector('#scorecard-card').dataset.scorecard === k && document.body.dataset.loaded === 'yes', `${UNIT}@${WEEK}`);
  const card = await api(`/v1/scorecards?unit=${UNIT}&week=${WEEK}`, 'south-reviewer-token');
  const ppl = await page.$$eval('#s-people tbody tr', (trs) => trs.map((t) => [t.dataset.person,
    Number(t.querySelector('[data-visits]').dataset.visits), Number(t.querySelector('[data-min]').dataset.min),
    t.querySelector('td[data-below]').dataset.below === 'yes', Number(t.querySelector('[data-tables-overdue]').dataset.tablesOverdue),
    Number(t.querySelector('[data-points]').dataset.points)]));
  check(`each person's visits, minimum, below, tables overdue and points lost are the API's (${card.people.length} people)`,
        card.people.length === 3 && same(ppl, card.people.map((p) => [p.person, p.visits, p.visits_min, p.below_min, p.budget_tables_overdue, p.points_lost])), JSON.stringify(ppl));
  const pv = Object.fromEntries(card.people.map((p) => [p.person, p]));
  check('6 visits meet the minimum, 5 do not, a call is no visit',
        pv['pb-lin'].visits === 6 && !pv['pb-lin'].below_min && pv['pb-ma'].visits === 5 && pv['pb-ma'].below_min);
  const below = await attrs(page, '#s-people tr.below', 'data-person');
  check('who is below the visit minimum stands out', same(below, card.people.filter((p) => p.below_min).map((p) => p.person)), below.join());
  const cust = await page.$$eval('#s-customers tbody tr', (trs) => trs.map((t) => [t.dataset.customer,
    Number(t.querySelector('[data-year]').dataset.year), t.querySelector('[data-collected]').dataset.collected === 'yes',
    t.querySelector('[data-previous-overdue]').dataset.previousOverdue === 'yes']));
  check('each customer\'s budget table, collected or missing, as the API says',
        card.customers.length === 2 && same(cust, card.customers.map((c) => [c.customer, c.budget_table.year, c.budget_table.collected, !!(c.previous && c.previous.overdue)])), JSON.stringify(cust));
  check('Province B Grid\'s table for next year is collected, Province B Rail\'s is missing',
        same(await attrs(page, '#s-customers tr.missing', 'data-customer'), ['pb-rail']) &&
        card.customers.find((c) => c.customer === 'pb-grid').budget_table.collected && card.customers[0].budget_table.year === WEEK_YEAR + 1);
  const chips = await page.evaluate(() => ({
    below: Number(document.querySelector('#s-summary [data-below]').dataset.below),
    missing: Number(document.querySelector('#s-summary [data-missing]').dataset.missing),
    points: Number(document.querySelector('#s-summary [data-points]').dataset.points) }));
  check('the summary: people below the minimum, tables missing, points lost',
        same(chips, { below: card.people.filter((p) => p.below_min).length, missing: card.customers.filter((c) => !c.budget_table.collected).length,
                      points: card.people.reduce((a, p) => a + p.points_lost, 0) }) && chips.points > 0, JSON.stringify(chips));
  { const bad = await fits(page); check('desktop: the scorecard fits its card', bad.length === 0, bad.join('; ')); }
  await page.screenshot({ path: `${OUT}/scorecard-desktop.png`, fullPage: true });
  await page.evaluate((u) => { location.hash = `#/scorecard?unit=${encodeURIComponent(u)}&week=2026-W60`; }, UNIT);
  await page.waitForFunction(() => document.body.dataset.loaded === 'error');
  check('a week that does not exist shows the API\'s error', /week/.test(await page.textContent('#status')), await page.textContent('#status'));

  // --- 400 px wide ---------------------------------------------------------------------------------
  await page.setViewportSize({ width: 400, height: 900 });
  await go(page, `#/scorecard?unit=${encodeURIComponent(UNIT)}&week=${WEEK}`);
  let bad = await fits(page);
  check('400 px: the scorecard fits (no sideways scroll, nothing clipped)', bad.length === 0, bad.join('; '));
  check('400 px: its tables become labelled blocks', await page.$eval('#s-people tbody td[data-visits]', (t) => getComputedStyle(t, '::before').content.includes('Visits')));
  await page.screenshot({ path: `${OUT}/scorecard-400.png`, fullPage: true });
  // A queue with leads to decide: as of the nurture date the nurtured lead is back.
  await go(page, `#/meeting?unit=${encodeURIComponent(UNIT)}&date=${NEXT}`);
  await page.selectOption(`${row(ids.nurture)} [data-decision]`, 'nurture');
  bad = await fits(page);
  check('400 px: the meeting fits, a decision open', bad.length === 0, bad.join('; '));
  check('400 px: the three questions are labelled', await page.$eval(`${row(ids.nurture)} td.three`, (t) => getComputedStyle(t, '::before').content.includes('three questions')));
  await page.screenshot({ path: `${OUT}/meeting-400.png`, fullPage: true });
  await go(page, `#/reviews/${meetingId}`);
  bad = await fits(page);
  check('400 px: the meeting record fits', bad.length === 0, bad.join('; '));
  await page.screenshot({ path: `${OUT}/record-400.png`, fullPage: true });
  check('nothing was fetched from outside ltcd', external.length === 0, external.join(' '));
} catch (e) {
  check('the browser session ran to the end', false, e.stack);
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
