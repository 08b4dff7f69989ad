// The ltcd dashboard: plain JavaScript over the JSON API, nothing fetched
// from elsewhere. Every figure comes from an aggregate endpoint, so the page
// stays light however many instances there are.
'use strict';

const $ = (sel) => document.querySelector(sel);
const state = { token: sessionStorage.getItem('ltcd.token') || '', me: null };

function money(fen) {
  const neg = fen < 0; fen = Math.abs(fen);
  const yuan = Math.floor(fen / 100).toLocaleString('en-US');
  return (neg ? '-' : '') + yuan + '.' + String(fen % 100).padStart(2, '0');
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v; else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method, headers: { Authorization: 'Bearer ' + state.token,
                       ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error((data.error && data.error.message) || res.statusText);
  return data;
}

function say(msg) { $('#status').textContent = msg || ''; }

async function loadFunnel() {
  const { stages } = await api('GET', '/v1/funnel');
  const max = Math.max(1, ...stages.map((s) => s.count));
  const tbody = $('#funnel tbody');
  tbody.replaceChildren(...stages.map((s) => el('tr', { 'data-stage': s.stage },
    el('td', { text: s.stage }),
    el('td', { class: 'num', 'data-count': s.count, text: s.count.toLocaleString('en-US') }),
    el('td', { class: 'num', 'data-value': s.value, text: money(s.value) }),
    el('td', {}, el('div', { class: 'bar' }, el('span', { style: `width:${100 * s.count / max}%` }))))));
}

function targetNode(n, depth, out) {
  const pct = n.completion == null ? null : n.completion * 100;
  out.push(el('div', { class: `node depth${depth}`, 'data-unit': n.unit },
    el('span', { class: 'unit', text: n.unit }),
    el('div', { class: 'bar', title: pct == null ? 'no target' : pct.toFixed(1) + '%' },
      el('span', { style: `width:${Math.min(100, pct || 0)}%` })),
    el('span', { class: 'num', 'data-target': n.target ?? '', text: n.target == null ? '-' : money(n.target) }),
    el('span', { class: 'num', 'data-actual': n.actual, text: money(n.actual) }),
    el('span', { class: 'num', text: pct == null ? '' : pct.toFixed(0) + '%' })));
  for (const c of n.children || []) targetNode(c, depth + 1, out);
}

async function loadTargets() {
  const tree = await api('GET', `/v1/targets?period=${encodeURIComponent($('#period').value)}&metric=${$('#metric').value}`);
  const out = [el('div', { class: 'node muted' }, el('span', { text: 'unit' }), el('span', { text: 'completion' }),
    el('span', { class: 'num', text: 'target' }), el('span', { class: 'num', text: 'actual' }), el('span'))];
  targetNode(tree, 0, out);
  $('#targets').replaceChildren(...out);
}

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
  $('#rules tbody').replaceChildren(...rows);
}

async function loadEvents() {
  const { events } = await api('GET', '/v1/events?limit=20');
  $('#events tbody').replaceChildren(...events.map((e) => el('tr', {},
    el('td', { text: e.at }), el('td', { text: `#${e.instance}.${e.seq}` }),
    el('td', { text: e.action }), el('td', { text: e.actor }))));
}

async function refresh() {
  document.body.dataset.loaded = 'no';
  try {
    state.me = await api('GET', '/v1/me');
    $('#who').textContent = `${state.me.unit} (${state.me.role})`;
    await Promise.all([loadFunnel(), loadTargets(), loadRules(), loadEvents()]);
    say('');
    document.body.dataset.loaded = 'yes';
  } catch (e) { say(e.message); }
}

$('#period').value = String(new Date().getFullYear());
$('#token').value = state.token;
$('#login').addEventListener('submit', (ev) => {
  ev.preventDefault();
  state.token = $('#token').value.trim();
  sessionStorage.setItem('ltcd.token', state.token);
  refresh();
});
$('#review-close').addEventListener('click', () => { $('#review').hidden = true; });
$('#metric').addEventListener('change', () => loadTargets().catch((e) => say(e.message)));
$('#period').addEventListener('change', () => loadTargets().catch((e) => say(e.message)));
if (state.token) refresh();
setInterval(() => { if (state.token && !document.hidden) refresh(); }, 15000);
