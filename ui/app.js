// The Argus console: sign-in, the live list of open groups, an alert's
// page, and the configuration (config.js). Everything goes through the
// JSON API with the key of this tab's session.

import {api, ApiError, session, h, q, query, duration, ago, time, badge, say} from './api.js';
import {configView} from './config.js';

export const state = {
  who: null, // GET /v1/whoami
  managers: [],
  filters: {event_manager_id: '', state: '', severity: '', q: '', offset: 0},
  expanded: new Set(),
  prefill: null, // a silence to create, from an alert
};
const PAGE = 50;
let timers = [];
let liveMark = null;

export const canManage = () => state.who && state.who.role === 'admin';
const main = () => document.getElementById('main');

function stop() {
  timers.forEach(clearInterval);
  timers = [];
}

export function every(ms, fn) {
  timers.push(setInterval(fn, ms));
}

// Calls `reload` when the node applied events or sent notifications (a
// cheap /healthz poll every 2 s), and at least every 15 s.
// `busy()` true: reload on every tick (deliveries under way).
function live(reload, busy = () => false) {
  let last = Date.now();
  every(2000, async () => {
    try {
      const hz = await api('GET', '/healthz');
      const mark = [hz.events.processed, hz.events.ignored, hz.notifications].join('/');
      if (mark !== liveMark || busy() || Date.now() - last > 15000) {
        liveMark = mark;
        last = Date.now();
        await reload();
      }
    } catch (e) { say(e.message); }
  });
}

// Replaces the page's content (null parts are left out).
export function show(...content) {
  main().replaceChildren(h('div', {}, ...content));
}

function setNav(view) {
  for (const a of document.querySelectorAll('[data-nav]'))
    a.toggleAttribute('aria-current', a.dataset.nav === view) &&
      a.setAttribute('aria-current', 'page');
}

async function loadWho() {
  try {
    state.who = await api('GET', '/v1/whoami');
  } catch (e) {
    state.who = null;
    if (e.status !== 401) throw e;
    state.refusal = e.message;
  }
  const who = document.getElementById('who');
  document.getElementById('nav').hidden = !state.who;
  who.replaceChildren();
  if (!state.who) return false;
  const w = state.who;
  who.append(
    h('span', {id: 'role'}, w.auth === 'off' ? 'auth off: ' : (w.key_id || '') + ' · ', w.role,
      w.managers.length ? ' (' + w.managers.join(', ') + ')' : ''),
    w.auth === 'off' ? null : h('button', {class: 'small', id: 'signout', onclick: signOut}, 'Sign out'));
  return true;
}

// Shows `hash`, also when it is the current one (no hashchange then).
function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function signOut() {
  session.clear();
  state.who = null;
  state.managers = [];
  document.getElementById('nav').hidden = true;
  document.getElementById('who').replaceChildren();
  go('#/signin');
}

function signInView(message) {
  const input = h('input', {id: 'key', name: 'key', type: 'password', autocomplete: 'off',
                            required: true, 'aria-describedby': 'key-err'});
  const err = h('div', {id: 'key-err', class: 'err'}, message || '');
  const form = h('form', {class: 'card signin', id: 'signin', onsubmit: async (ev) => {
    ev.preventDefault();
    session.set(input.value.trim());
    try {
      if (await loadWho()) {
        go('#/groups');
        return;
      }
      session.clear();
      err.textContent = 'That key was refused: ' + state.refusal;
    } catch (e) {
      session.clear();
      err.textContent = e.message;
    }
    input.focus();
  }},
    h('h1', {}, 'Sign in'),
    h('p', {class: 'muted'}, 'Paste an Argus API key. It is kept in this tab only (sessionStorage) and sent as a Bearer token.'),
    h('label', {for: 'key'}, 'API key'), input, err,
    h('p', {}, h('button', {class: 'primary', type: 'submit'}, 'Sign in')));
  show(form);
  input.focus();
}

async function managers() {
  if (!state.managers.length) {
    try { state.managers = await api('GET', '/v1/event-managers'); } catch { state.managers = []; }
  }
  return state.managers;
}

