// tests/browser/dashboard.mjs: the dashboard in Debian's headless Chromium,
// driven by playwright-core, against a daemon seeded by run.sh. Checks that
// the figures shown equal the API's, approves a pending rule version through
// the page, and saves a screenshot. Prints TAP and "N passed, N failed".
import { chromium } from 'playwright-core';

const URL = process.env.LTC_URL;
const SHOT = process.env.SHOT || 'dashboard.png';
let passed = 0, failed = 0, n = 0;
function check(name, cond, detail = '') {
  n++;
  if (cond) { passed++; console.log(`ok ${n} - ${name}`); }
  else { failed++; console.log(`not ok ${n} - ${name}`); if (detail) console.log(`# ${detail}`); }
}
async function api(path, token = 'hq-admin-token', method = 'GET', body) {
  const res = await fetch(URL + path, { method, headers: { Authorization: 'Bearer ' + token },
                                        body: body ? JSON.stringify(body) : undefined });
  return res.json();
}
const capped = (s, name) => ({ total: s[name + '_total'] || 0 });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const external = [];
  page.on('request', (r) => { if (!r.url().startsWith(URL)) external.push(r.url()); });
  await page.goto(URL + '/');
  check('the page loads without a token', (await page.title()).includes('ltcd'));
  await page.fill('#token', 'hq-admin-token');
  await page.click('#connect');
  await page.waitForSelector('body[data-loaded="yes"]', { timeout: 10000 });
  check('it shows who is connected', (await page.textContent('#who')).includes('hq (admin)'));

  // Each stage, and the closed stage's outcomes each apart, as the API counts them.
  const funnel = await api('/v1/funnel');
  for (const s of funnel.stages) {
    for (const o of s.outcomes && s.outcomes.length ? s.outcomes : [null]) {
      const row = page.locator(o ? `#funnel tr[data-stage="${s.stage}"][data-outcome="${o.outcome}"]` : `#funnel tr[data-stage="${s.stage}"]`);
      const want = o || s, name = o ? `${s.stage}: ${o.outcome}` : s.stage;
      const count = await row.locator('[data-count]').getAttribute('data-count');
      const value = await row.locator('[data-value]').getAttribute('data-value');
      check(`funnel ${name}: ${want.count} instances, ${want.value} fen as the API says`,
            Number(count) === want.count && Number(value) === want.value, `page ${count}/${value}`);
    }
  }

  const year = String(new Date().getFullYear());
  await page.selectOption('#metric', 'cash');
  await page.fill('#period', '2026');
  await page.dispatchEvent('#period', 'change');
  await page.waitForSelector('#targets [data-unit="office/province-a"]');
  await page.waitForFunction(() => document.querySelector('#targets [data-unit="hq"] [data-target]').dataset.target !== '');
  const tree = await api('/v1/targets?period=2026&metric=cash');
  const nodes = [tree, ...tree.children, ...tree.children.flatMap((c) => c.children)];
  let same = true, detail = '';
  for (const nd of nodes) {
    const node = page.locator(`#targets [data-unit="${nd.unit}"]`);
    const t = await node.locator('[data-target]').getAttribute('data-target');
    const a = await node.locator('[data-actual]').getAttribute('data-actual');
    if (String(nd.target ?? '') !== t || String(nd.actual) !== a) { same = false; detail += `${nd.unit}: ${t}/${a} `; }
  }
  check('the targets tree shows the API\'s targets and actuals', same, detail);
  check('completion bars are drawn', await page.locator('#targets .bar > span').count() === nodes.length);

  const rules = await api('/v1/rules');
  let rulesOk = true;
  for (const o of rules.owners) {
    const active = await page.locator(`#rules tr[data-owner="${o.owner}"] [data-active]`).getAttribute('data-active');
    if (String(o.active ? o.active.version : '') !== active) rulesOk = false;
  }
  check('each owner\'s active version is the API\'s', rulesOk);
  check('the pending region version can be opened for review',
        await page.locator('[data-review="region/south@1"]').count() === 1);
  check('the last reload error is shown', (await page.textContent('#rules tr[data-owner="office/city-c"]')).includes('tools.lua'));
  const recent = await api('/v1/events?limit=20');
  check('recent events are listed', await page.locator('#events tbody tr').count() === recent.events.length && recent.events.length > 0);

  // The review screen: the diff against the active version, a simulation run
  // from the page, and approval behind a confirmation naming version and hash.
  await page.click('[data-review="region/south@1"]');
  await page.waitForSelector('#review:not([hidden]) [data-file]');
  const diff = await api('/v1/rules/region/south/versions/1/diff');
  const apiLines = diff.files.flatMap((f) => (f.diff || '').split('\n').slice(2)) /* past ---/+++ */
    .filter((l) => l.startsWith('+') || l.startsWith('-')).length;
  const pageLines = await page.locator('#review-diff [data-line="add"], #review-diff [data-line="del"]').count();
  check(`the review shows the diff's ${apiLines} changed lines`, apiLines > 0 && pageLines === apiLines, `page ${pageLines}`);
  check('each file of the version is listed with its status',
        await page.locator('#review-diff [data-file]').count() === diff.files.length);
  await page.click('#review-simulate');
  await page.waitForSelector('#review-sim [data-sim="region/south@1"]', { timeout: 20000 });
  const sim = await api('/v1/rules/region/south/versions/1/simulate', 'hq-admin-token', 'POST', {});
  const shown = await page.locator('#review-sim [data-sim]');
  const ev = Number(await shown.locator('[data-evaluated]').getAttribute('data-evaluated'));
  const ch = Number(await shown.locator('[data-changed]').getAttribute('data-changed'));
  const fl = Number(await shown.locator('[data-failed]').getAttribute('data-failed'));
  check(`the simulation counts are the API's (${sim.evaluated} evaluated, ${capped(sim, 'changed').total} changed, ${capped(sim, 'failed').total} failed)`,
        ev === sim.evaluated && ch === capped(sim, 'changed').total && fl === capped(sim, 'failed').total && ev > 0, `page ${ev}/${ch}/${fl}`);
  await page.click('#review [data-approve="region/south@1"]');
  await page.waitForSelector('#review-confirm:not([hidden])');
  const pending = rules.owners.find((o) => o.owner === 'region/south').pending.find((p) => p.version === 1);
  const ask = await page.textContent('#review-confirm-text');
  check('approval asks for a confirmation naming the version and its hash',
        ask.includes('region/south v1') && ask.includes(pending.hash.slice(0, 12)), ask);
  const before = await api('/v1/rules');
  check('nothing is approved before the confirmation',
        before.owners.find((o) => o.owner === 'region/south').active?.version !== 1);
  await page.click('#review-confirm-yes');
  await page.waitForFunction(() => document.querySelector('#status').textContent.includes('approved'));
  const after = await api('/v1/rules');
  const south = after.owners.find((o) => o.owner === 'region/south');
  check('approving through the page activates the version', south.active && south.active.version === 1 && south.active.approved_by === 'hq:admin');
  await page.waitForSelector('#rules tr[data-owner="region/south"] [data-active="1"]');
  check('the page shows it active', true);

  // A viewer sees no approve buttons.
  await page.fill('#token', 'hq-viewer-token');
  await page.click('#connect');
  await page.waitForSelector('body[data-loaded="yes"]');
  check('the viewer page is loaded', (await page.textContent('#who')).includes('viewer'));
  check('a viewer sees the pending versions', await page.locator('[data-pending]').count() > 0);
  await page.click('[data-review]');
  await page.waitForSelector('#review:not([hidden]) [data-file]');
  check('a viewer can review but gets no approve buttons', await page.locator('[data-approve]').count() === 0);
  await page.fill('#token', 'hq-admin-token');
  await page.click('#connect');
  await page.waitForSelector('body[data-loaded="yes"]');
  await page.screenshot({ path: SHOT, fullPage: true });
  check('nothing was fetched from outside ltcd', external.length === 0, external.join(' '));
} catch (e) {
  check('the browser session ran to the end', false, e.stack);
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
