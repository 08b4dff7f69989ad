// tests/browser/pipeline.mjs: the pipeline tree and the process metrics
// panels (#/pipeline), in headless Chromium against the daemon run.sh
// started. It seeds, through the API, office city-d of North (which no other
// seed uses): customers with and without an orders target, leads and
// opportunities at several steps with expected close dates and values, a
// signed contract, a rejected bid and an unregistered customer's deal. Every
// node the page shows is compared with GET /v1/pipeline (every figure, as
// shown and as data), and the customers' and the office's coverage and gap
// with figures computed here from what was seeded (HQ's probabilities, the
// documented rounding). North then sets its own probabilities and an
// opportunity's value changes: the page follows after "Show". The process
// metrics are GET /v1/process-metrics', in process order, with a visible
// "computing" state while the job runs and an error state. Both panels fit
// at 1280 and 400 px, are keyboard reachable; screenshots go to $OUT.
// Prints TAP and "N passed, N failed".
import { chromium } from 'playwright-core';

const URL = process.env.LTC_URL, OUT = process.env.OUT || '.';
const OFFICE = 'city-d', UNIT = 'office/city-d', TOKEN = 'north-admin-token';
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
async function api(path, token = TOKEN) {
  const r = await call('GET', path, undefined, token);
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${JSON.stringify(r.data)}`);
  return r.data;
}
async function seed(method, path, body, want = 200, token = 'hq-admin-token') {
  const r = await call(method, path, body, token);
  if (![want].flat().includes(r.status)) throw new Error(`seeding ${method} ${path}: ${r.status} ${JSON.stringify(r.data)}`);
  return r.data;
}
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
// The house's money format, written again here: integer fen as 1,200,000.00 CNY.
function money(fen) {
  const neg = fen < 0, a = Math.abs(fen);
  return (neg ? '-' : '') + Math.floor(a / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',') + '.' +
    String(a % 100).padStart(2, '0') + ' CNY';
}
const pct1 = (x) => (x * 100).toFixed(1) + '%';
const Y = new Date().getUTCFullYear(), YEAR = String(Y), MONTH = new Date().toISOString().slice(0, 7);

// --- seeding, through the API --------------------------------------------------------
// What the test expects, from what it seeds: each deal with its customer, its
// step (how far it came: lead, opportunity, ATI, ATB, ATC), a rejected gate,
// its expected close and value; signed contracts are won.
const customers = { 'pd-alpha': 1000000000, 'pd-beta': null, 'pd-gamma': 100000000 };
for (const id of Object.keys(customers))
  await seed('PUT', `/v1/customers/${id}`, { name: `City D ${id.slice(3)}`, office: OFFICE, segment: 'utility', credit_limit: 100000000000 }, 201);
for (const [id, amount] of Object.entries(customers))
  if (amount != null) await seed('PUT', `/v1/targets/customer/${id}/${YEAR}`, { metric: 'orders', amount });
await seed('PUT', `/v1/targets/office/${OFFICE}/${YEAR}`, { metric: 'orders', amount: 2000000000 });
const lead = async (customer, title) => (await seed('POST', '/v1/leads', {
  office: OFFICE, customer, title, source: 'sales', budget: { amount: 60000000, currency: 'CNY', status: 'approved' },
  horizon_months: 6, signals: { strategic_fit: 4, urgency: 5, relationship: 4, coach: 3, solution_maturity: 4 } }, 201)).id;
const act = (id, body) => seed('POST', `/v1/instances/${id}/actions`, body);
async function gates(id, kdps, value, outcome = 'approve') {
  for (const kdp of kdps) await act(id, { action: 'decide', kdp, outcome, value, discount: 5, margin: 25 });
}
const deals = [];
async function deal(customer, title, { step, value, close, rejected = false, signed = false }) {
  const id = await lead(customer, title);
  if (step !== 'lead') await act(id, { action: 'review', decision: 'convert' });
  const passedGates = ['ATI', 'ATB', 'ATC'].slice(0, Math.max(0, ['opportunity', 'ATI', 'ATB', 'ATC'].indexOf(step)));
  if (passedGates.length) { await act(id, { action: 'assign', ar: 'Li', sr: 'Sun', fr: 'Qian' }); await gates(id, passedGates, value); }
  if (rejected) await gates(id, ['ATI'], value, 'reject');
  if (signed) await act(id, { action: 'sign', value, net_days: 30, terms: [{ milestone: 'delivery', percent: 100 }] });
  else await act(id, { action: 'update', expected_close: close, value });
  const d = { id, customer, step, value, close, rejected, signed };
  deals.push(d);
  return d;
}
await deal('pd-alpha', 'Substation automation', { step: 'ATC', value: 300000000, signed: true });
await deal('pd-alpha', 'Grid analytics bid', { step: 'ATB', value: 400000000, close: `${YEAR}-12-20` });
await deal('pd-alpha', 'Metering lead', { step: 'lead', value: 200000000, close: `${YEAR}-12-28` });
const beta = await deal('pd-beta', 'Control room', { step: 'opportunity', value: 333333335, close: `${YEAR}-12-15` });
await deal('pd-gamma', 'SCADA upgrade', { step: 'ATC', value: 150000000, close: `${YEAR}-12-18` });
await deal('Walk-in Depot', 'Depot lighting', { step: 'opportunity', value: 50000000, close: `${YEAR}-12-10`, rejected: true });
await deal('pd-beta', 'Next year\'s extension', { step: 'opportunity', value: 900000000, close: `${Y + 1}-02-01` });

// The figures of a node, computed from the deals: HQ's probabilities per step
// overlaid by the region's, a rejected gate 0, the category from the
// probability, each weighted value rounded half up in integers.
const CATEGORIES = ['commit', 'best_case', 'pipeline', 'omitted'];
const HQ_STAGES = { lead: 5, opportunity: 10, ATI: 25, ATB: 50, ATC: 80 };
function expected(unitOf, unit, target, stages) {
  const f = { won: 0, open: 0, weighted: 0, cats: {} };
  for (const d of deals) {
    if (unitOf(d) !== unit) continue;
    if (d.signed) { f.won += d.value; continue; }
    if (!d.close.startsWith(YEAR)) continue;
    const p = d.rejected ? 0 : stages[d.step];
    const w = Math.floor((d.value * p + 50) / 100);
    const cat = p === 0 ? 'omitted' : p >= 80 ? 'commit' : p >= 50 ? 'best_case' : 'pipeline';
    f.open += d.value; f.weighted += w;
    const c = f.cats[cat] ||= { count: 0, value: 0, weighted: 0 };
    c.count++; c.value += d.value; c.weighted += w;
  }
  f.coverage = target == null ? null : (f.won + f.weighted) / target;
  f.gap = target == null ? null : target - f.won - f.weighted;
  return f;
}
const byCustomer = (d) => customers[d.customer] !== undefined ? `customer/${d.customer}` : `office/${OFFICE}/unregistered`;

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
// "Show" pressed: the tree is read again (the marker goes until it is back).
async function show(page) {
  await page.evaluate(() => { delete document.querySelector('#pipeline-card').dataset.pipeline; });
  await page.click('#p-show');
}
async function shown(page, unit, period) { // the tree of unit and period is on the page
  await page.waitForFunction((k) => document.querySelector('#pipeline-card').dataset.pipeline === k &&
    document.body.dataset.loaded === 'yes', `${unit}@${period}`);
}
async function metricsDone(page, unit, period) {
  await page.waitForFunction((k) => { const c = document.querySelector('#metrics-card');
    return c.dataset.metrics === k && (c.dataset.state === 'done' || c.dataset.state === 'error'); }, `${unit}@${period}`, { timeout: 20000 });
  return page.getAttribute('#metrics-card', 'data-state');
}
async function fits(page) { // nothing wider than the window, no card scrolling sideways
  return page.evaluate(() => {
    const w = window.innerWidth, bad = [];
    if (document.documentElement.scrollWidth > w) bad.push(`page ${document.documentElement.scrollWidth}px`);
    for (const c of document.querySelectorAll('main:not([hidden]) .card:not([hidden])'))
      if (c.scrollWidth > c.clientWidth + 1) bad.push(`${c.id} ${c.scrollWidth}/${c.clientWidth}`);
    for (const e of document.querySelectorAll('main:not([hidden]) td, main:not([hidden]) td *, main:not([hidden]) button, main:not([hidden]) input, main:not([hidden]) select, header *')) {
      const r = e.getBoundingClientRect();
      if (r.width && r.right > w + 1) bad.push(`${e.tagName} ${e.id || e.textContent.slice(0, 20)} ends at ${r.right}`);
      if (e.tagName === 'TD' && e.scrollWidth > e.clientWidth + 1) bad.push(`cell ${e.dataset.label} of ${e.parentElement.dataset.unit || e.parentElement.dataset.metric} clipped`);
    }
    return bad;
  });
}
// Every row of the page's tree: its data and the text of each cell.
const pageTree = (page) => page.$$eval('#pipeline tbody tr[data-unit]', (trs) => trs.map((t) => {
  const q = (s) => t.querySelector(s);
  const catsRow = t.nextElementSibling?.dataset.catsOf === t.dataset.unit ? t.nextElementSibling : null;
  return { unit: t.dataset.unit, level: t.dataset.level, parent: t.dataset.parent || null,
    hidden: t.hidden, catsAgree: !catsRow || catsRow.hidden === t.hidden,
    target: q('[data-target]').dataset.target, targetText: q('[data-target]').textContent,
    won: q('[data-won]').dataset.won, wonText: q('[data-won]').textContent,
    open: q('[data-open]').dataset.open, openText: q('[data-open]').textContent,
    weighted: q('[data-weighted]').dataset.weighted, weightedText: q('[data-weighted]').textContent,
    coverage: q('[data-coverage]').dataset.coverage, pctText: q('.pct') ? q('.pct').textContent : null,
    noTarget: !!q('[data-no-target]'), bar: !!q('.bar'),
    barWidths: [...t.querySelectorAll('.bar span')].map((s) => parseFloat(s.style.width)),
    gap: q('[data-gap]').dataset.gap, gapText: q('[data-gap]').textContent,
    cats: Object.fromEntries([...(t.nextElementSibling?.dataset.catsOf === t.dataset.unit
      ? t.nextElementSibling.querySelectorAll('[data-category]') : [])].map((li) => [li.dataset.category,
      { count: Number(li.dataset.count), value: Number(li.dataset.value), weighted: Number(li.dataset.weighted), text: li.textContent }])) };
}));
function flatten(node, parent = null, out = []) {
  out.push({ ...node, parent });
  for (const c of node.children || []) flatten(c, node.unit, out);
  return out;
}
const catText = (k, c) => `${k.replace('_', ' ')} ${c.count}: ${money(c.value)}, weighted ${money(c.weighted)}`;
// Compares every row with the API's node; returns the differences.
function treeDiff(rows, api, measure = 'coverage') {
  const nodes = flatten(api), bad = [];
  if (!same(rows.map((r) => r.unit), nodes.map((x) => x.unit))) return [`units ${rows.map((r) => r.unit)} vs ${nodes.map((x) => x.unit)}`];
  nodes.forEach((x, i) => {
    const r = rows[i], part = { coverage: x.won + x.weighted, won: x.won, open: x.won + x.open }[measure];
    const want = {
      level: x.level, parent: x.parent, target: x.target == null ? '' : String(x.target),
      targetText: x.target == null ? 'no target' : money(x.target),
      won: String(x.won), wonText: money(x.won), open: String(x.open), openText: money(x.open),
      weighted: String(x.weighted), weightedText: money(x.weighted),
      coverage: x.coverage == null ? '' : String(x.coverage),
      pctText: x.target ? pct1(part / x.target) : null, noTarget: !x.target, bar: !!x.target,
      gap: x.gap == null ? '' : String(x.gap), gapText: x.gap == null ? '-' : money(x.gap),
      cats: Object.fromEntries(Object.entries(x.by_category).filter(([, c]) => c.count).map(([k, c]) => [k, { ...c, text: catText(k, c) }])),
    };
    for (const k of Object.keys(want)) if (!same(r[k], want[k])) bad.push(`${x.unit} ${k}: page ${JSON.stringify(r[k])}, API ${JSON.stringify(want[k])}`);
    if (measure === 'coverage' && x.coverage != null && Math.abs(part / x.target - x.coverage) > 1e-9) bad.push(`${x.unit}: coverage is not (won + weighted) / target`);
  });
  return bad;
}
// The seeded units against the figures computed here.
function seededDiff(api, stages) {
  const nodes = Object.fromEntries(flatten(api).map((x) => [x.unit, x])), bad = [];
  const units = [...Object.keys(customers).map((c) => [`customer/${c}`, customers[c], byCustomer]),
    [`office/${OFFICE}/unregistered`, null, byCustomer], [UNIT, 2000000000, () => UNIT]];
  for (const [unit, target, unitOf] of units) {
    const e = expected(unitOf, unit, target, stages), x = nodes[unit];
    if (!x) { bad.push(`${unit} missing`); continue; }
    const cats = Object.fromEntries(CATEGORIES.filter((k) => x.by_category[k].count).map((k) => [k, x.by_category[k]]));
    e.cats = Object.fromEntries(CATEGORIES.filter((k) => e.cats[k]).map((k) => [k, e.cats[k]]));
    if (x.won !== e.won || x.open !== e.open || x.weighted !== e.weighted || x.gap !== e.gap || !same(cats, e.cats) ||
        (e.coverage == null ? x.coverage !== null : Math.abs(x.coverage - e.coverage) > 1e-9))
      bad.push(`${unit}: API ${JSON.stringify(x)} computed ${JSON.stringify(e)}`);
  }
  return bad;
}
// The page's figures of the seeded customers against the computation here.
function shownDiff(rows, stages) {
  const bad = [];
  for (const [c, target] of Object.entries(customers)) {
    const e = expected(byCustomer, `customer/${c}`, target, stages), r = rows.find((x) => x.unit === `customer/${c}`);
    const want = target == null ? { pctText: null, gapText: '-', noTarget: true, weightedText: money(e.weighted) }
      : { pctText: pct1(e.coverage), gapText: money(e.gap), noTarget: false, weightedText: money(e.weighted) };
    for (const k of Object.keys(want)) if (!r || r[k] !== want[k]) bad.push(`customer/${c} ${k}: page ${r && r[k]}, computed ${want[k]}`);
  }
  return bad;
}

// The metrics in the page's rows against the API's answer, in process order.
const ORDER = ['leads_by_source', 'conversion.lead_to_opportunity', 'median_days.lead', 'conversion.opportunity_to_contract',
  'median_days.opportunity', 'conversion.contract_to_won', 'median_days.contract', 'win_rate', 'median_cycle_days', 'dso', 'overdue_ratio'];
const get = (m, key) => key.split('.').reduce((o, k) => o[k], m);
const pageMetrics = (page) => page.$$eval('#pmetrics tbody tr[data-metric]', (trs) => trs.map((t) => {
  const v = t.querySelector('[data-value]'), c = t.querySelector('td.counts');
  return { key: t.dataset.metric, step: t.dataset.step, value: v.dataset.value, text: v.textContent, from: c.textContent,
    counts: Object.fromEntries(Object.entries(c.dataset).filter(([k]) => k.startsWith('n')).map(([k, x]) => [k, x])) };
}));
function metricsDiff(rows, m) {
  const bad = [];
  if (!same(rows.map((r) => r.key), ORDER)) return [`order ${rows.map((r) => r.key)}`];
  const camel = (k) => 'n' + k.split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join('');
  for (const r of rows) {
    const x = get(m, r.key);
    const raw = r.key === 'leads_by_source' ? x.total : r.key === 'overdue_ratio' ? x.ratio : 'rate' in x ? x.rate : x.days;
    const text = r.key === 'leads_by_source' ? String(x.total)
      : 'rate' in x ? (x.rate == null ? 'nothing decided' : pct1(x.rate))
      : r.key === 'overdue_ratio' ? (x.ratio == null ? 'nothing outstanding' : pct1(x.ratio))
      : x.days == null ? 'none' : `${x.days} day${x.days === 1 ? '' : 's'}`;
    const counts = r.key === 'leads_by_source' ? Object.fromEntries(Object.entries(x).filter(([k]) => k !== 'total'))
      : Object.fromEntries(Object.entries(x).filter(([k]) => !['rate', 'days', 'ratio'].includes(k)));
    const wantCounts = Object.fromEntries(Object.entries(counts).map(([k, v]) => [camel(k), String(v)]));
    if (r.value !== (raw == null ? '' : String(raw))) bad.push(`${r.key} value ${r.value} vs ${raw}`);
    if (r.text !== text) bad.push(`${r.key} text ${r.text} vs ${text}`);
    if (!same(r.counts, wantCounts)) bad.push(`${r.key} counts ${JSON.stringify(r.counts)} vs ${JSON.stringify(wantCounts)}`);
    for (const [k, v] of Object.entries(counts))    // each count, money as the house shows it, is in the text
      if (!r.from.includes(['paid', 'overdue', 'outstanding'].includes(k) ? money(v) : String(v))) bad.push(`${r.key} text lacks ${k} ${v}: ${r.from}`);
  }
  return bad;
}

try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const external = [];
  page.on('request', (r) => { if (!r.url().startsWith(URL)) external.push(r.url()); });
  await page.goto(URL + '/');
  await connect(page, TOKEN);

  // --- the pipeline of the viewer's scope ----------------------------------------------
  await page.click('a[data-nav="pipeline"]');
  await shown(page, 'region/north', YEAR);
  check('the pipeline opens on the viewer\'s unit and this year', await page.inputValue('#p-unit') === 'region/north' &&
        await page.inputValue('#p-period') === YEAR);
  const choices = await page.$$eval('#p-unit option', (os) => os.map((o) => o.value));
  check('the unit choice is the scope\'s region and offices', same(choices, ['region/north', 'office/city-c', 'office/city-d']), choices.join());
  let tree = await api(`/v1/pipeline?period=${YEAR}&unit=region/north`);
  let rows = await pageTree(page);
  let bad = treeDiff(rows, tree);
  check(`every node of the region's tree shows the API's figures (${rows.length} nodes, down to customers)`,
        bad.length === 0 && rows.some((r) => r.level === 'customer') && rows.some((r) => r.level === 'remainder'), bad.join('; '));
  bad = seededDiff(tree, HQ_STAGES);
  check('the API\'s figures of the seeded units are the ones computed from the deals', bad.length === 0, bad.join('; '));
  bad = shownDiff(rows, HQ_STAGES);
  check('the page\'s coverage and gap of each customer are the ones computed here', bad.length === 0, bad.join('; '));
  const alpha = rows.find((r) => r.unit === 'customer/pd-alpha'), betaRow = rows.find((r) => r.unit === 'customer/pd-beta');
  const gamma = rows.find((r) => r.unit === 'customer/pd-gamma');
  check('coverage with a target: a bar and its percentage (51.0%), the gap 4,900,000.00 CNY ...',
        alpha.bar && alpha.pctText === '51.0%' && alpha.gapText === '4,900,000.00 CNY' && same(alpha.barWidths, [30, 21]), JSON.stringify(alpha));
  check('... without a target: no bar, "no target", no gap', !betaRow.bar && betaRow.noTarget && betaRow.gapText === '-' &&
        betaRow.targetText === 'no target', JSON.stringify(betaRow));
  check('covered past the target: the bar full, 120.0%, a negative gap', gamma.pctText === '120.0%' && gamma.gapText === '-200,000.00 CNY' &&
        same(gamma.barWidths, [0, 100]) && !!gamma.cats.commit, JSON.stringify(gamma));
  check('forecast categories with count, value and weighted value, an omitted bid among them',
        rows.find((r) => r.unit === `office/${OFFICE}/unregistered`).cats.omitted?.count === 1 && alpha.cats.best_case?.count === 1 &&
        alpha.cats.pipeline?.text === `pipeline 1: ${money(200000000)}, weighted ${money(10000000)}`, JSON.stringify(alpha.cats));

  // --- expand and collapse, by keyboard ----------------------------------------------------
  check('a region opens on its offices and their customers', rows.filter((r) => r.hidden).length === 0);
  await page.focus(`#pipeline button[data-toggle="${UNIT}"]`);
  await page.keyboard.press('Enter');
  rows = await pageTree(page);
  check('Enter on an office\'s toggle collapses it: its customers are hidden, the other office\'s are not',
        rows.filter((r) => r.parent === UNIT).every((r) => r.hidden) && rows.filter((r) => r.parent === 'office/city-c').every((r) => !r.hidden) &&
        await page.getAttribute(`#pipeline button[data-toggle="${UNIT}"]`, 'aria-expanded') === 'false');
  await page.keyboard.press('Space');
  rows = await pageTree(page);
  check('Space opens it again', rows.every((r) => !r.hidden));
  check('a node\'s categories line is shown and hidden with it', rows.every((r) => r.catsAgree));
  await page.click('#p-collapse');
  rows = await pageTree(page);
  check('"Collapse all" leaves the root and its offices', same(rows.filter((r) => !r.hidden).map((r) => r.unit), ['region/north', 'office/city-c', UNIT]) &&
        rows.every((r) => r.catsAgree));
  await page.focus('#p-expand');
  await page.keyboard.press('Enter');
  check('"Expand all" by keyboard shows every node', (await pageTree(page)).every((r) => !r.hidden));
  await page.focus('#p-collapse');
  const tabbed = [];
  for (let i = 0; i < 3; i++) { await page.keyboard.press('Tab'); tabbed.push(await page.evaluate(() => document.activeElement.dataset.toggle || document.activeElement.id)); }
  check('Tab reaches the tree\'s toggles in order', same(tabbed, ['region/north', 'office/city-c', UNIT]), tabbed.join());

  // --- the bar's measure -------------------------------------------------------------------
  await page.selectOption('#p-measure', 'won');
  await page.waitForFunction(() => document.querySelector('#pipeline-card').dataset.measure === 'won' && document.body.dataset.loaded === 'yes');
  rows = await pageTree(page);
  bad = treeDiff(rows, await api(`/v1/pipeline?period=${YEAR}&unit=region/north`), 'won');
  check('the bar shows the won part alone when chosen: 30.0% for pd-alpha', bad.length === 0 &&
        rows.find((r) => r.unit === 'customer/pd-alpha').pctText === '30.0%', bad.join('; '));
  check('the measure goes into the address', (await page.evaluate(() => location.hash)).includes('measure=won'));
  await page.selectOption('#p-measure', 'coverage');
  await page.waitForFunction(() => document.querySelector('#pipeline-card').dataset.measure === 'coverage' && document.body.dataset.loaded === 'yes');

  // --- the process metrics of the selected unit and period ---------------------------------
  check('the region\'s metrics are computed', await metricsDone(page, 'region/north', YEAR) === 'done');
  let m = await api(`/v1/process-metrics?period=${YEAR}&unit=region/north`);
  bad = metricsDiff(await pageMetrics(page), m);
  check('every process metric of the region is the API\'s, with its counts, in process order', bad.length === 0, bad.join('; '));
  // The office for this month: the seven leads were created today, all of source sales.
  await page.selectOption('#p-unit', UNIT);
  await page.fill('#p-period', MONTH);
  // The job is held back a moment, so the panel's computing state shows.
  let release;
  const held = new Promise((r) => { release = r; });
  await page.route('**/v1/process-metrics?*', async (route) => { await held; await route.continue(); });
  await show(page);
  await shown(page, UNIT, MONTH);
  await page.waitForFunction(() => document.querySelector('#metrics-card').dataset.state === 'computing');
  const computing = await page.textContent('#pm-state');
  check('while the job runs the panel says it is computing', /computing the metrics of office\/city-d/.test(computing) &&
        await page.$$eval('#pmetrics tbody tr', (t) => t.length) === 0, computing);
  await page.screenshot({ path: `${OUT}/pipeline-computing.png` });
  release();
  check('then shows the figures', await metricsDone(page, UNIT, MONTH) === 'done');
  await page.unroute('**/v1/process-metrics?*');
  // A full job queue (503) is asked again: the first answer is a 503, the second the daemon's.
  let asked = 0;
  await page.route('**/v1/process-metrics?*', async (route) => {
    if (asked++ === 0) await route.fulfill({ status: 503, contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'unavailable', message: 'too many jobs waiting' } }) });
    else await route.continue();
  });
  await show(page);
  await shown(page, UNIT, MONTH);
  check('a full job queue is asked again, and the figures come', await metricsDone(page, UNIT, MONTH) === 'done' && asked === 2, `asked ${asked}`);
  await page.unroute('**/v1/process-metrics?*');
  m = await api(`/v1/process-metrics?period=${MONTH}&unit=${UNIT}`);
  const mrows = await pageMetrics(page);
  bad = metricsDiff(mrows, m);
  check('the office\'s metrics of the month are the API\'s', bad.length === 0, bad.join('; '));
  const lbs = mrows.find((r) => r.key === 'leads_by_source');
  check('leads by source: the seven leads seeded today', lbs.text === String(deals.length) && lbs.from === `sales ${deals.length}` &&
        m.leads_by_source.sales === deals.length, JSON.stringify(lbs));
  check('the unit and the period go into the address', (await page.evaluate(() => location.hash)) ===
        `#/pipeline?${new URLSearchParams({ unit: UNIT, period: MONTH, measure: 'coverage' })}`);
  rows = await pageTree(page);
  check('the office\'s tree of the month is the API\'s', treeDiff(rows, await api(`/v1/pipeline?period=${MONTH}&unit=${UNIT}`)).length === 0);

  // A customer has a pipeline but no process metrics: the API's refusal is the panel's error state.
  await go(page, `#/pipeline?${new URLSearchParams({ unit: 'customer/pd-alpha', period: YEAR })}`);
  check('a customer\'s own node is shown', same((await pageTree(page)).map((r) => r.unit), ['customer/pd-alpha']));
  check('the metrics panel shows the API\'s error', await metricsDone(page, 'customer/pd-alpha', YEAR) === 'error' &&
        /not available: unit: expected hq, region\/ID or office\/ID/.test(await page.textContent('#pm-state')), await page.textContent('#pm-state'));
  await page.fill('#p-period', '2026-13');
  await page.click('#p-show');
  check('a malformed period is refused on the page', /period: expected/.test(await page.textContent('#status')));

  // --- North's own probabilities, an opportunity's new value: the page follows ------------------
  await go(page, `#/pipeline?${new URLSearchParams({ unit: 'region/north', period: YEAR })}`);
  const v1 = await api('/v1/rules/region/north/versions/1', 'hq-admin-token');
  const files = { ...v1.files, 'forecast.lua': 'return { stages = { opportunity = 20, ATB = 70 } }\n' };
  const nv = await seed('POST', '/v1/rules/region/north/bundle', { files }, 201, TOKEN);
  const version = nv.version;
  await seed('POST', `/v1/rules/region/north/versions/${version}/approve`, {});
  const NORTH = { ...HQ_STAGES, opportunity: 20, ATB: 70 };
  await show(page);
  await shown(page, 'region/north', YEAR);
  tree = await api(`/v1/pipeline?period=${YEAR}&unit=region/north`);
  rows = await pageTree(page);
  bad = [...treeDiff(rows, tree), ...seededDiff(tree, NORTH), ...shownDiff(rows, NORTH)];
  check('North\'s probabilities (opportunity 20, ATB 70) move the weighted values, coverage and gap on the page', bad.length === 0 &&
        rows.find((r) => r.unit === 'customer/pd-alpha').pctText === '59.0%' &&
        rows.find((r) => r.unit === 'customer/pd-beta').weightedText === money(66666667), bad.join('; '));
  await act(beta.id, { action: 'update', value: 500000000 });
  beta.value = 500000000;
  await show(page);
  await shown(page, 'region/north', YEAR);
  tree = await api(`/v1/pipeline?period=${YEAR}&unit=region/north`);
  rows = await pageTree(page);
  bad = [...treeDiff(rows, tree), ...seededDiff(tree, NORTH), ...shownDiff(rows, NORTH)];
  check('an opportunity\'s new value moves its customer, office and region on the page', bad.length === 0 &&
        rows.find((r) => r.unit === 'customer/pd-beta').weightedText === money(100000000), bad.join('; '));
  bad = await fits(page);
  check('1280 px: the pipeline and the metrics fit, nothing clipped', bad.length === 0, bad.join('; '));
  await metricsDone(page, 'region/north', YEAR);
  await page.screenshot({ path: `${OUT}/pipeline-desktop.png`, fullPage: true });

  // --- HQ's whole tree ------------------------------------------------------------------------
  await connect(page, 'hq-admin-token');
  await go(page, `#/pipeline?period=${YEAR}`);
  await shown(page, 'hq', YEAR);
  rows = await pageTree(page);
  bad = treeDiff(rows, await api(`/v1/pipeline?period=${YEAR}&unit=hq`, 'hq-admin-token'));
  check(`HQ's tree: every node as the API says (${rows.length} nodes); customers folded under their offices at first`,
        bad.length === 0 && rows.filter((r) => !r.hidden).every((r) => ['hq', 'region', 'office'].includes(r.level)), bad.join('; '));
  check('HQ\'s metrics are the API\'s', await metricsDone(page, 'hq', YEAR) === 'done' &&
        metricsDiff(await pageMetrics(page), await api(`/v1/process-metrics?period=${YEAR}&unit=hq`, 'hq-admin-token')).length === 0);

  // --- 400 px wide ------------------------------------------------------------------------------
  await page.setViewportSize({ width: 400, height: 900 });
  await connect(page, TOKEN);
  await go(page, `#/pipeline?${new URLSearchParams({ unit: 'region/north', period: YEAR })}`);
  await metricsDone(page, 'region/north', YEAR);
  bad = await fits(page);
  check('400 px: the pipeline and the metrics fit (no sideways scroll, nothing clipped)', bad.length === 0, bad.join('; '));
  check('400 px: each node is a block of labelled lines', await page.$eval('#pipeline tr[data-unit="customer/pd-alpha"] td[data-gap]',
    (t) => getComputedStyle(t, '::before').content.includes('Gap')) &&
    await page.$eval('#pmetrics tr[data-metric="dso"] td[data-value]', (t) => getComputedStyle(t, '::before').content.includes('Value')));
  await page.focus(`#pipeline button[data-toggle="${UNIT}"]`);
  await page.keyboard.press('Enter');
  check('400 px: the toggles work', (await pageTree(page)).filter((r) => r.parent === UNIT).every((r) => r.hidden));
  await page.keyboard.press('Enter');
  await page.screenshot({ path: `${OUT}/pipeline-400.png`, fullPage: true });
  await page.locator(`#pipeline tr[data-unit="${UNIT}"]`).scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${OUT}/pipeline-400-office.png` });
  await page.locator('#metrics-card').scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${OUT}/pipeline-400-metrics.png` });

  // --- a refused token clears the panels --------------------------------------------------------
  await page.fill('#token', 'not-a-token');
  await page.click('#connect');
  await page.waitForSelector('body[data-loaded="refused"]');
  check('a refused token clears the tree and the metrics', await page.$$eval('#pipeline tbody tr, #pmetrics tbody tr', (t) => t.length) === 0 &&
        (await page.textContent('#pm-state')) === '');
  check('nothing was fetched from outside ltcd', external.length === 0, external.join(' '));
} catch (e) {
  check('the browser session ran to the end', false, e.stack);
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
