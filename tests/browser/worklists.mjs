// tests/browser/worklists.mjs: the dashboard people work in, in headless
// Chromium against the daemon run.sh seeded (tests/integration/worklist-seed.sh):
// the funnel in process order with won and lost apart, "waiting for me", the
// overdue receivables, the instance list with its filters, an instance's
// detail page, a refused token, and the page at 400 px. Every figure is
// compared with the API's answer to the same question; screenshots of each
// view at desktop width and at 400 px go to $OUT. Prints TAP and
// "N passed, N failed".
import { chromium } from 'playwright-core';

const URL = process.env.LTC_URL, AS_OF = process.env.AS_OF, OUT = process.env.OUT || '.';
let passed = 0, failed = 0, n = 0;
function check(name, cond, detail = '') {
  n++;
  if (cond) { passed++; console.log(`ok ${n} - ${name}`); }
  else { failed++; console.log(`not ok ${n} - ${name}`); if (detail) console.log(`# ${detail}`); }
}
async function api(path, token = 'hq-admin-token') {
  const res = await fetch(URL + path, { headers: { Authorization: 'Bearer ' + token } });
  return res.json();
}
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const attrs = (page, sel, name) => page.$$eval(sel, (els, a) => els.map((e) => e.getAttribute(a)), name);

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
async function asOf(page) {
  await page.fill('#as-of', AS_OF);
  await page.dispatchEvent('#as-of', 'change');
  await page.waitForFunction((d) => [...document.querySelectorAll('#waiting [data-since]')].length > 0 &&
    document.querySelector('#overdue-summary .total') !== null, AS_OF);
  await page.waitForTimeout(200);
}
async function go(page, hash) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForFunction(() => document.body.dataset.loaded === 'yes');
}
// Nothing wider than the window: no sideways scroll of the page, no card
// that hides or scrolls what it holds.
async function fits(page) {
  return page.evaluate(() => {
    const w = window.innerWidth, bad = [];
    if (document.documentElement.scrollWidth > w) bad.push(`page ${document.documentElement.scrollWidth}px`);
    for (const c of document.querySelectorAll('main:not([hidden]) .card:not([hidden])'))
      if (c.scrollWidth > c.clientWidth + 1) bad.push(`${c.id || c.querySelector('h2')?.textContent.trim()} ${c.scrollWidth}/${c.clientWidth}`);
    for (const e of document.querySelectorAll('main:not([hidden]) td, main:not([hidden]) button, main:not([hidden]) input, main:not([hidden]) select, header *')) {
      const r = e.getBoundingClientRect();
      if (r.width && r.right > w + 1) bad.push(`${e.tagName} ${e.id || e.textContent.slice(0, 20)} ends at ${r.right}`);
    }
    return bad;
  });
}