// -- actions on alerts ------------------------------------------------------

async function act(alert, action, after) {
  const by = (state.who && state.who.key_id) || 'console';
  try {
    await api('POST', `/v1/alerts/${q(alert.dedupKey)}/${action}` +
              query({event_manager_id: alert.event_manager_id}), {by});
    say(`${action} sent for ${alert.dedupKey}`);
  } catch (e) {
    say(`${action} failed for ${alert.dedupKey}: ${e.message}`);
  }
  setTimeout(after, 250);
}

function silenceFrom(alert) {
  const matchers = alert.grouping_value !== null && alert.type === 'parent'
    ? [{name: 'grouping_value', value: alert.grouping_value, isRegex: false, isEqual: true}]
    : [{name: 'dedupKey', value: alert.dedupKey, isRegex: false, isEqual: true}];
  state.prefill = {event_manager_id: alert.event_manager_id, matchers,
                   comment: 'silenced from the console: ' + alert.summary};
  location.hash = '#/config/silences/new';
}

function actions(alert, after) {
  if (!canManage() || alert.status !== 'active') return null;
  const b = (label, fn, cls) => h('button', {class: 'small ' + (cls || ''), type: 'button',
                                             'aria-label': `${label} ${alert.dedupKey}`, onclick: fn}, label);
  return [
    alert.acknowledged ? b('Unacknowledge', () => act(alert, 'unacknowledge', after))
                       : b('Acknowledge', () => act(alert, 'acknowledge', after)),
    b('Resolve', () => act(alert, 'resolve', after), 'danger'),
    alert.type === 'parent' ? b('Silence', () => silenceFrom(alert)) : null,
  ];
}

function stateBadges(a) {
  const out = [];
  if (a.status === 'resolved') return [badge('resolved', 'st-resolved')];
  if (a.resolve_requested) out.push(badge('resolve requested', 'st-resolve_requested'));
  if (a.acknowledged) out.push(badge('acknowledged' + (a.acknowledged_by ? ' by ' + a.acknowledged_by : ''), 'st-acknowledged'));
  if (a.silenced_by && a.silenced_by.length) out.push(badge('silenced', 'st-silenced'));
  if (!out.length) out.push(badge('active', 'st-active'));
  return out;
}

const sev = (s) => badge(s, 'sev-' + s);
const mono = (t) => h('span', {class: 'mono'}, t);
const alertHref = (a) => `#/alert/${q(a.event_manager_id)}/${q(a.dedupKey)}`;

// -- groups ---------------------------------------------------------------

function windowLeft(g) {
  if (!g.window_ends_at) return 'no grouping value';
  const s = (Date.parse(g.window_ends_at) - Date.now()) / 1000;
  return s > 0 ? duration(s) : 'closed';
}

