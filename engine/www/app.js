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

async function decide(owner, version, verb) {
  const reason = verb === 'reject' ? (prompt(`Reason for rejecting ${owner} v${version}?`) || 'rejected') : undefined;
  try {
    await api('POST', `/v1/rules/${owner}/versions/${version}/${verb}`, reason ? { reason } : undefined);
    say(`${owner} v${version}: ${verb === 'approve' ? 'approved' : 'rejected'}`);
  } catch (e) { say(`${owner} v${version}: ${e.message}`); }
  await Promise.all([loadRules(), loadEvents()]);
}

async function loadRules() {
  const { owners } = await api('GET', '/v1/rules');
  const hqAdmin = state.me && state.me.unit === 'hq' && state.me.role === 'admin';
  const rows = await Promise.all(owners.map(async (o) => {
    const { versions } = await api('GET', `/v1/rules/${o.owner}/versions`);
    const rejected = versions.filter((v) => v.status === 'rejected').map((v) => 'v' + v.version).join(', ');
    const pending = el('td', { class: 'pending' }, ...o.pending.map((p) => el('div', { 'data-pending': `${o.owner}@${p.version}` },
      el('span', { text: `v${p.version} ` }),
      ...(hqAdmin ? [el('button', { class: 'approve', 'data-approve': `${o.owner}@${p.version}`, onclick: () => decide(o.owner, p.version, 'approve'), text: 'Approve' }), ' ',
                     el('button', { class: 'reject', 'data-reject': `${o.owner}@${p.version}`, onclick: () => decide(o.owner, p.version, 'reject'), text: 'Reject' })] : []))));
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
$('#metric').addEventListener('change', () => loadTargets().catch((e) => say(e.message)));
$('#period').addEventListener('change', () => loadTargets().catch((e) => say(e.message)));
if (state.token) refresh();
setInterval(() => { if (state.token && !document.hidden) refresh(); }, 15000);