try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const external = [], listCalls = [];
  page.on('request', (r) => {
    if (!r.url().startsWith(URL)) external.push(r.url());
    if (r.url().includes('/v1/instances?')) listCalls.push(r.url());
  });
  await page.goto(URL + '/');
  await connect(page, 'hq-admin-token');
  await asOf(page);

  // --- the funnel: HQ's process order, every stage, won and lost apart -----------
  const funnel = await api('/v1/funnel');
  const wantRows = funnel.stages.flatMap((s) => s.outcomes && s.outcomes.length
    ? s.outcomes.map((o) => `${s.stage}/${o.outcome}`) : [s.stage]);
  const rows = await page.$$eval('#funnel tbody tr', (trs) => trs.map((t) => t.dataset.stage + (t.dataset.outcome ? '/' + t.dataset.outcome : '')));
  check('the funnel rows follow process.lua\'s stage order, every stage listed', same(rows, wantRows), rows.join(' '));
  check('the stages are not alphabetical', funnel.stages.map((s) => s.stage).join() === 'lead,opportunity,contract,closed');
  check('closed is never one row adding won and lost', await page.locator('#funnel tr[data-stage="closed"]:not([data-outcome])').count() === 0);
  const closed = funnel.stages.find((s) => s.stage === 'closed').outcomes;
  let outcomesOk = closed.length === 3;
  for (const o of closed) {
    const row = page.locator(`#funnel tr[data-outcome="${o.outcome}"]`);
    outcomesOk &&= Number(await row.locator('[data-count]').getAttribute('data-count')) === o.count &&
      Number(await row.locator('[data-value]').getAttribute('data-value')) === o.value && o.count === 1;
  }
  check('won, lost and dropped each show the API\'s count and value', outcomesOk);
  check('money is shown as 1,234.00 CNY', (await page.textContent('#funnel tr[data-outcome="won"] [data-value]')).trim() === '200,000.00 CNY');

  // --- waiting for me ---------------------------------------------------------------
  const waiting = await api(`/v1/decisions/waiting?as_of=${AS_OF}&limit=100`);
  const shown = await attrs(page, '#waiting tbody tr', 'data-waiting');
  check(`"waiting for me" lists the API's ${waiting.total} decisions, oldest first`,
        waiting.total >= 5 && same(shown, waiting.items.map((d) => `${d.instance}:${d.kdp}`)), shown.join(' '));
  const days = (await attrs(page, '#waiting [data-days]', 'data-days')).map(Number);
  const levels = await attrs(page, '#waiting td[data-level]', 'data-level');
  check('each with its days waiting and the level the matrix routes it to',
        same(days, waiting.items.map((d) => d.days)) && same(levels, waiting.items.map((d) => d.level)),
        `${days} / ${levels}`);
  check('the oldest comes first', days.every((d, i) => i === 0 || d <= days[i - 1]));
  check('the total is the API\'s', Number(await page.getAttribute('#waiting-total', 'data-total')) === waiting.total);
  await page.selectOption('#waiting-level', 'region');
  await page.waitForFunction(() => [...document.querySelectorAll('#waiting td[data-level]')].every((t) => t.dataset.level === 'region'));
  const region = await api(`/v1/decisions/waiting?as_of=${AS_OF}&limit=100&level=region`);
  check('"region level only" shows the API\'s region decisions',
        region.items.length > 0 && same(await attrs(page, '#waiting tbody tr', 'data-waiting'), region.items.map((d) => `${d.instance}:${d.kdp}`)));
  await page.selectOption('#waiting-level', '');
  await page.waitForFunction((k) => document.querySelectorAll('#waiting tbody tr').length === k, waiting.items.length);

  // --- overdue receivables ------------------------------------------------------------
  const overdue = await api(`/v1/receivables/overdue?as_of=${AS_OF}&limit=100`);
  const od = await page.$$eval('#overdue tbody tr', (trs) => trs.map((t) => [t.dataset.overdue,
    Number(t.querySelector('[data-days]').dataset.days), t.querySelector('td[data-escalate]').dataset.escalate,
    Number(t.querySelector('[data-amount]').dataset.amount)]));
  check(`the overdue panel lists the API's ${overdue.count} invoices with days and escalation level`,
        overdue.count === 2 && same(od, overdue.items.map((i) => [`${i.instance}:${i.ref}`, i.days, i.escalate_to, i.amount])), JSON.stringify(od));
  const chips = await page.$$eval('#overdue-summary [data-escalate]', (cs) => cs.map((c) => [c.dataset.escalate, Number(c.dataset.count), Number(c.dataset.amount)]));
  check('with the totals per escalation level', same(chips, overdue.by_escalation.map((e) => [e.escalate_to, e.count, e.amount])) &&
        Number(await page.getAttribute('#overdue-summary .total', 'data-amount')) === overdue.amount, JSON.stringify(chips));
  { const bad = await fits(page); check('desktop: the overview fits its cards', bad.length === 0, bad.join('; ')); }
  await page.screenshot({ path: `${OUT}/overview-desktop.png`, fullPage: true });
  for (const card of ['waiting', 'overdue'])
    await page.locator(`#${card}-card`).screenshot({ path: `${OUT}/${card}-desktop.png` });

  // --- the instance list and its filters ---------------------------------------------------
  await page.click('#funnel tr[data-stage="opportunity"] a');
  await page.waitForFunction(() => location.hash.startsWith('#/instances') && document.body.dataset.loaded === 'yes');
  const opp = await api('/v1/instances?stage=opportunity&limit=50');
  check('a funnel row opens the list of its stage',
        same((await attrs(page, '#instances tbody tr', 'data-id')).map(Number), opp.instances.map((i) => i.id)) && opp.instances.length > 0);
  const officeOpts = await page.$$eval('#f-office option', (os) => os.map((o) => o.value).filter(Boolean));
  check('the office filter offers the offices of the org tree', ['province-a', 'province-b', 'city-c', 'city-d'].every((o) => officeOpts.includes(o)), officeOpts.join());
  const stageOpts = await page.$$eval('#f-stage option', (os) => os.map((o) => o.value).filter(Boolean));
  check('the stage filter offers the stages in process order', same(stageOpts, funnel.stages.map((s) => s.stage)));
  const temp = opp.instances.find((i) => i.office === 'province-a').evaluation.temperature;
  await page.selectOption('#f-office', 'province-a');
  await page.selectOption('#f-temperature', temp);
  await page.click('#f-apply');
  await page.waitForFunction(() => location.hash.includes('office=province-a') && document.body.dataset.loaded === 'yes');
  const filtered = await api(`/v1/instances?stage=opportunity&office=province-a&temperature=${temp}&limit=50`);
  const ids = (await attrs(page, '#instances tbody tr', 'data-id')).map(Number);
  check(`stage, office and temperature filter as the API does (${filtered.instances.length} instances)`,
        filtered.instances.length > 0 && same(ids, filtered.instances.map((i) => i.id)), ids.join());
  check('every row shown is of that office and stage',
        (await attrs(page, '#instances td[data-office]', 'data-office')).every((o) => o === 'province-a') &&
        (await attrs(page, '#instances td[data-stage]', 'data-stage')).every((s) => s === 'opportunity'));
  await page.selectOption('#f-stage', '');
  await page.selectOption('#f-temperature', '');
  await page.fill('#f-owner', 'li');
  listCalls.length = 0;
  await page.click('#f-apply');
  await page.waitForFunction(() => location.hash.includes('owner=li') && document.body.dataset.loaded === 'yes');
  check('the owner filter is passed to the API as owner=', listCalls.some((u) => new globalThis.URL(u).searchParams.get('owner') === 'li'), listCalls.join(' '));
  const byOwner = await api('/v1/instances?office=province-a&owner=li&limit=50');
  check('and the page shows what the API answers to it',
        same((await attrs(page, '#instances tbody tr', 'data-id')).map(Number), byOwner.instances.map((i) => i.id)));
  await go(page, '#/instances?office=province-a');
  const pa = await api('/v1/instances?office=province-a&limit=50');
  check('the list has an owner column with each instance\'s owner (- for nobody)',
        await page.locator('#instances thead th', { hasText: 'Owner' }).count() === 1 &&
        same(await attrs(page, '#instances td[data-owner]', 'data-owner'), pa.instances.map((i) => i.owner ?? '')) &&
        pa.instances.every((i) => 'owner' in i));
  await page.evaluate(() => { location.hash = '#/instances?owner=lii'; });
  await page.waitForFunction(() => document.body.dataset.loaded === 'error');
  check('a misspelt owner shows the API\'s error, not an empty list', (await page.textContent('#status')).includes("no person 'lii'"));
  await page.evaluate(() => { location.hash = '#/instances?stage=Bad!'; });
  await page.waitForFunction(() => document.body.dataset.loaded === 'error');
  check('a malformed filter shows the API\'s error', (await page.textContent('#status')).includes('filters must be IDs'));
  await go(page, '#/instances');
  { const bad = await fits(page); check('desktop: the instances fits its cards', bad.length === 0, bad.join('; ')); }
  await page.screenshot({ path: `${OUT}/instances-desktop.png`, fullPage: true });

  // --- the detail page -------------------------------------------------------------------------
  const late = (await api('/v1/instances?stage=contract&limit=50')).instances.find((i) => i.title === 'Late payer');
  await page.click(`#instances a[data-instance-link="${late.id}"]`);
  await page.waitForFunction((id) => document.querySelector('#detail')?.dataset.instance === String(id) &&
    document.body.dataset.loaded === 'yes', late.id);
  const inst = await api(`/v1/instances/${late.id}`), ev = await api(`/v1/instances/${late.id}/events`);
  const tl = await page.$$eval('#detail-timeline tbody tr', (trs) => trs.map((t) => [Number(t.dataset.seq),
    t.querySelector('[data-date]').dataset.date, t.querySelector('[data-action]').dataset.action]));
  check(`the timeline lists the ${ev.events.length} events with their business dates`,
        same(tl, ev.events.map((e) => [e.seq, e.date, e.action])), JSON.stringify(tl));
  check('business dates, not recording times', ev.events.some((e) => e.date !== e.at.slice(0, 10)));
  const decideText = await page.textContent(`#detail-timeline tr[data-seq="${ev.events.find((e) => e.action === 'decide').seq}"] .outcome`);
  check('a decision\'s outcome says what, at which level, by whom', /ATI approve at office level by office\/province-a:admin/.test(decideText), decideText);
  const gates = await page.$$eval('#detail-gates tbody tr', (trs) => trs.map((t) => [t.dataset.kdp,
    t.querySelector('[data-outcome]').dataset.outcome, t.querySelector('td[data-level]').dataset.level,
    t.querySelector('[data-decided-by]').dataset.decidedBy]));
  check('the gates with their outcome, authority level and decider',
        same(gates, ['ATI', 'ATB', 'ATC'].map((k) => [k, inst.gates[k].outcome, inst.gates[k].level, inst.gates[k].decided_by])), JSON.stringify(gates));
  const team = await page.$$eval('#detail-team [data-fact]', (ds) => Object.fromEntries(ds.map((d) => [d.dataset.fact, d.textContent])));
  check('the iron triangle', team.ar === inst.team.ar && team.sr === inst.team.sr && team.fr === inst.team.fr, JSON.stringify(team));
  const rec = await api(`/v1/instances/${late.id}/receivables?as_of=${AS_OF}`);
  const rdays = await page.$$eval('#detail-overdue tbody tr', (trs) => trs.map((t) => [t.dataset.ref,
    Number(t.querySelector('[data-days]').dataset.days), t.querySelector('td[data-escalate]').dataset.escalate]));
  check('the receivables with the overdue days and escalation of each invoice',
        rdays.length === 2 && same(rdays, rec.overdue.map((o) => [o.ref, o.days, o.escalate_to])), JSON.stringify(rdays));
  const money = await page.$$eval('#detail-money [data-amount]', (ds) => Object.fromEntries(ds.map((d) => [d.dataset.fact, Number(d.dataset.amount)])));
  check('invoiced, paid, outstanding and overdue are the API\'s',
        money.invoiced === rec.invoiced && money.paid === rec.paid && money.outstanding === rec.outstanding && money.overdue_amount === rec.overdue_amount);
  check('the detail page names the stage entry dates', (await page.textContent('#detail-head [data-fact="entered"]')).includes(`contract ${inst.entered.contract}`));
  { const bad = await fits(page); check('desktop: the detail fits its cards', bad.length === 0, bad.join('; ')); }
  await page.screenshot({ path: `${OUT}/detail-desktop.png`, fullPage: true });
  // From "waiting for me" to the instance.
  await go(page, '#/');
  await asOf(page);
  const first = waiting.items[0];
  await page.click(`#waiting tr[data-waiting="${first.instance}:${first.kdp}"] a`);
  await page.waitForFunction((id) => document.querySelector('#detail')?.dataset.instance === String(id) &&
    document.body.dataset.loaded === 'yes', first.instance);
  check('a waiting decision opens its instance', (await page.textContent('#detail-title')).includes(`#${first.instance}`));

  // --- another principal: an office admin --------------------------------------------------------
  await go(page, '#/');
  await connect(page, 'pa-admin-token');
  await asOf(page);
  const office = await api(`/v1/decisions/waiting?as_of=${AS_OF}&limit=100`, 'pa-admin-token');
  check('an office admin waits for its own office-level decisions only',
        same(await attrs(page, '#waiting tbody tr', 'data-waiting'), office.items.map((d) => `${d.instance}:${d.kdp}`)) &&
        office.items.every((d) => d.level === 'office' && d.office === 'province-a'));
  check('its level choice stops at office', same(await page.$$eval('#waiting-level option', (os) => os.map((o) => o.value)), ['', 'office']));

  // --- a refused token clears the identity and what was shown --------------------------------------
  await page.fill('#token', 'not-a-token');
  await page.click('#connect');
  await page.waitForSelector('body[data-loaded="refused"]', { timeout: 10000 });
  check('a refused token clears the identity', (await page.textContent('#who')).trim() === '');
  check('and says the token was refused', (await page.textContent('#status')).includes('token refused'));
  check('and nothing of the previous principal stays on the page',
        await page.locator('main tbody tr').count() === 0 && await page.locator('#targets .node').count() === 0);

  // --- 400 px wide ---------------------------------------------------------------------------------
  await connect(page, 'hq-admin-token');
  await page.setViewportSize({ width: 400, height: 900 });
  await asOf(page);
  let bad = await fits(page);
  check('400 px: the overview fits (no sideways scroll, nothing clipped)', bad.length === 0, bad.join('; '));
  check('400 px: tables become labelled blocks', await page.$eval('#waiting tbody td[data-days]', (t) => getComputedStyle(t, '::before').content.includes('Days')));
  await page.screenshot({ path: `${OUT}/overview-400.png`, fullPage: true });
  for (const card of ['funnel', 'waiting', 'overdue'])
    await page.locator(`#${card}-card`).screenshot({ path: `${OUT}/${card}-400.png` });
  await go(page, '#/instances');
  bad = await fits(page);
  check('400 px: the instance list fits', bad.length === 0, bad.join('; '));
  await page.screenshot({ path: `${OUT}/instances-400.png`, fullPage: true });
  await go(page, `#/instances/${late.id}`);
  bad = await fits(page);
  check('400 px: the detail page fits', bad.length === 0, bad.join('; '));
  await page.screenshot({ path: `${OUT}/detail-400.png`, fullPage: true });
  await page.screenshot({ path: `${OUT}/detail-400-top.png` });
  // --- money one way, in the budget's own currency (as ltcctl prints it) -----------------------------
  await page.setViewportSize({ width: 1280, height: 900 });
  const made = await (await fetch(URL + '/v1/leads', { method: 'POST',
    headers: { Authorization: 'Bearer hq-admin-token', 'Content-Type': 'application/json' },
    body: JSON.stringify({ office: 'city-c', customer: 'Dollar Co', title: 'Export deal', source: 'sales',
      budget: { amount: 123456789, currency: 'USD', status: 'planned' }, horizon_months: 6, signals: {} }) })).json();
  await go(page, '#/instances?office=city-c');
  check('a budget in USD is listed as 1,234,567.89 USD, not CNY',
        (await page.textContent(`#instances tr[data-id="${made.id}"] td[data-value]`)).trim() === '1,234,567.89 USD');
  await go(page, `#/instances/${made.id}`);
  check('... and shown so on its page', (await page.textContent('#detail')).includes('1,234,567.89 USD'));
  check('nothing was fetched from outside ltcd', external.length === 0, external.join(' '));
} catch (e) {
  check('the browser session ran to the end', false, e.stack);
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