async function groupsView() {
  setNav('groups');
  const f = state.filters;
  const ms = await managers();
  const sel = (id, label, opts, value) => h('div', {},
    h('label', {for: id}, label),
    h('select', {id, name: id, onchange: (ev) => { f[id] = ev.target.value; f.offset = 0; load(); }},
      opts.map(([v, t]) => h('option', {value: v, selected: v === value}, t))));
  let typing;
  const search = h('input', {id: 'q', type: 'search', value: f.q, placeholder: 'summary, key, value…',
                             oninput: (ev) => { clearTimeout(typing); typing = setTimeout(() => { f.q = ev.target.value; f.offset = 0; load(); }, 250); }});
  const body = h('tbody', {});
  const info = h('span', {id: 'page-info', class: 'muted'});
  const prev = h('button', {type: 'button', class: 'small', onclick: () => { f.offset = Math.max(0, f.offset - PAGE); load(); }}, '← Newer');
  const next = h('button', {type: 'button', class: 'small', onclick: () => { f.offset += PAGE; load(); }}, 'Older →');
  const manage = canManage();
  const table = h('table', {class: 'resp', id: 'groups'},
    h('caption', {class: 'muted cap'}, 'Open groups, newest first: each parent with its children (active/all).'),
    h('thead', {}, h('tr', {}, ['Group', 'Manager', 'Grouping value', 'Children', 'Severity', 'State', 'Window left', 'Opened', manage ? 'Actions' : null]
      .filter(Boolean).map((t) => h('th', {scope: 'col'}, t)))),
    body);
  show(h('h1', {}, 'Open groups'),
    h('div', {class: 'bar', role: 'search'},
      sel('event_manager_id', 'Manager', [['', 'All managers'], ...ms.map((m) => [m.id, m.name + ' (' + m.id + ')'])], f.event_manager_id),
      sel('state', 'State', [['', 'Any state'], ['active', 'Active'], ['acknowledged', 'Acknowledged'],
                             ['resolve_requested', 'Resolve requested'], ['silenced', 'Silenced']], f.state),
      sel('severity', 'Severity', [['', 'Any severity'], ['high', 'High'], ['medium', 'Medium'], ['low', 'Low']], f.severity),
      h('div', {}, h('label', {for: 'q'}, 'Text'), search)),
    h('div', {class: 'pager'}, prev, next, info),
    table);

  let rows = [];
  async function load() {
    let page;
    try {
      page = await api('GET', '/v1/groups' + query({...f, limit: PAGE}));
    } catch (e) {
      say(e.message);
      return;
    }
    rows = page.groups;
    if (!rows.length && f.offset > 0 && page.total > 0) {
      // Groups closed under this page: show the last one there is.
      f.offset = Math.floor((page.total - 1) / PAGE) * PAGE;
      return load();
    }
    const focused = document.activeElement && document.activeElement.getAttribute('aria-label');
    const trs = [];
    for (const g of rows) {
      const key = g.event_manager_id + '\n' + g.dedupKey;
      const open = state.expanded.has(key);
      const toggle = g.child_count > 0 ? h('button', {type: 'button', class: 'small', 'aria-expanded': String(open),
        'aria-label': `children of ${g.dedupKey}`,
        onclick: () => { open ? state.expanded.delete(key) : state.expanded.add(key); load(); }}, open ? 'Hide' : 'Show') : null;
      trs.push(h('tr', {'data-key': g.dedupKey, 'data-state': g.state},
        h('td', {'data-label': 'Group'}, h('a', {href: alertHref(g)}, g.summary), h('div', {class: 'mono muted'}, g.dedupKey)),
        h('td', {'data-label': 'Manager'}, g.event_manager_id),
        h('td', {'data-label': 'Value'}, g.grouping_value === null ? h('span', {class: 'muted'}, '—') : mono(g.grouping_value)),
        h('td', {'data-label': 'Children'}, h('span', {class: 'children'}, `${g.active_children}/${g.child_count}`), ' ', toggle),
        h('td', {'data-label': 'Severity'}, sev(g.severity)),
        h('td', {'data-label': 'State', class: 'state'}, stateBadges(g)),
        h('td', {'data-label': 'Window left', class: 'window', 'data-ends': g.window_ends_at || ''}, windowLeft(g)),
        h('td', {'data-label': 'Opened'}, h('span', {title: g.created_at}, ago(g.created_at))),
        manage ? h('td', {class: 'actions'}, actions(g, load)) : null));
      if (open) trs.push(await childRows(g, manage ? 9 : 8, load));
    }
    if (!rows.length) trs.push(h('tr', {}, h('td', {colspan: 9, class: 'muted'}, 'No open groups match.')));
    body.replaceChildren(...trs);
    const end = Math.min(page.total, f.offset + rows.length);
    info.textContent = page.total ? `${f.offset + 1}–${end} of ${page.total}` : '0 groups';
    prev.disabled = f.offset === 0;
    next.disabled = end >= page.total;
    if (focused) {
      const again = body.querySelector(`[aria-label="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
    say('Updated ' + new Date().toLocaleTimeString());
  }
  await load();
  live(load);
  every(1000, () => {
    for (const td of document.querySelectorAll('td.window[data-ends]'))
      if (td.dataset.ends) td.textContent = windowLeft({window_ends_at: td.dataset.ends});
  });
}

async function childRows(g, span, after) {
  let kids = [];
  try {
    kids = await api('GET', `/v1/alerts/${q(g.dedupKey)}/children` + query({event_manager_id: g.event_manager_id}));
  } catch (e) {
    return h('tr', {class: 'kids'}, h('td', {colspan: span}, e.message));
  }
  return h('tr', {class: 'kids'}, h('td', {colspan: span},
    h('ul', {}, kids.map((c) => h('li', {},
      h('a', {href: alertHref(c)}, c.summary), ' ', h('span', {class: 'mono muted'}, c.dedupKey), ' ',
      sev(c.severity), stateBadges(c), ' ', actions(c, after))))));
}

// -- one alert ------------------------------------------------------------

async function alertView(manager, dedup) {
  setNav('groups');
  const at = `/v1/alerts/${q(dedup)}`;
  const scope = query({event_manager_id: manager});
  let pending = false;
  async function load() {
    let a;
    try {
      a = await api('GET', at + scope);
    } catch (e) {
      show(h('h1', {}, 'Alert ' + dedup), h('p', {class: 'formerr'}, e.message));
      return;
    }
    const kids = a.type === 'parent' && a.child_count > 0
      ? await api('GET', at + '/children' + scope).catch(() => []) : [];
    const groupKey = a.type === 'parent' ? a.dedupKey : a.parent_dedupKey;
    const notes = (await api('GET', '/v1/notifications?limit=1000').catch(() => []))
      .filter((n) => n.alert.event_manager_id === a.event_manager_id && n.alert.dedupKey === groupKey);
    pending = notes.some((n) => n.deliveries.some((d) => d.state === 'pending'));
    const field = (label, value) => [h('dt', {}, label), h('dd', {}, value === null || value === undefined || value === '' ? h('span', {class: 'muted'}, '—') : value)];
    show(
      h('p', {}, h('a', {href: '#/groups'}, '← Groups')),
      h('h1', {id: 'alert-title'}, a.summary),
      h('p', {id: 'alert-state'}, sev(a.severity), stateBadges(a), ' ', h('span', {class: 'muted'}, a.type)),
      h('div', {class: 'bar', id: 'alert-actions'}, actions(a, load)),
      h('section', {class: 'card', 'aria-labelledby': 'f-h'}, h('h2', {id: 'f-h'}, 'Fields'),
        h('dl', {class: 'fields'},
          field('dedupKey', h('span', {class: 'mono'}, a.dedupKey)),
          field('id', h('span', {class: 'mono'}, a.id)),
          field('Manager', a.event_manager_id),
          field('Status', a.status),
          field('Class', a.class),
          field('Grouping value', a.grouping_value),
          field('Parent', a.parent_dedupKey && h('a', {href: `#/alert/${q(a.event_manager_id)}/${q(a.parent_dedupKey)}`}, a.parent_dedupKey)),
          field('Children', a.type === 'parent' ? String(a.child_count) : null),
          field('Event count', h('span', {id: 'event-count'}, String(a.event_count))),
          field('Created', time(a.created_at)),
          field('Updated', time(a.updated_at)),
          field('Resolved', a.resolved_at && [time(a.resolved_at), a.resolved_by ? ` (${a.resolved_by})` : '']),
          field('Acknowledged', a.acknowledged ? [a.acknowledged_by || '', ' ', time(a.acknowledged_at),
            a.acknowledged_until ? [' until ', time(a.acknowledged_until)] : ''] : 'no'),
          field('Auto-resolves', a.auto_resolve_at && time(a.auto_resolve_at)),
          field('Silenced by', (a.silenced_by || []).join(', ')))),
      h('section', {class: 'card', 'aria-labelledby': 'd-h'}, h('h2', {id: 'd-h'}, 'Details'),
        h('pre', {}, JSON.stringify(a.details, null, 2))),
      a.type === 'parent' ? h('section', {class: 'card', 'aria-labelledby': 'c-h'},
        h('h2', {id: 'c-h'}, `Children (${kids.filter((c) => c.status === 'active').length} active of ${a.child_count})`),
        kids.length ? h('table', {class: 'resp', id: 'children'},
          h('thead', {}, h('tr', {}, ['Child', 'Severity', 'State', 'Created', canManage() ? 'Actions' : null].filter(Boolean).map((t) => h('th', {scope: 'col'}, t)))),
          h('tbody', {}, kids.map((c) => h('tr', {'data-key': c.dedupKey},
            h('td', {'data-label': 'Child'}, h('a', {href: alertHref(c)}, c.summary), h('div', {class: 'mono muted'}, c.dedupKey)),
            h('td', {'data-label': 'Severity'}, sev(c.severity)),
            h('td', {'data-label': 'State', class: 'state'}, stateBadges(c)),
            h('td', {'data-label': 'Created'}, time(c.created_at)),
            canManage() ? h('td', {class: 'actions'}, actions(c, load)) : null))))
          : h('p', {class: 'muted'}, 'No children.')) : null,
      h('section', {class: 'card', 'aria-labelledby': 'n-h'},
        h('h2', {id: 'n-h'}, a.type === 'parent' ? 'Notifications' : 'Notifications of its group'),
        notes.length ? h('table', {class: 'resp', id: 'notifications'},
          h('thead', {}, h('tr', {}, ['Kind', 'At', 'Deliveries', canManage() ? 'Actions' : null].filter(Boolean).map((t) => h('th', {scope: 'col'}, t)))),
          h('tbody', {}, notes.map((n) => h('tr', {},
            h('td', {'data-label': 'Kind'}, n.kind, n.child ? [' ', h('span', {class: 'mono muted'}, n.child.dedupKey)] : ''),
            h('td', {'data-label': 'At'}, time(n.at)),
            h('td', {'data-label': 'Deliveries'}, n.deliveries.length ? h('ul', {}, n.deliveries.map((d) => h('li', {},
              h('strong', {}, d.receiver), ': ', d.state, ` (${d.attempts} attempt${d.attempts === 1 ? '' : 's'})`,
              d.last_error ? [' — ', h('span', {class: 'muted'}, d.last_error)] : ''))) : h('span', {class: 'muted'}, 'no receivers')),
            canManage() ? h('td', {class: 'actions'}, n.deliveries.some((d) => d.state === 'failed')
              ? h('button', {type: 'button', class: 'small retry', 'aria-label': 'Retry the failed deliveries of ' + n.kind, onclick: async () => {
                  try { await api('POST', `/v1/notifications/${q(n.id)}/retry`); say('Retry queued for ' + n.id); } catch (e) { say(e.message); }
                  load();
                }}, 'Retry failed') : null) : null))))
          : h('p', {class: 'muted'}, 'No notifications among the latest 1,000.')));
  }
  await load();
  live(load, () => pending);
}

// -- routing --------------------------------------------------------------

export async function route() {
  stop();
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  try {
    if (!state.who && !(await loadWho())) return signInView();
    if (state.who.role === 'ingest')
      return show(h('h1', {}, 'Ingest key'), h('p', {}, 'This key (ingest) may only send events. The console needs a reader or admin key.'));
    switch (parts[0]) {
      case 'signin':
        if (state.who.auth === 'off') return go('#/groups');
        return signInView();
      case 'alert':
        return await alertView(parts[1], parts.slice(2).join('/'));
      case 'config':
        setNav('config');
        return await configView(parts.slice(1));
      default:
        return await groupsView();
    }
  } catch (e) {
    show(h('h1', {}, 'Error'), h('p', {class: 'formerr'}, e instanceof ApiError ? `${e.code}: ${e.message}` : String(e)));
  }
}

addEventListener('argus:unauthorized', () => {
  if (state.who && state.who.auth !== 'off') {
    session.clear();
    state.who = null;
    stop();
    loadWho().finally(() => signInView('The key was refused; sign in again.'));
  }
});
addEventListener('hashchange', route);
route();
