// The ltcd dashboard: plain JavaScript over the JSON API, nothing fetched
// from elsewhere. Every figure comes from one endpoint that computes it (the
// funnel, the work lists, the targets tree, an instance and its events), so
// the page stays light however many instances there are, and shows exactly
// what the API answers.
'use strict';

const $ = (sel) => document.querySelector(sel);
const state = { token: sessionStorage.getItem('ltcd.token') || '', me: null, next: null };
const LEVELS = ['office', 'region', 'hq'];

// Money is an integer of the currency's minor unit (fen for CNY); shown one
// way everywhere, as ltcctl prints it: 1,200,000.00 CNY. Contracts are in
// CNY; a lead's budget carries its own currency, which is shown with it.
function money(fen, currency = 'CNY') {
  if (fen == null) return '-';
  const neg = fen < 0; fen = Math.abs(fen);
  const yuan = Math.floor(fen / 100).toLocaleString('en-US');
  return (neg ? '-' : '') + yuan + '.' + String(fen % 100).padStart(2, '0') + ' ' + (currency || 'CNY');
}
const pct = (n) => n == null ? '-' : `${n}%`;

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

// A refused token is an Error with status 401: the page then forgets who was
// connected and everything it showed for them.
async function api(method, path, body) {
  const res = await fetch(path, {
    method, headers: { Authorization: 'Bearer ' + state.token,
                       ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const err = new Error((data.error && data.error.message) || res.statusText);
    err.status = res.status;
    err.code = data.error && data.error.code;
    err.details = data.error && data.error.details;
    throw err;
  }
  return data;
}

function say(msg) { $('#status').textContent = msg || ''; }

// Narrow screens show each table row as a block of "label: value" lines; the
// labels are the column heads.
function labelCells(tableEl) {
  const heads = [...tableEl.querySelectorAll('thead th')].map((th) => th.textContent);
  for (const tr of tableEl.querySelectorAll('tbody tr'))
    [...tr.children].forEach((td, i) => { if (heads[i]) td.dataset.label = heads[i]; });
}
function fill(sel, rows) {
  const t = $(sel);
  t.querySelector('tbody').replaceChildren(...rows);
  labelCells(t);
}
const instanceLink = (id, title) => el('a', { href: `#/instances/${id}`, 'data-instance-link': id },
  `#${id}` + (title ? ` ${title}` : ''));

// --- overview: funnel ---------------------------------------------------------

// Stages in HQ's process order, every one (empty too); the closed stage as
// one row per outcome, so won and lost are never added together.
async function loadFunnel() {
  const { stages } = await api('GET', '/v1/funnel');
  state.stages = stages.map((s) => s.stage);
  const rows = [];
  for (const s of stages) {
    if (s.outcomes && s.outcomes.length)
      for (const o of s.outcomes) rows.push({ stage: s.stage, outcome: o.outcome, count: o.count, value: o.value,
                                              label: `${s.stage}: ${o.outcome}` });
    else rows.push({ stage: s.stage, count: s.count, value: s.value, label: s.stage });
  }
  const max = Math.max(1, ...rows.map((r) => r.count));
  fill('#funnel', rows.map((r) => el('tr', { 'data-stage': r.stage, 'data-outcome': r.outcome },
    el('td', {}, el('a', { href: `#/instances?stage=${r.stage}`, text: r.label })),
    el('td', { class: 'num', 'data-count': r.count, text: r.count.toLocaleString('en-US') }),
    el('td', { class: 'num', 'data-value': r.value, text: money(r.value) }),
    el('td', {}, el('div', { class: 'bar' }, el('span', { style: `width:${100 * r.count / max}%` }))))));
  const sel = $('#f-stage'), keep = sel.value;
  sel.replaceChildren(el('option', { value: '', text: 'any' }), ...state.stages.map((s) => el('option', { value: s, text: s })));
  sel.value = keep;
}

// --- overview: work lists ------------------------------------------------------

const asOf = () => $('#as-of').value || new Date().toISOString().slice(0, 10);

function terms(x) {
  const t = [`discount ${pct(x.discount)}`];
  if (x.margin != null) t.push(`margin ${pct(x.margin)}`);
  return t.join(', ');
}

async function loadWaiting() {
  const level = $('#waiting-level').value;
  const q = new URLSearchParams({ as_of: asOf(), limit: '100' });
  if (level) q.set('level', level);
  const w = await api('GET', `/v1/decisions/waiting?${q}`);
  $('#waiting-total').textContent = `${w.total} waiting` + (w.total > w.items.length ? `, the oldest ${w.items.length} shown` : '') +
    (w.errors ? ` (${w.errors} left out: ${w.error})` : '');
  $('#waiting-total').dataset.total = w.total;
  fill('#waiting', w.items.map((d) => el('tr', { 'data-waiting': `${d.instance}:${d.kdp}` },
    el('td', { 'data-since': d.since, text: d.since }),
    el('td', { class: 'num', 'data-days': d.days, text: String(d.days) }),
    el('td', {}, instanceLink(d.instance, d.title)),
    el('td', { text: d.office }),
    el('td', { 'data-kdp': d.kdp, text: d.kdp + (d.deferred ? ' (deferred)' : '') }),
    el('td', { 'data-level': d.level, text: d.level }),
    el('td', { class: 'num', 'data-value': d.value, text: money(d.value) }),
    el('td', { text: `${terms(d)}; ${d.matrix}` }))));
}

async function loadOverdue() {
  const o = await api('GET', `/v1/receivables/overdue?as_of=${asOf()}&limit=100`);
  $('#overdue-summary').replaceChildren(
    el('span', { class: 'chip total', 'data-amount': o.amount, 'data-count': o.count,
                 text: `${o.count} overdue, ${money(o.amount)}` }),
    ...o.by_escalation.map((e) => el('span', { class: 'chip', 'data-escalate': e.escalate_to, 'data-amount': e.amount,
      'data-count': e.count, text: `${e.escalate_to}: ${e.count}, ${money(e.amount)} (up to ${e.max_days} days)` })));
  fill('#overdue', o.items.map((i) => el('tr', { 'data-overdue': `${i.instance}:${i.ref}` },
    el('td', { class: 'num', 'data-days': i.days, text: String(i.days) }),
    el('td', { 'data-escalate': i.escalate_to, text: i.escalate_to }),
    el('td', {}, instanceLink(i.instance, i.title)),
    el('td', { text: i.office }),
    el('td', { text: i.ref || '-' }),
    el('td', { class: 'num', 'data-amount': i.amount, text: money(i.amount) }),
    el('td', { text: i.due }))));
}

// --- overview: targets ------------------------------------------------------------

function targetNode(n, depth, out) {
  const p = n.completion == null ? null : n.completion * 100;
  out.push(el('div', { class: `node depth${Math.min(depth, 3)}`, 'data-unit': n.unit },
    el('span', { class: 'unit', text: n.unit }),
    el('div', { class: 'bar', title: p == null ? 'no target' : p.toFixed(1) + '%' },
      el('span', { style: `width:${Math.min(100, p || 0)}%` })),
    el('span', { class: 'num', 'data-target': n.target ?? '', text: n.target == null ? '-' : money(n.target) }),
    el('span', { class: 'num', 'data-actual': n.actual, text: money(n.actual) }),
    el('span', { class: 'num', text: p == null ? '' : p.toFixed(0) + '%' })));
  for (const c of n.children || []) targetNode(c, depth + 1, out);
}

// The tree also holds customers and each office's remainder
// (office/ID/unregistered): only units that are offices count here.
function offices(n, out = []) {
  if (/^office\/[^/]+$/.test(n.unit)) out.push(n.unit.slice(7));
  for (const c of n.children || []) offices(c, out);
  return out;
}

async function loadTargets() {
  const tree = await api('GET', `/v1/targets?period=${encodeURIComponent($('#period').value)}&metric=${$('#metric').value}`);
  const out = [el('div', { class: 'node head muted' }, el('span', { text: 'unit' }), el('span', { text: 'completion' }),
    el('span', { class: 'num', text: 'target' }), el('span', { class: 'num', text: 'actual' }), el('span'))];
  targetNode(tree, 0, out);
  $('#targets').replaceChildren(...out);
  state.units = unitsOf(tree);
  const sel = $('#f-office'), keep = sel.value;
  sel.replaceChildren(el('option', { value: '', text: 'any' }), ...offices(tree).map((o) => el('option', { value: o, text: o })));
  sel.value = keep;
}

// --- overview: rules and their review -------------------------------------------------

async function decide(owner, version, verb, reason) {
  try {
    await api('POST', `/v1/rules/${owner}/versions/${version}/${verb}`, reason ? { reason } : undefined);
    say(`${owner} v${version}: ${verb === 'approve' ? 'approved' : 'rejected'}`);
  } catch (e) { say(`${owner} v${version}: ${e.message}`); }
  $('#review').hidden = true;
  await Promise.all([loadRules(), loadEvents()]);
}

// A capped list of a simulation answer: its items and its NAME_total.
function capped(s, name) {
  return { items: s[name] || [], total: s[name + '_total'] || 0 };
}

function diffBlock(f) {
  const pre = el('pre', { class: 'diff', 'data-diff-file': f.file });
  let inHunk = false; /* before the first @@, "---" and "+++" name the files */
  for (const line of (f.diff || '').split('\n')) {
    if (line === '') continue;
    if (line.startsWith('@@')) inHunk = true;
    const kind = line.startsWith('@@') ? 'hunk' : !inHunk ? ''
      : line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : '';
    pre.append(el('span', kind ? { class: kind, 'data-line': kind } : {}, line + '\n'));
  }
  return pre;
}

async function showDiff(owner, version) {
  const d = await api('GET', `/v1/rules/${owner}/versions/${version}/diff`);
  const parts = [];
  for (const f of d.files) {
    parts.push(el('div', { 'data-file': f.file, 'data-status': f.status },
      el('span', { class: 'file-status', text: `${f.file}: ${f.status}` })));
    if (f.status !== 'same' && f.diff) parts.push(diffBlock(f));
  }
  if (!parts.length) parts.push(el('p', { text: 'no files' }));
  $('#review-diff').replaceChildren(el('p', { class: 'muted', text: `from v${d.from ?? '-'} to v${d.to}` }), ...parts);
}

function table(head, rows) {
  return el('table', {}, el('thead', {}, el('tr', {}, ...head.map((h) => el('th', { text: h })))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', { text: String(c ?? '') }))))));
}

const brief = (e) => e ? [e.score, e.temperature, e.maturity, e.recommendation].filter((x) => x != null).join(' / ') : '';

async function simulate(owner, version) {
  $('#review-sim').replaceChildren(el('span', { text: 'running...' }));
  try {
    const s = await api('POST', `/v1/rules/${owner}/versions/${version}/simulate`, {});
    const changed = capped(s, 'changed'), failed = capped(s, 'failed'), routing = capped(s, 'routing');
    const out = [el('div', { class: 'counts', 'data-sim': `${owner}@${version}` },
      el('span', { 'data-evaluated': s.evaluated, text: `evaluated ${s.evaluated}` }),
      el('span', { 'data-changed': changed.total, text: `changed ${changed.total}` }),
      el('span', { 'data-failed': failed.total, text: `failed ${failed.total}` }),
      el('span', { 'data-routing': routing.total, text: `routing changes ${routing.total}` }),
      ...(s.cap && (changed.total > s.cap || failed.total > s.cap || routing.total > s.cap)
        ? [el('span', { class: 'muted', text: `(lists show the first ${s.cap})` })] : []))];
    if (changed.items.length)
      out.push(el('h4', { text: 'Changed' }), table(['instance', 'before', 'after'],
        changed.items.map((c) => [c.instance, brief(c.before), brief(c.after)])));
    if (failed.items.length)
      out.push(el('h4', { text: 'Failed' }), table(['instance', 'error'], failed.items.map((f) => [f.instance, f.error])));
    if (routing.items.length)
      out.push(el('h4', { text: 'Authority routing' }), table(['instance', 'kdp', 'before', 'after'],
        routing.items.map((r) => [r.instance, r.kdp, r.before, r.after])));
    $('#review-sim').replaceChildren(...out);
  } catch (e) { $('#review-sim').replaceChildren(el('span', { class: 'error', text: e.message })); }
}

async function showShadow(owner, version) {
  try {
    const s = await api('GET', `/v1/rules/${owner}/versions/${version}/shadow`);
    $('#review-shadow').replaceChildren(el('span', { 'data-shadow': `${owner}@${version}`,
      text: `until ${s.until}: evaluated ${s.evaluated}, differing ${s.differing}, failed ${s.failed}` }));
  } catch (e) { $('#review-shadow').replaceChildren(el('span', { text: 'no shadow run for this version' })); }
}

// Approve and reject only after a confirmation that names version and hash.
function confirmThen(text, action) {
  $('#review-confirm-text').textContent = text;
  $('#review-confirm').hidden = false;
  $('#review-confirm-yes').onclick = () => { $('#review-confirm').hidden = true; action(); };
  $('#review-confirm-no').onclick = () => { $('#review-confirm').hidden = true; };
}

async function review(owner, p) {
  const hqAdmin = state.me && state.me.unit === 'hq' && state.me.role === 'admin';
  $('#review').hidden = false;
  $('#review').dataset.review = `${owner}@${p.version}`;
  $('#review-title').textContent = `${owner} v${p.version}`;
  $('#review-meta').textContent = `hash ${p.hash}` + (p.base != null ? `, built on v${p.base}` : '') +
    (p.origin ? `, from ${p.origin}` : '') + (p.created_by ? `, by ${p.created_by}` : '');
  $('#review-sim').replaceChildren(el('span', { text: 'not run yet' }));
  $('#review-simulate').onclick = () => simulate(owner, p.version);
  $('#review-confirm').hidden = true;
  const name = `${owner} v${p.version} (hash ${p.hash.slice(0, 12)})`;
  $('#review-decide').replaceChildren(...(hqAdmin ? [
    el('button', { class: 'approve', 'data-approve': `${owner}@${p.version}`, text: 'Approve',
      onclick: () => confirmThen(`Approve ${name}? It becomes active for every lead of ${owner}.`,
        () => decide(owner, p.version, 'approve')) }), ' ',
    el('button', { class: 'reject', 'data-reject': `${owner}@${p.version}`, text: 'Reject',
      onclick: () => confirmThen(`Reject ${name}?`, () => decide(owner, p.version, 'reject', 'rejected in review')) }),
  ] : []));
  await Promise.all([showDiff(owner, p.version).catch((e) => $('#review-diff').replaceChildren(el('span', { class: 'error', text: e.message }))),
                     showShadow(owner, p.version)]);
  $('#review').scrollIntoView();
}

async function loadRules() {
  const { owners } = await api('GET', '/v1/rules');
  const rows = await Promise.all(owners.map(async (o) => {
    const { versions } = await api('GET', `/v1/rules/${o.owner}/versions`);
    const rejected = versions.filter((v) => v.status === 'rejected').map((v) => 'v' + v.version).join(', ');
    const pending = el('td', { class: 'pending' }, ...o.pending.map((p) => el('div', { 'data-pending': `${o.owner}@${p.version}` },
      el('span', { text: `v${p.version} ` }),
      el('button', { 'data-review': `${o.owner}@${p.version}`, onclick: () => review(o.owner, p), text: 'Review' }))));
    return el('tr', { 'data-owner': o.owner },
      el('td', { text: o.owner }),
      el('td', { 'data-active': o.active ? o.active.version : '', text: o.active ? `v${o.active.version} (${o.active.hash.slice(0, 10)})` : '-' }),
      pending,
      el('td', { text: rejected || '' }),
      el('td', { class: 'error', text: o.last_error ? `${o.last_error.at}: ${o.last_error.message}` : '' }));
  }));
  fill('#rules', rows);
}

async function loadEvents() {
  const { events } = await api('GET', '/v1/events?limit=20');
  fill('#events', events.map((e) => el('tr', {},
    el('td', { 'data-date': e.date, text: e.date }), el('td', {}, instanceLink(e.instance), `.${e.seq}`),
    el('td', { text: e.action }), el('td', { text: e.actor }), el('td', { class: 'muted', text: e.at }))));
}

// --- instances: list with filters -------------------------------------------------

const FILTERS = ['stage', 'office', 'owner', 'temperature'];

function filtersOf(query) {
  const q = new URLSearchParams(query), f = {};
  for (const k of FILTERS) if (q.get(k)) f[k] = q.get(k);
  return f;
}

function stageOf(i) { return i.closure && i.closure.outcome ? `${i.stage}: ${i.closure.outcome}` : i.stage; }
const valueOf = (i) => (i.contract && i.contract.value != null) ? i.contract.value : (i.budget ? i.budget.amount : null);
const currencyOf = (i) => (i.contract && i.contract.value != null) ? 'CNY' : (i.budget && i.budget.currency) || 'CNY';

// Every instance has an owner (a person id, or null: nobody yet).
function instanceRows(list) {
  const head = ['#', 'Title', 'Customer', 'Office', 'Stage', 'Temperature', 'Value', 'Owner', 'Updated'];
  $('#instances thead').replaceChildren(el('tr', {}, ...head.map((h) => el('th', { class: h === 'Value' ? 'num' : undefined, text: h }))));
  return list.map((i) => el('tr', { 'data-id': i.id },
    el('td', {}, instanceLink(i.id)), el('td', { text: i.title || '' }), el('td', { text: i.customer || '' }),
    el('td', { 'data-office': i.office, text: i.office }), el('td', { 'data-stage': i.stage, text: stageOf(i) }),
    el('td', { 'data-temperature': i.evaluation ? i.evaluation.temperature : '', text: i.evaluation ? i.evaluation.temperature : '' }),
    el('td', { class: 'num', 'data-value': valueOf(i) ?? '', text: money(valueOf(i), currencyOf(i)) }),
    el('td', { 'data-owner': i.owner ?? '', text: i.owner ?? '-' }),
    el('td', { class: 'muted', text: (i.updated_at || '').slice(0, 10) })));
}

async function loadInstances(f, more) {
  const q = new URLSearchParams({ ...f, limit: '50' });
  if (more && state.next != null) q.set('after', state.next);
  const page = await api('GET', `/v1/instances?${q}`);
  state.list = more ? [...state.list, ...page.instances] : page.instances;
  state.next = page.next;
  fill('#instances', instanceRows(state.list));
  $('#instances').dataset.query = q.toString();
  $('#more').hidden = page.next == null;
  $('#instances-count').textContent = `${state.list.length} shown` + (page.next == null ? '' : ', more to come');
}

async function showInstances(query) {
  const f = filtersOf(query);
  for (const k of FILTERS) $('#f-' + k).value = f[k] || '';
  await loadInstances(f, false);
}

// --- instances: detail ------------------------------------------------------------

function facts(sel, pairs) {
  $(sel).replaceChildren(...pairs.flatMap(([k, v, key]) => [el('dt', { text: k }),
    el('dd', { 'data-fact': key || k.toLowerCase(), text: v == null || v === '' ? '-' : String(v) })]));
}

// One line for what an event's action did (its outcome, as recorded).
function outcomeText(e) {
  const o = e.outcome || {};
  switch (e.action) {
    case 'create': case 'reevaluate':
      return `score ${o.score}, ${o.temperature}, ${o.maturity}, recommends ${o.recommendation}`;
    case 'review': return o.decision + (o.note ? `: ${o.note}` : '');
    case 'assign': return ['ar', 'sr', 'fr'].map((r) => `${r.toUpperCase()} ${(o.team || {})[r] || '-'}`).join(', ');
    case 'decide': return `${o.kdp} ${o.outcome} at ${o.level} level by ${o.decided_by}, ${money(o.value)}, ${terms(o)}`;
    case 'sign': return o.contract ? `signed ${money(o.contract.value)}, net ${o.contract.net_days} days` : 'signed';
    case 'milestone': return o.milestone ? `${o.milestone.kind} ${money(o.milestone.amount)}${o.milestone.ref ? ' ' + o.milestone.ref : ''}` : '';
    case 'close': return `${o.outcome}: ${o.reason || ''}`;
    default: { const t = JSON.stringify(o); return t.length > 160 ? t.slice(0, 157) + '...' : t; }
  }
}

// A review decided in a meeting cites it (payload.meeting): a link to its record.
function meetingLink(e) {
  const m = e.payload && e.payload.meeting;
  return m ? [' (', el('a', { href: `#/reviews/${m}`, 'data-meeting': m, text: `meeting ${m}` }), ')'] : [];
}

function gateRows(gates) {
  const order = ['ATI', 'ATB', 'ATC', 'ATAC', 'ATCC'];
  const names = [...order.filter((k) => gates[k]), ...Object.keys(gates).filter((k) => !order.includes(k))];
  return names.map((k) => {
    const g = gates[k];
    const conds = (g.conditions || []).map((c) => `${c.text} (${c.owner}, due ${c.due})`).join('; ');
    return el('tr', { 'data-kdp': k },
      el('td', { text: k }), el('td', { 'data-outcome': g.outcome, text: g.outcome + (conds ? `: ${conds}` : '') }),
      el('td', { 'data-level': g.level, text: g.level }), el('td', { 'data-decided-by': g.decided_by, text: g.decided_by }),
      el('td', { text: g.at || '-' }), el('td', { class: 'num', 'data-value': g.value, text: money(g.value) }),
      el('td', { text: terms(g) }));
  });
}

async function showReceivables(inst) {
  const box = $('#detail-receivables');
  if (!inst.contract) { box.replaceChildren(el('p', { class: 'muted', text: 'no contract yet' })); return; }
  const c = inst.contract;
  const parts = [el('p', { 'data-contract': c.value, text: `Signed ${c.signed_at || '-'}: ${money(c.value)}, ` +
    (c.terms || []).map((t) => `${t.milestone} ${t.percent}%`).join(' / ') + `, invoices net ${c.net_days} days` })];
  const r = await api('GET', `/v1/instances/${inst.id}/receivables?as_of=${asOf()}`);
  parts.push(el('dl', { class: 'facts', id: 'detail-money' },
    ...[['Invoiced', r.invoiced, 'invoiced'], ['Paid', r.paid, 'paid'], ['Outstanding', r.outstanding, 'outstanding'],
        [`Overdue as of ${r.as_of}`, r.overdue_amount, 'overdue_amount']]
      .flatMap(([k, v, key]) => [el('dt', { text: k }), el('dd', { 'data-fact': key, 'data-amount': v, text: money(v) })])));
  if (r.overdue.length) {
    const t = el('table', { class: 'stack', id: 'detail-overdue' },
      el('thead', {}, el('tr', {}, ...['Invoice', 'Amount', 'Due', 'Days overdue', 'Escalate to'].map((h) => el('th', { text: h })))),
      el('tbody', {}, ...r.overdue.map((i) => el('tr', { 'data-ref': i.ref || '' },
        el('td', { text: i.ref || '-' }), el('td', { class: 'num', 'data-amount': i.amount, text: money(i.amount) }),
        el('td', { text: i.due }), el('td', { class: 'num', 'data-days': i.days, text: String(i.days) }),
        el('td', { 'data-escalate': i.escalate_to, text: i.escalate_to })))));
    labelCells(t);
    parts.push(t);
  } else parts.push(el('p', { class: 'muted', text: 'nothing overdue' }));
  box.replaceChildren(...parts);
}

async function showDetail(id) {
  const [inst, ev] = await Promise.all([api('GET', `/v1/instances/${id}`), api('GET', `/v1/instances/${id}/events`)]);
  $('#detail').dataset.instance = inst.id;
  $('#detail-title').textContent = `#${inst.id} ${inst.title || ''}`;
  const e = inst.evaluation || {};
  facts('#detail-head', [['Stage', stageOf(inst), 'stage'], ['Customer', inst.customer], ['Office', inst.office],
    ['Region', inst.region], ['Value', money(valueOf(inst), currencyOf(inst)), 'value'], ['Temperature', e.temperature],
    ['Score', e.score], ['Recommendation', e.recommendation],
    ...('owner' in inst ? [['Owner', inst.owner, 'owner']] : []),
    ['Entered', Object.entries(inst.entered || {}).map(([s, d]) => `${s} ${d}`).join(', '), 'entered'],
    ['HQ rules', inst.rules && inst.rules.hq != null ? `v${inst.rules.hq}` : '-', 'rules']]);
  const team = inst.team || {};
  facts('#detail-team', [['AR (account)', team.ar, 'ar'], ['SR (solution)', team.sr, 'sr'], ['FR (fulfilment)', team.fr, 'fr']]);
  fill('#detail-gates', gateRows(inst.gates || {}));
  if (!Object.keys(inst.gates || {}).length)
    $('#detail-gates tbody').append(el('tr', {}, el('td', { class: 'muted', text: 'no decision yet' })));
  fill('#detail-timeline', ev.events.map((x) => el('tr', { 'data-seq': x.seq },
    el('td', { 'data-date': x.date, text: x.date }), el('td', { text: String(x.seq) }),
    el('td', { 'data-action': x.action, text: x.action }),
    el('td', { class: 'outcome' }, el('span', {}, outcomeText(x), ...meetingLink(x))),
    el('td', { text: x.actor }), el('td', { class: 'muted', text: x.at }))));
  await showReceivables(inst);
}

// --- lead management: units, people ---------------------------------------------------

// The units of the principal's scope (hq, regions, offices), from the targets
// tree the page loads anyway; the meeting and the scorecard choose among them.
function unitsOf(n, out = []) {
  if (/^(hq|region\/[^/]+|office\/[^/]+)$/.test(n.unit)) out.push(n.unit);
  for (const c of n.children || []) unitsOf(c, out);
  return out;
}
// An office's meeting by default: the principal's own office, else the first
// office of its scope.
function defaultUnit() {
  if (state.me.unit.startsWith('office/')) return state.me.unit;
  return (state.units || []).find((u) => u.startsWith('office/')) || state.me.unit;
}
function unitOptions(sel, chosen) {
  const units = state.units && state.units.length ? state.units : [state.me.unit];
  $(sel).replaceChildren(...[...new Set([...units, chosen])].map((u) => el('option', { value: u, text: u })));
  $(sel).value = chosen;
}
const today = () => new Date().toISOString().slice(0, 10);
function addDays(date, n) {
  const d = new Date(date + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

// The people of some offices, one call an office (never one a lead; more
// only past 500 people): id -> person.
async function officePeople(office) {
  const out = [];
  for (let after = null; ;) {
    const q = new URLSearchParams({ office, limit: '500', ...(after ? { after } : {}) });
    const page = await api('GET', `/v1/people?${q}`);
    out.push(...page.people);
    if (page.next == null) return out;
    after = page.next;
  }
}
async function peopleOf(officeIds) {
  const lists = await Promise.all(officeIds.map(officePeople));
  return new Map(lists.flat().map((p) => [p.id, p]));
}
const personName = (id) => {
  const p = id && state.people && state.people.get(id);
  return p ? `${p.name} (${p.id})` : (id || '-');
};

// --- lead management: the review meeting ------------------------------------------------

// The three questions the meeting answers for each lead (DOMAIN.md). The
// verdict of each is the evaluation's, by CONTRACT section 4's fixed
// cut-offs: the first fails exactly when the recommendation is close (no
// strategic fit, or unacceptable risk), the second is the maturity (budget
// and horizon against the thresholds), the third the temperature (the score
// against hot and warm). Under each, the lead's own ratings it rests on,
// grouped as HQ's lead.lua declares its signals; a signal named in neither
// group goes with the third question.
const QUESTION_SIGNALS = [['strategic_fit', 'risk'], ['urgency', 'procurement_path']];
const MEETING_ROLES = ['admin', 'reviewer'];   // who may record a meeting (POST /v1/reviews)

function ratings(l, q) {
  const s = l.signals || {}, grouped = QUESTION_SIGNALS.flat();
  const names = q < QUESTION_SIGNALS.length ? QUESTION_SIGNALS[q] : Object.keys(s).filter((n) => !grouped.includes(n));
  return names.filter((n) => n in s).map((n) => `${n} ${s[n]}`).join(', ');
}

function threeQuestions(l) {
  const e = l.evaluation || {}, t = e.thresholds || {}, b = l.budget || {};
  const first = e.recommendation === 'close';
  const rows = [
    ['Is it a lead?', first ? 'no' : 'yes',
     first ? 'no strategic fit, or the risk is not acceptable' : 'fits our strategy, the risk is acceptable'],
    ['How far is it?', e.maturity,
     `budget ${b.status || 'none'} ${money(b.amount, b.currency)} (mature: approved, from ${money(t.mature_budget)}); ` +
     `decision in ${l.horizon_months ?? '-'} months (mature: within ${t.horizon_months})`],
    ['Can we win?', e.temperature, `score ${e.score} (hot from ${t.hot}, warm from ${t.warm})`],
  ];
  return el('ol', { class: 'questions' }, ...rows.map(([q, verdict, why], i) => {
    const r = ratings(l, i);
    return el('li', { 'data-question': i + 1, 'data-verdict': verdict },
      el('span', { class: 'q', text: q + ' ' }), el('b', { text: verdict }),
      el('div', { class: 'muted', text: why + (r ? `; rated ${r}` : '') }));
  }));
}

function decisionCell(l, people, canDecide) {
  const id = l.instance;
  const choice = el('select', { 'data-decision': id, 'aria-label': `decision for #${id}` },
    ...[['', 'no decision'], ['convert', 'convert'], ['nurture', 'nurture'], ['close', 'close']]
      .map(([v, t]) => el('option', { value: v, text: t })));
  const note = el('input', { 'data-note': id, maxlength: '200', placeholder: 'note', 'aria-label': `note for #${id}` });
  const next = el('input', { type: 'date', 'data-next-review': id, min: addDays(state.meeting.date, 1),
                             'aria-label': `next review of #${id}` });
  // The nurturer: an active person of the lead's office; the current owner first.
  const mates = [...people.values()].filter((p) => p.office === l.office && p.active);
  const owner = el('select', { 'data-nurturer': id, 'aria-label': `nurturer of #${id}` },
    ...(l.owner && !mates.some((p) => p.id === l.owner) ? [el('option', { value: l.owner, text: personName(l.owner) })] : []),
    ...(l.owner ? [] : [el('option', { value: '', text: 'nobody yet' })]),
    ...mates.map((p) => el('option', { value: p.id, text: `${p.name} (${p.id}; ${p.roles.join(', ')})` })));
  owner.value = l.owner || '';
  const nurture = el('div', { class: 'nurture', hidden: '' },
    el('label', {}, 'next review ', next), el('label', {}, 'nurturer ', owner),
    el('span', { class: 'muted', text: 'no date: HQ\'s nurture days after the meeting' }));
  choice.addEventListener('change', () => { nurture.hidden = choice.value !== 'nurture'; countDecisions(); });
  for (const c of [choice, note, next, owner]) c.disabled = !canDecide;
  return el('td', { class: 'decide' }, el('div', {}, choice, note, nurture,
    el('div', { class: 'error refused', 'data-refused-for': id })));
}

function queueRow(l, i, people, canDecide) {
  const e = l.evaluation || {};
  return el('tr', { 'data-lead': l.instance, 'data-priority': l.priority },
    el('td', { class: 'num', text: String(i + 1) }),
    el('td', {}, el('div', {}, instanceLink(l.instance, l.title),
      el('div', { class: 'muted', text: [l.customer, l.office, l.source].filter(Boolean).join(', ') }))),
    el('td', { 'data-owner': l.owner ?? '', text: personName(l.owner) }),
    el('td', { class: 'num', 'data-age': l.age_days }, el('div', {}, `${l.age_days} days`,
      ...(l.stale ? [el('div', { class: 'stale', 'data-stale': 'yes', text: 'stale' })] : []),
      ...(l.next_review ? [el('div', { class: 'muted', 'data-due': l.next_review, text: `due ${l.next_review}` })] : []))),
    el('td', { 'data-score': e.score, 'data-temperature': e.temperature, 'data-maturity': e.maturity },
      el('div', {}, `score ${e.score}, ${e.temperature}, ${e.maturity}`,
        el('div', {}, 'recommends ', el('b', { 'data-recommendation': e.recommendation, text: e.recommendation })),
        el('ul', { class: 'reasons' }, ...(e.reasons || []).map((r) => el('li', { text: r }))))),
    el('td', { class: 'three' }, threeQuestions(l)),
    decisionCell(l, people, canDecide));
}

function countDecisions() {
  const n = [...document.querySelectorAll('#queue [data-decision]')].filter((s) => s.value).length;
  $('#m-count').textContent = state.meeting && !state.meeting.canDecide
    ? `a ${state.me.role} may read the queue; admins and reviewers record meetings`
    : `${n} decision${n === 1 ? '' : 's'} chosen`;
  $('#m-submit').disabled = !n || !state.meeting.canDecide;
}

async function showMeeting(query) {
  const q = new URLSearchParams(query);
  const unit = q.get('unit') || defaultUnit(), date = q.get('date') || today();
  unitOptions('#m-unit', unit);
  $('#m-date').value = date;
  $('#m-result').replaceChildren();
  const queue = await api('GET', `/v1/reviews/queue?${new URLSearchParams({ unit, as_of: date })}`);
  state.people = await peopleOf([...new Set(queue.leads.map((l) => l.office))]);
  state.meeting = { unit: queue.unit, date: queue.as_of, canDecide: MEETING_ROLES.includes(state.me.role) };
  $('#meeting-card').dataset.queue = `${queue.unit}@${queue.as_of}`;
  $('#m-summary').textContent = `${queue.leads.length} lead${queue.leads.length === 1 ? '' : 's'} of ${queue.unit} ` +
    `waiting for review on ${queue.as_of}` + (queue.truncated ? ' (the oldest 500 due shown)' : '');
  fill('#queue', queue.leads.map((l, i) => queueRow(l, i, state.people, state.meeting.canDecide)));
  if (!queue.leads.length) $('#queue tbody').append(el('tr', {}, el('td', { class: 'muted', text: 'nothing to review' })));
  countDecisions();
}

// The decisions chosen on the page, in queue order.
function chosenDecisions() {
  const out = [];
  for (const tr of document.querySelectorAll('#queue tr[data-lead]')) {
    const id = Number(tr.dataset.lead), d = tr.querySelector('[data-decision]').value;
    if (!d) continue;
    const item = { instance: id, decision: d };
    const note = tr.querySelector('[data-note]').value.trim();
    if (note) item.note = note;
    if (d === 'nurture') {
      const next = tr.querySelector('[data-next-review]').value, owner = tr.querySelector('[data-nurturer]').value;
      if (next) item.next_review = next;
      if (owner && owner !== (tr.querySelector('[data-owner]').dataset.owner || '')) item.owner = owner;
    }
    out.push(item);
  }
  return out;
}

// One meeting, all or nothing: a refused one names every refused decision
// beside its lead, and nothing of it was recorded.
async function submitMeeting() {
  for (const tr of document.querySelectorAll('#queue tr[data-refused]')) delete tr.dataset.refused;
  for (const c of document.querySelectorAll('#queue [data-refused-for]')) c.textContent = '';
  const decisions = chosenDecisions();
  const result = $('#m-result');
  if (!decisions.length) { result.textContent = 'choose a decision for at least one lead'; return; }
  $('#m-submit').disabled = true;
  try {
    const rec = await api('POST', '/v1/reviews', { unit: state.meeting.unit, held_at: state.meeting.date, decisions });
    await showMeeting(new URLSearchParams({ unit: rec.unit, date: rec.held_at }).toString());
    result.className = 'ok';
    result.replaceChildren(el('a', { href: `#/reviews/${rec.id}`, 'data-meeting': rec.id, text: `Meeting ${rec.id}` }),
      ` recorded: ${rec.decisions.length} decision${rec.decisions.length === 1 ? '' : 's'} of ${rec.unit} held on ${rec.held_at}`);
  } catch (e) {
    result.className = 'error';
    const items = (e.code === 'items_refused' && e.details && e.details.items) || [];
    const unplaced = [];
    for (const it of items) {
      const tr = document.querySelector(`#queue tr[data-lead="${it.instance}"]`);
      if (!tr) { unplaced.push(`#${it.instance}: ${it.message}`); continue; }
      tr.dataset.refused = it.code;
      tr.querySelector('[data-refused-for]').textContent = it.message;
    }
    result.textContent = e.message + (unplaced.length ? `: ${unplaced.join('; ')}` : '');
    if (e.status === 401) throw e;
    countDecisions();
  }
}

// Set every lead without a decision to what its evaluation recommends.
function takeRecommendations() {
  for (const tr of document.querySelectorAll('#queue tr[data-lead]')) {
    const s = tr.querySelector('[data-decision]');
    if (!s.value && !s.disabled) {
      s.value = tr.querySelector('[data-recommendation]').dataset.recommendation;
      s.dispatchEvent(new Event('change'));
    }
  }
}

// A recorded meeting (GET /v1/reviews/ID).
async function showRecord(id) {
  const r = await api('GET', `/v1/reviews/${id}`);
  $('#record').dataset.meeting = r.id;
  $('#record-title').textContent = `Review meeting ${r.id}: ${r.unit}, ${r.held_at}`;
  facts('#record-head', [['Unit', r.unit, 'unit'], ['Held on', r.held_at, 'held_at'],
    ['Decisions', r.decisions.length, 'count'], ['Recorded', r.created_at, 'created_at'],
    ['By', r.created_by + (r.person ? ` (${r.person})` : ''), 'created_by']]);
  fill('#record-decisions', r.decisions.map((d) => el('tr', { 'data-instance': d.instance },
    el('td', {}, instanceLink(d.instance)), el('td', { 'data-decision': d.decision, text: d.decision }),
    el('td', { text: d.note || '' }), el('td', { 'data-stage': d.stage, text: d.stage }),
    el('td', { 'data-owner': d.owner ?? '', text: d.owner ?? '-' }),
    el('td', { 'data-next-review': d.next_review ?? '', text: d.next_review ?? '-' }))));
  $('#record-back').href = `#/meeting?${new URLSearchParams({ unit: r.unit, date: r.held_at })}`;
}

// --- lead management: the scorecard of the week --------------------------------------------

// ISO 8601 week of a date (UTC): the week of its Thursday.
function isoWeek(date = new Date()) {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  d.setUTCDate(d.getUTCDate() + 3 - (d.getUTCDay() + 6) % 7);
  const week = 1 + Math.floor((d - Date.UTC(d.getUTCFullYear(), 0, 1)) / (7 * 86400000));
  return `${d.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

async function showScorecard(query) {
  const q = new URLSearchParams(query);
  const unit = q.get('unit') || defaultUnit(), week = q.get('week') || isoWeek();
  unitOptions('#s-unit', unit);
  $('#s-week').value = week;
  const s = await api('GET', `/v1/scorecards?${new URLSearchParams({ unit, week })}`);
  $('#scorecard-card').dataset.scorecard = `${s.unit}@${s.week}`;
  $('#s-range').textContent = `${s.unit}, week ${s.week}: ${s.from} to ${s.to}`;
  const below = s.people.filter((p) => p.below_min);
  const missing = s.customers.filter((c) => !c.budget_table.collected);
  const overdue = s.customers.filter((c) => c.previous && c.previous.overdue);
  const points = s.people.reduce((a, p) => a + p.points_lost, 0);
  const year = s.customers.length ? s.customers[0].budget_table.year : null;
  $('#s-summary').replaceChildren(
    el('span', { class: 'chip' + (below.length ? ' total' : ''), 'data-below': below.length,
                 text: `${below.length} of ${s.people.length} below the visit minimum` }),
    el('span', { class: 'chip' + (missing.length ? ' total' : ''), 'data-missing': missing.length,
                 text: `${missing.length} of ${s.customers.length} customers without ${year ?? 'next year'}'s budget table` }),
    el('span', { class: 'chip', 'data-overdue': overdue.length, text: `${overdue.length} with this year's table overdue` }),
    el('span', { class: 'chip', 'data-points': points, text: `${points} points lost` }));
  fill('#s-people', s.people.map((p) => el('tr', { 'data-person': p.person, class: p.below_min ? 'below' : undefined },
    el('td', { text: `${p.name} (${p.person})` }), el('td', { text: p.office }), el('td', { text: (p.roles || []).join(', ') }),
    el('td', { class: 'num', 'data-visits': p.visits, text: String(p.visits) }),
    el('td', { class: 'num', 'data-min': p.visits_min, text: String(p.visits_min) }),
    el('td', { 'data-below': p.below_min ? 'yes' : 'no', text: p.below_min ? `yes, ${p.visits_min - p.visits} short` : 'no' }),
    el('td', { class: 'num', 'data-tables-overdue': p.budget_tables_overdue, text: String(p.budget_tables_overdue) }),
    el('td', { class: 'num', 'data-points': p.points_lost, text: String(p.points_lost) }))));
  if (!s.people.length) $('#s-people tbody').append(el('tr', {}, el('td', { class: 'muted', text: 'no active people' })));
  fill('#s-customers', s.customers.map((c) => {
    const t = c.budget_table, p = c.previous || {};
    return el('tr', { 'data-customer': c.customer, class: t.collected ? undefined : 'missing' },
      el('td', { text: `${c.name} (${c.customer})` }), el('td', { text: c.office }),
      el('td', { 'data-collected': t.collected ? 'yes' : 'no', 'data-year': t.year,
                 text: t.collected ? `${t.year}: collected ${t.collected_at}` : `${t.year}: missing` }),
      el('td', { text: t.deadline }),
      el('td', { 'data-previous-overdue': p.overdue ? 'yes' : 'no',
                 text: p.overdue ? `${p.year}: missing, overdue since ${p.deadline}` : `${p.year}: not overdue` }));
  }));
  if (!s.customers.length) $('#s-customers tbody').append(el('tr', {}, el('td', { class: 'muted', text: 'no customers' })));
}

// --- strategy to numbers: the pipeline tree and the process metrics ---------------------

// The figure the coverage bar and its percentage show against the target:
// coverage as the API defines it, or the won part alone, or won plus every
// open value unweighted (what the pipeline would give if all of it closed).
const MEASURES = {
  coverage: { label: 'won + weighted', parts: (n) => [['won', n.won], ['weighted', n.weighted]] },
  won: { label: 'won', parts: (n) => [['won', n.won]] },
  open: { label: 'won + open', parts: (n) => [['won', n.won], ['open', n.open]] },
};
const CATEGORIES = ['commit', 'best_case', 'pipeline', 'omitted'];
const PERIOD_RE = /^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$/;
const pct1 = (x) => (x * 100).toFixed(1) + '%';

// A node's coverage cell: a bar of the chosen measure's parts against the
// target, capped at the full width (the percentage says how far past 100).
function coverageCell(n, measure) {
  const td = el('td', { class: 'coverage', 'data-coverage': n.coverage ?? '' });
  if (n.target == null) { td.append(el('span', { class: 'muted', 'data-no-target': '', text: 'no target' })); return td; }
  if (n.target <= 0) { td.append(el('span', { class: 'muted', 'data-no-target': '', text: 'target 0' })); return td; }
  const parts = MEASURES[measure].parts(n), sum = parts.reduce((a, [, v]) => a + v, 0);
  const bar = el('div', { class: 'bar stacked', role: 'img',
    'aria-label': `${MEASURES[measure].label}: ${pct1(sum / n.target)} of the target` });
  let left = 100;
  for (const [k, v] of parts) {
    const w = Math.max(0, Math.min(left, 100 * v / n.target));
    left -= w;
    bar.append(el('span', { class: k, style: `width:${w}%` }));
  }
  td.append(el('div', {}, bar, el('span', { class: 'pct', 'data-pct': (sum / n.target).toString(), text: pct1(sum / n.target) })));
  return td;
}

function categoriesRow(n, depth) {
  const items = CATEGORIES.filter((k) => n.by_category[k] && n.by_category[k].count).map((k) => {
    const c = n.by_category[k];
    return el('li', { class: 'chip', 'data-category': k, 'data-count': c.count, 'data-value': c.value, 'data-weighted': c.weighted },
      el('b', { text: `${k.replace('_', ' ')} ${c.count}` }), `: ${money(c.value)}, weighted ${money(c.weighted)}`);
  });
  if (!items.length) return null;
  return el('tr', { class: 'cats-row', 'data-cats-of': n.unit, 'data-depth': depth },
    el('td', { colspan: '7', 'data-label': 'Forecast', style: `padding-left:${2.45 + 1.1 * depth}rem` },
      el('ul', { class: 'cats', 'aria-label': `forecast categories of ${n.unit}` }, ...items)));
}

// The tree as table rows, parents first; a row knows its parent so a
// collapsed node hides its whole subtree.
function pipelineRows(n, depth, parent, measure, out) {
  const kids = n.children || [];
  const open = state.pipeOpen.has(n.unit);
  // One element in each cell: below 640 px a cell is a grid of its label and
  // its content.
  const head = el('span', { class: 'head' });
  if (kids.length)
    head.append(el('button', { type: 'button', class: 'toggle', 'data-toggle': n.unit, 'aria-expanded': String(open),
      'aria-label': `${open ? 'collapse' : 'expand'} ${n.unit}`, text: open ? '\u25be' : '\u25b8' }));
  else head.append(el('span', { class: 'toggle-space' }));
  head.append(el('span', { class: 'name', text: n.unit }), ' ', el('span', { class: 'level muted', text: n.level }));
  const unitCell = el('td', { class: 'unit', style: `padding-left:${0.5 + 1.1 * depth}rem` }, head);
  const gap = n.gap == null ? el('td', { class: 'num', 'data-gap': '', text: '-' })
    : el('td', { class: 'num' + (n.gap <= 0 ? ' covered' : ''), 'data-gap': n.gap, text: money(n.gap) });
  const cats = categoriesRow(n, depth);
  out.push(el('tr', { 'data-unit': n.unit, 'data-level': n.level, 'data-depth': depth, 'data-parent': parent ?? undefined,
                      class: cats ? 'has-cats' : undefined },
    unitCell,
    el('td', { class: 'num', 'data-target': n.target ?? '', text: n.target == null ? 'no target' : money(n.target) }),
    el('td', { class: 'num', 'data-won': n.won, text: money(n.won) }),
    el('td', { class: 'num', 'data-open': n.open, text: money(n.open) }),
    el('td', { class: 'num', 'data-weighted': n.weighted, text: money(n.weighted) }),
    coverageCell(n, measure), gap));
  if (cats) out.push(cats);
  for (const c of kids) pipelineRows(c, depth + 1, n.unit, measure, out);
}

// Hide every row under a collapsed node (a row is shown when each of its
// ancestors is open); a node's categories line goes with it.
function applyExpansion() {
  const rows = [...document.querySelectorAll('#pipeline tbody tr[data-unit]')];
  const shown = new Map();
  for (const tr of rows) {
    const p = tr.dataset.parent;
    const visible = !p || (shown.get(p) && state.pipeOpen.has(p));
    shown.set(tr.dataset.unit, visible);
    tr.hidden = !visible;
    const b = tr.querySelector('button.toggle');
    if (b) {
      const open = state.pipeOpen.has(tr.dataset.unit);
      b.setAttribute('aria-expanded', String(open));
      b.setAttribute('aria-label', `${open ? 'collapse' : 'expand'} ${tr.dataset.unit}`);
      b.textContent = open ? '\u25be' : '\u25b8';
    }
  }
  for (const tr of document.querySelectorAll('#pipeline tbody tr[data-cats-of]')) tr.hidden = !shown.get(tr.dataset.catsOf);
}

function pipelineQuery(query) {
  const q = new URLSearchParams(query);
  const measure = MEASURES[q.get('measure')] ? q.get('measure') : 'coverage';
  return { unit: q.get('unit') || state.me.unit, period: q.get('period') || String(new Date().getFullYear()), measure };
}

async function showPipeline(query) {
  const { unit, period, measure } = pipelineQuery(query);
  unitOptions('#p-unit', unit);
  $('#p-period').value = period;
  $('#p-measure').value = measure;
  loadProcessMetrics(unit, period);   // a job: shown when it is done, the tree does not wait for it
  const tree = await api('GET', `/v1/pipeline?${new URLSearchParams({ period, unit })}`);
  // A new root opens its first two levels; the choices made on the page stay
  // while the same root is shown.
  if (state.pipeRoot !== tree.unit) {
    state.pipeRoot = tree.unit;
    state.pipeOpen = new Set([tree.unit, ...(tree.children || []).map((c) => c.unit)]);
  }
  const rows = [];
  pipelineRows(tree, 0, null, measure, rows);
  fill('#pipeline', rows);
  for (const td of document.querySelectorAll('#pipeline tr[data-cats-of] > td')) td.dataset.label = 'Forecast';
  applyExpansion();
  const card = $('#pipeline-card');
  card.dataset.pipeline = `${tree.unit}@${tree.period}`;
  card.dataset.measure = measure;
  const nodes = rows.filter((r) => r.dataset.unit).length;
  $('#p-summary').textContent = `${tree.unit}, ${tree.period}: ${nodes} node${nodes === 1 ? '' : 's'}` +
    (tree.refreshed ? `; ${tree.refreshed} forecast${tree.refreshed === 1 ? '' : 's'} recomputed under the active rules` : '');
}

// The process metrics in process order, lead to cash. Each row: the stage it
// belongs to, what it is, its value and the counts it comes from.
const rate = (r) => r.rate == null ? 'nothing decided' : pct1(r.rate);
const daysText = (d) => d.days == null ? 'none' : `${d.days} day${d.days === 1 ? '' : 's'}`;
const PLURAL = { lead: 'leads', opportunity: 'opportunities', contract: 'contracts' };
function metricRows(m) {
  const conv = (key, step, from, to) => [step, `Conversion ${from} \u2192 ${to}`, `conversion.${key}`, m.conversion[key].rate, rate(m.conversion[key]),
    { converted: m.conversion[key].converted, decided: m.conversion[key].decided },
    `${m.conversion[key].converted} of ${m.conversion[key].decided} ${PLURAL[from]} that left the stage in the period`];
  // Stays whose end is dated before their start count as 0 days; the page says how many.
  const back = (d) => `, ${d.dated_back} dated back`;
  const med = (stage) => [stage, `Median days at ${stage}`, `median_days.${stage}`, m.median_days[stage].days, daysText(m.median_days[stage]),
    { count: m.median_days[stage].count, dated_back: m.median_days[stage].dated_back },
    `${m.median_days[stage].count} stay${m.median_days[stage].count === 1 ? '' : 's'} ended in the period${back(m.median_days[stage])}`];
  const src = Object.entries(m.leads_by_source).filter(([k]) => k !== 'total');
  return [
    ['lead', 'Leads created, by source', 'leads_by_source', m.leads_by_source.total, String(m.leads_by_source.total),
      Object.fromEntries(src), src.length ? src.map(([k, v]) => `${k} ${v}`).join(', ') : 'no leads'],
    conv('lead_to_opportunity', 'lead', 'lead', 'opportunity'), med('lead'),
    conv('opportunity_to_contract', 'opportunity', 'opportunity', 'contract'), med('opportunity'),
    conv('contract_to_won', 'contract', 'contract', 'won'), med('contract'),
    ['closed', 'Win rate', 'win_rate', m.win_rate.rate, rate(m.win_rate), { won: m.win_rate.won, decided: m.win_rate.decided },
      `${m.win_rate.won} won of ${m.win_rate.decided} closed won or lost`],
    ['cash', 'Median lead-to-cash cycle', 'median_cycle_days', m.median_cycle_days.days, daysText(m.median_cycle_days),
      { count: m.median_cycle_days.count, dated_back: m.median_cycle_days.dated_back },
      `${m.median_cycle_days.count} won in the period${back(m.median_cycle_days)}`],
    ['cash', 'DSO', 'dso', m.dso.days, daysText(m.dso), { instances: m.dso.instances, paid: m.dso.paid },
      `${m.dso.instances} closed won, ${money(m.dso.paid)} paid`],
    ['cash', 'Overdue ratio', 'overdue_ratio', m.overdue_ratio.ratio, m.overdue_ratio.ratio == null ? 'nothing outstanding' : pct1(m.overdue_ratio.ratio),
      { overdue: m.overdue_ratio.overdue, outstanding: m.overdue_ratio.outstanding, contracts: m.overdue_ratio.contracts, as_of: m.overdue_ratio.as_of },
      `${money(m.overdue_ratio.overdue)} overdue of ${money(m.overdue_ratio.outstanding)} outstanding, ` +
      `${m.overdue_ratio.contracts} contract${m.overdue_ratio.contracts === 1 ? '' : 's'}, as of ${m.overdue_ratio.as_of}`],
  ];
}

// The daemon computes the metrics as a job and answers when it is done; the
// panel says "computing" meanwhile (with the seconds waited). A full job
// queue (503 unavailable) is asked again, a few times, with a growing pause.
// Only the newest request may fill the panel.
const METRICS_RETRIES = 5;
async function loadProcessMetrics(unit, period) {
  const gen = state.metricsGen = (state.metricsGen || 0) + 1;
  const card = $('#metrics-card'), stateEl = $('#pm-state'), started = Date.now();
  const current = () => gen === state.metricsGen && !$('#view-pipeline').hidden;
  card.dataset.state = 'computing';
  card.dataset.metrics = `${unit}@${period}`;
  $('#pm-title').textContent = `${unit}, ${period}`;
  $('#pmetrics tbody').replaceChildren();
  stateEl.className = 'computing';
  const tick = () => { if (current() && card.dataset.state === 'computing')
    stateEl.textContent = `computing the metrics of ${unit} for ${period}\u2026 ${Math.floor((Date.now() - started) / 1000)} s`; };
  tick();
  const timer = setInterval(tick, 1000);
  try {
    let m;
    for (let attempt = 0; ; attempt++) {
      try { m = await api('GET', `/v1/process-metrics?${new URLSearchParams({ period, unit })}`); break; }
      catch (e) {
        if (e.status !== 503 || attempt >= METRICS_RETRIES || !current()) throw e;
        await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
      }
    }
    if (!current()) return;
    fill('#pmetrics', metricRows(m).map(([step, name, key, raw, text, counts, from]) => {
      const countAttrs = Object.fromEntries(Object.entries(counts).map(([k, v]) => [`data-n-${k.replace(/_/g, '-')}`, v]));
      return el('tr', { 'data-metric': key, 'data-step': step },
        el('td', { text: step }), el('td', { text: name }),
        el('td', { class: 'num', 'data-value': raw ?? '', text }),
        el('td', { class: 'counts', ...countAttrs, text: from }));
    }));
    card.dataset.state = 'done';
    stateEl.className = '';
    stateEl.textContent = `${m.unit}, ${m.from} to ${m.to} (the end excluded), computed in ${((Date.now() - started) / 1000).toFixed(1)} s`;
  } catch (e) {
    if (!current()) return;
    card.dataset.state = 'error';
    stateEl.className = 'error';
    stateEl.textContent = `process metrics not available: ${e.message}`;
    if (e.status === 401) { clearAll(); document.body.dataset.loaded = 'refused'; say(`token refused: ${e.message}`); }
  } finally { clearInterval(timer); }
}

// --- views, identity, refresh ---------------------------------------------------------

const VIEWS = ['overview', 'instances', 'detail', 'meeting', 'record', 'scorecard', 'pipeline'];

function route() {
  const h = location.hash.replace(/^#/, '') || '/';
  const [path, query] = h.split('?');
  const m = path.match(/^\/instances\/(\d+)$/);
  if (m) return { view: 'detail', id: m[1] };
  if (path === '/instances') return { view: 'instances', query: query || '' };
  const r = path.match(/^\/reviews\/(\d+)$/);
  if (r) return { view: 'record', id: r[1] };
  if (path === '/meeting') return { view: 'meeting', query: query || '' };
  if (path === '/scorecard') return { view: 'scorecard', query: query || '' };
  if (path === '/pipeline') return { view: 'pipeline', query: query || '' };
  return { view: 'overview' };
}

function clearAll() {
  state.me = null;
  $('#who').textContent = '';
  for (const t of document.querySelectorAll('main tbody')) t.replaceChildren();
  for (const sel of ['#targets', '#overdue-summary', '#detail-head', '#detail-team', '#detail-receivables', '#waiting-total',
                     '#m-summary', '#m-result', '#m-count', '#record-head', '#record-title', '#s-range', '#s-summary',
                     '#p-summary', '#pm-state', '#pm-title'])
    $(sel).replaceChildren();
  state.meeting = null;
  state.people = null;
  state.pipeRoot = null;
  state.metricsGen = (state.metricsGen || 0) + 1;   /* a metrics answer still coming is dropped */
  delete $('#metrics-card').dataset.state;
  $('#detail-title').textContent = '';
  $('#review').hidden = true;
  $('#more').hidden = true;
  $('#instances-count').textContent = '';
}

async function render() {
  const r = route();
  for (const v of VIEWS) $('#view-' + v).hidden = v !== r.view;
  const nav = { detail: 'instances', record: 'meeting' }[r.view] || r.view;
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('current', a.dataset.nav === nav);
  if (!state.me) return;
  if (r.view === 'detail') await showDetail(r.id);
  else if (r.view === 'instances') await showInstances(r.query);
  else if (r.view === 'meeting') await showMeeting(r.query);
  else if (r.view === 'record') await showRecord(r.id);
  else if (r.view === 'scorecard') await showScorecard(r.query);
  else if (r.view === 'pipeline') await showPipeline(r.query);
  else await Promise.all([loadFunnel(), loadWaiting(), loadOverdue(), loadTargets(), loadRules(), loadEvents()]);
}

function levelOptions() {
  const sel = $('#waiting-level'), keep = sel.value;
  const mine = LEVELS.slice(0, LEVELS.indexOf(state.me.level) + 1);
  sel.replaceChildren(el('option', { value: '', text: 'every level I may take' }),
    ...mine.map((l) => el('option', { value: l, text: `${l} level only` })));
  sel.value = mine.includes(keep) ? keep : '';
}

async function refresh() {
  document.body.dataset.loaded = 'no';
  try {
    state.me = await api('GET', '/v1/me');
    $('#who').textContent = `${state.me.unit} (${state.me.role})`;
    levelOptions();
    // The filters' stage and office choices come from the funnel and the
    // targets tree, which the overview loads itself.
    if (route().view !== 'overview') await Promise.all([loadFunnel(), loadTargets()]);
    await render();
    say('');
    document.body.dataset.loaded = 'yes';
  } catch (e) {
    if (e.status === 401) {
      clearAll();
      document.body.dataset.loaded = 'refused';
      say(`token refused: ${e.message}`);
    } else {
      say(e.message);
      document.body.dataset.loaded = 'error';
    }
  }
}

async function rerender() {
  document.body.dataset.loaded = 'no';
  try { await render(); say(''); document.body.dataset.loaded = 'yes'; }
  catch (e) { say(e.message); document.body.dataset.loaded = 'error'; if (e.status === 401) { clearAll(); document.body.dataset.loaded = 'refused'; } }
}

$('#period').value = String(new Date().getFullYear());
$('#as-of').value = new Date().toISOString().slice(0, 10);
$('#token').value = state.token;
$('#login').addEventListener('submit', (ev) => {
  ev.preventDefault();
  state.token = $('#token').value.trim();
  sessionStorage.setItem('ltcd.token', state.token);
  clearAll();
  refresh();
});
$('#filters').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const q = new URLSearchParams();
  for (const k of FILTERS) { const v = $('#f-' + k).value.trim(); if (v) q.set(k, v); }
  goOrRerender('#/instances' + (q.toString() ? '?' + q : ''));
});
// The meeting's and the scorecard's choices go into the address, so a view
// can be bookmarked and the back button works. The page says it is loading
// from the moment it leaves the address it shows, not from the hashchange
// event a moment later: in between, it said 'loaded' for the old view.
function goOrRerender(next) {
  if (location.hash === next) { rerender(); return; }
  document.body.dataset.loaded = 'no';
  location.hash = next;
}
// A link to another view of the page, the same: loading from the click.
document.addEventListener('click', (ev) => {
  const a = ev.target instanceof Element ? ev.target.closest('a[href^="#/"]') : null;
  if (a && a.getAttribute('href') !== location.hash) document.body.dataset.loaded = 'no';
}, true);
$('#meeting-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  goOrRerender('#/meeting?' + new URLSearchParams({ unit: $('#m-unit').value, date: $('#m-date').value }));
});
$('#scorecard-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  goOrRerender('#/scorecard?' + new URLSearchParams({ unit: $('#s-unit').value, week: $('#s-week').value }));
});
$('#pipeline-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const period = $('#p-period').value.trim();
  if (!PERIOD_RE.test(period)) { say('period: expected YYYY, YYYY-Qn or YYYY-MM'); return; }
  goOrRerender('#/pipeline?' + new URLSearchParams({ unit: $('#p-unit').value, period, measure: $('#p-measure').value }));
});
$('#p-measure').addEventListener('change', () => $('#pipeline-form').requestSubmit());
$('#pipeline').addEventListener('click', (ev) => {
  const b = ev.target.closest('button[data-toggle]');
  if (!b) return;
  const u = b.dataset.toggle;
  if (state.pipeOpen.has(u)) state.pipeOpen.delete(u); else state.pipeOpen.add(u);
  applyExpansion();
});
$('#p-expand').addEventListener('click', () => {
  for (const b of document.querySelectorAll('#pipeline button[data-toggle]')) state.pipeOpen.add(b.dataset.toggle);
  applyExpansion();
});
$('#p-collapse').addEventListener('click', () => {
  state.pipeOpen = new Set(state.pipeRoot ? [state.pipeRoot] : []);
  applyExpansion();
});
$('#m-submit').addEventListener('click', () => submitMeeting().catch((e) => { say(e.message); if (e.status === 401) clearAll(); }));
$('#m-recommended').addEventListener('click', takeRecommendations);
$('#more').addEventListener('click', () => loadInstances(filtersOf(route().query), true).catch((e) => say(e.message)));
$('#review-close').addEventListener('click', () => { $('#review').hidden = true; });
$('#metric').addEventListener('change', () => loadTargets().catch((e) => say(e.message)));
$('#period').addEventListener('change', () => loadTargets().catch((e) => say(e.message)));
$('#waiting-level').addEventListener('change', () => loadWaiting().catch((e) => say(e.message)));
$('#as-of').addEventListener('change', () => Promise.all([loadWaiting(), loadOverdue()]).catch((e) => say(e.message)));
window.addEventListener('hashchange', rerender);
if (state.token) refresh(); else render();
setInterval(() => { if (state.token && state.me && !document.hidden && route().view === 'overview') rerender(); }, 15000);
