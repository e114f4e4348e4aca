// Configuration: grouping rules, event managers (receivers, routing key),
// silences (a future start makes a maintenance window) and API keys (admin
// only). Forms send what the user typed and show the API's own validation
// message next to the field it names.

import {api, ApiError, h, q, duration, time, badge, say} from './api.js';
import {state, canManage, show} from './app.js';

const num = (v) => (v === '' || v === undefined ? undefined : Number(v));
const list = (v) => v.split(',').map((s) => s.trim()).filter(Boolean);
const mono = (t) => h('span', {class: 'mono'}, t);
const iso = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

class FieldError extends Error {
  constructor(field, message) { super(message); this.field = field; }
}

const OPS = [['=~', true, true], ['!~', true, false], ['!=', false, false], ['=', false, true]];

function matcherText(m) {
  const op = OPS.find(([, re, eq]) => re === m.isRegex && eq === m.isEqual)[0];
  return m.name + op + m.value;
}

function parseMatchers(text) {
  return text.split('\n').map((l) => l.trim()).filter(Boolean).map((line) => {
    const m = /^([^=!~\s]+)\s*(=~|!~|!=|=)\s*(.*)$/.exec(line);
    if (!m) throw new FieldError('matchers', `"${line}" is not name=value, name!=value, name=~regex or name!~regex`);
    const [, re, eq] = OPS.find(([op]) => op === m[2]);
    const value = m[3].replace(/^"(.*)"$/, '$1');
    return {name: m[1], value, isRegex: re, isEqual: eq};
  });
}

const kinds = {
  rules: {
    title: 'Grouping rules', path: '/v1/grouping-rules', noun: 'rule',
    columns: [['Name', (r) => r.name], ['Grouping key(s)', (r) => mono(r.grouping_keys.join(', '))],
              ['Window', (r) => duration(r.time_window_seconds)],
              ['Auto-resolve', (r) => (r.auto_resolve_after ? duration(r.auto_resolve_after) : 'off')],
              ['Id', (r) => mono(r.id)]],
    fields: async () => [
      {name: 'name', label: 'Name'},
      {name: 'grouping_key', label: 'Grouping key(s)', help: 'An event field or a dotted path (labels.cluster); several, comma-separated, group by their tuple.'},
      {name: 'time_window_minutes', label: 'Window (minutes)', type: 'number'},
      {name: 'auto_resolve_after', label: 'Auto-resolve after (seconds; 0: off)', type: 'number'},
    ],
    aliases: {grouping_keys: 'grouping_key', time_window_seconds: 'time_window_minutes'},
    values: (r) => ({name: r.name, grouping_key: r.grouping_keys.join(', '),
                     time_window_minutes: r.time_window_minutes, auto_resolve_after: r.auto_resolve_after}),
    body: (v) => {
      const keys = list(v.grouping_key);
      const b = {name: v.name, time_window_minutes: num(v.time_window_minutes), auto_resolve_after: num(v.auto_resolve_after)};
      if (keys.length > 1) b.grouping_keys = keys;
      else b.grouping_key = keys[0] || '';
      return b;
    },
  },
  managers: {
    title: 'Event managers', path: '/v1/event-managers', noun: 'manager',
    columns: [['Id', (m) => mono(m.id)], ['Name', (m) => m.name], ['Rule', (m) => mono(m.grouping_rule_id)],
              ['Receivers', (m) => m.notification_config.receivers.map((r) => `${r.name} (${r.format})`).join(', ') || '—'],
              ['Routing key', (m) => mono(m.routing_key)]],
    fields: async (item) => {
      const rules = await api('GET', '/v1/grouping-rules');
      return [
        item ? null : {name: 'id', label: 'Id (optional: generated)'},
        {name: 'name', label: 'Name'},
        {name: 'description', label: 'Description'},
        {name: 'grouping_rule_id', label: 'Grouping rule', type: 'select',
         options: [['', 'Choose a rule'], ...rules.map((r) => [r.id, `${r.name} (${r.grouping_keys.join(', ')})`])]},
        {name: 'ack_timeout_seconds', label: 'Acknowledgement timeout (seconds; 0: until resolved)', type: 'number'},
        {name: 'auto_resolve_after', label: 'Auto-resolve after (seconds; 0: the rule\'s)', type: 'number'},
        {name: 'webhook_url', label: 'Webhook URL (legacy, optional)'},
        {name: 'receivers', label: 'Receivers (JSON array)', type: 'textarea',
         help: 'Each {"name", "url", "format": argus|alertmanager|slack|pagerduty, "headers", "secret", "types", ...}. Secrets are never shown; leave one out to keep it.'},
        item ? {name: 'routing_key', label: 'PagerDuty routing key', readonly: true}
             : {name: 'routing_key', label: 'PagerDuty routing key (optional: generated)'},
      ].filter(Boolean);
    },
    aliases: {notification_config: 'receivers', manager: 'id'},
    values: (m) => ({...m, webhook_url: m.notification_config.webhook_url || '',
                     receivers: JSON.stringify(m.notification_config.receivers.map(({secret_set, ...r}) => r), null, 2)}),
    body: (v, item) => {
      let receivers;
      try { receivers = v.receivers.trim() ? JSON.parse(v.receivers) : []; } catch (e) {
        throw new FieldError('receivers', 'not valid JSON: ' + e.message);
      }
      const nc = {receivers};
      if (v.webhook_url) nc.webhook_url = v.webhook_url;
      const b = {name: v.name, description: v.description, grouping_rule_id: v.grouping_rule_id,
                 ack_timeout_seconds: num(v.ack_timeout_seconds), auto_resolve_after: num(v.auto_resolve_after),
                 notification_config: nc};
      if (!item && v.id) b.id = v.id;
      if (!item && v.routing_key) b.routing_key = v.routing_key;
      return b;
    },
    extra: (item, reload) => canManage() && item ? h('button', {type: 'button', class: 'small', onclick: async () => {
      if (!confirm(`Rotate the routing key of ${item.id}? The old one stops working at once.`)) return;
      try { await api('POST', `/v1/event-managers/${q(item.id)}/routing-key`); say('Routing key rotated for ' + item.id); } catch (e) { say(e.message); }
      state.managers = [];
      reload();
    }}, 'Rotate routing key') : null,
  },
  silences: {
    title: 'Silences and maintenance windows', path: '/v1/silences', noun: 'silence', remove: 'Expire',
    intro: 'A silence mutes the notifications of the alerts it matches. One that starts later is a maintenance window (pending until then).',
    columns: [['Manager', (s) => s.event_manager_id || 'all'], ['Matchers', (s) => mono(s.matchers.map(matcherText).join(', '))],
              ['State', (s) => badge(s.state, s.state === 'active' ? 'st-silenced' : 'muted')],
              ['Starts', (s) => time(s.startsAt)], ['Ends', (s) => time(s.endsAt)],
              ['By', (s) => s.createdBy], ['Comment', (s) => s.comment]],
    removable: (s) => s.state !== 'expired',
    fields: async () => {
      const ms = await api('GET', '/v1/event-managers');
      return [
        {name: 'event_manager_id', label: 'Event manager', type: 'select', options: [['', 'Every manager'], ...ms.map((m) => [m.id, `${m.name} (${m.id})`])]},
        {name: 'matchers', label: 'Matchers (one per line)', type: 'textarea',
         help: 'name=value, name!=value, name=~regex, name!~regex. Names: severity, class, summary, dedupKey, grouping_value, a details field or a label.'},
        {name: 'startsAt', label: 'Starts at (RFC 3339)'},
        {name: 'endsAt', label: 'Ends at (RFC 3339)'},
        {name: 'createdBy', label: 'Created by'},
        {name: 'comment', label: 'Comment'},
      ];
    },
    aliases: {matcher: 'matchers'},
    defaults: () => {
      const p = state.prefill || {};
      state.prefill = null;
      return {event_manager_id: p.event_manager_id || '', matchers: (p.matchers || []).map(matcherText).join('\n'),
              startsAt: iso(Date.now()), endsAt: iso(Date.now() + 2 * 3600e3),
              createdBy: (state.who && state.who.key_id) || 'console', comment: p.comment || ''};
    },
    values: (s) => ({...s, matchers: s.matchers.map(matcherText).join('\n')}),
    body: (v) => ({event_manager_id: v.event_manager_id || undefined, matchers: parseMatchers(v.matchers),
                   startsAt: v.startsAt || undefined, endsAt: v.endsAt, createdBy: v.createdBy, comment: v.comment}),
  },
  keys: {
    title: 'API keys', path: '/v1/keys', noun: 'key', remove: 'Revoke', admin: true, editable: false,
    intro: 'A key\'s text is shown once, when it is made. Keys cannot be changed: make a new one and revoke the old.',
    columns: [['Id', (k) => mono(k.id)], ['Prefix', (k) => mono(k.prefix)], ['Role', (k) => k.role],
              ['Managers', (k) => (k.managers.length ? k.managers.join(', ') : 'all')],
              ['State', (k) => badge(k.state, k.state === 'active' ? 'st-resolved' : 'muted')],
              ['Created', (k) => time(k.created_at)], ['Expires', (k) => time(k.expires_at)], ['By', (k) => k.created_by]],
    removable: (k) => k.state === 'active',
    fields: async () => [
      {name: 'role', label: 'Role', type: 'select', options: [['reader', 'reader: reads'], ['ingest', 'ingest: sends events'], ['admin', 'admin: everything']]},
      {name: 'managers', label: 'Managers (comma-separated; empty: all)'},
      {name: 'expires_in', label: 'Expires in (e.g. 12h, 90d; empty: never)'},
    ],
    aliases: {manager: 'managers', expires_at: 'expires_in'},
    body: (v) => ({role: v.role, managers: list(v.managers), expires_in: v.expires_in || undefined}),
  },
};

function resolveField(field, inputs, aliases) {
  if (!field) return null;
  if (inputs[field]) return field;
  if (aliases[field] && inputs[aliases[field]]) return aliases[field];
  for (const seg of field.split(/[.[\]]/).filter(Boolean)) {
    if (inputs[seg]) return seg;
    if (aliases[seg] && inputs[aliases[seg]]) return aliases[seg];
  }
  return null;
}

async function form(tab, kind, item, done) {
  const fields = await kind.fields(item);
  const values = item ? (kind.values ? kind.values(item) : item) : (kind.defaults ? kind.defaults() : {});
  const inputs = {};
  const errs = {};
  const rows = fields.map((f) => {
    const id = 'f-' + f.name;
    const val = values[f.name] === undefined || values[f.name] === null ? '' : String(values[f.name]);
    const described = [f.help ? id + '-help' : null, id + '-err'].filter(Boolean).join(' ');
    let input;
    if (f.type === 'select')
      input = h('select', {id, name: f.name, 'aria-describedby': described},
                f.options.map(([v, t]) => h('option', {value: v, selected: v === val}, t)));
    else if (f.type === 'textarea')
      input = h('textarea', {id, name: f.name, 'aria-describedby': described, spellcheck: 'false'}, val);
    else
      input = h('input', {id, name: f.name, type: f.type || 'text', value: val, readonly: f.readonly,
                          'aria-describedby': described, autocomplete: 'off'});
    inputs[f.name] = input;
    errs[f.name] = h('div', {id: id + '-err', class: 'err'});
    return h('div', {class: 'row'}, h('label', {for: id}, f.label), input,
             f.help ? h('div', {class: 'help', id: id + '-help'}, f.help) : null, errs[f.name]);
  });
  const formErr = h('div', {class: 'formerr', role: 'alert', id: 'form-error'});
  const title = (item ? 'Edit ' : 'New ') + kind.noun + (item && item.id ? ' ' + item.id : '');
  const el = h('form', {class: 'card edit', id: 'edit', novalidate: true, 'aria-labelledby': 'edit-h', onsubmit: async (ev) => {
    ev.preventDefault();
    formErr.textContent = '';
    for (const n in errs) { errs[n].textContent = ''; inputs[n].removeAttribute('aria-invalid'); }
    const v = {};
    for (const n in inputs) v[n] = inputs[n].value.trim();
    let saved;
    try {
      const body = kind.body(v, item);
      saved = await api(item ? 'PUT' : 'POST', item ? `${kind.path}/${q(item.id)}` : kind.path, body);
    } catch (e) {
      const name = resolveField(e.field, inputs, kind.aliases || {});
      const text = e instanceof ApiError ? e.message : e.message;
      if (name) {
        errs[name].textContent = text;
        inputs[name].setAttribute('aria-invalid', 'true');
        inputs[name].focus();
      } else {
        formErr.textContent = (e.code ? e.code + ': ' : '') + text;
      }
      return;
    }
    say(`Saved ${kind.noun} ${saved && saved.id ? saved.id : ''}`);
    state.managers = [];
    done(saved);
  }},
    h('h2', {id: 'edit-h'}, title), formErr, rows,
    h('div', {class: 'bar'}, h('button', {class: 'primary', type: 'submit'}, item ? 'Save' : 'Create'),
      h('a', {href: '#/config/' + tab}, 'Cancel'), kind.extra ? kind.extra(item, () => configView([tab, 'edit', item.id])) : null));
  return el;
}

export async function configView(parts) {
  const manage = canManage();
  const tabs = Object.keys(kinds).filter((t) => !kinds[t].admin || manage);
  const tab = tabs.includes(parts[0]) ? parts[0] : 'rules';
  const kind = kinds[tab];
  const items = await api('GET', kind.path);
  let top = null;
  if (manage && parts[1] === 'new') {
    top = await form(tab, kind, null, (saved) => {
      if (tab === 'keys' && saved && saved.key) {
        state.newKey = saved;
      }
      location.hash = '#/config/' + tab;
    });
  } else if (manage && parts[1] === 'edit' && kind.editable !== false) {
    const item = items.find((i) => i.id === parts.slice(2).join('/'));
    top = item ? await form(tab, kind, item, () => { location.hash = '#/config/' + tab; })
               : h('p', {class: 'formerr'}, `No ${kind.noun} ${parts[2]}.`);
  }
  let secret = null;
  if (tab === 'keys' && state.newKey) {
    const k = state.newKey;
    state.newKey = null;
    secret = h('div', {class: 'secret', role: 'alert'}, h('strong', {}, `New ${k.role} key ${k.id}. Copy it now; it is not shown again:`),
      h('pre', {id: 'new-key'}, k.key));
  }
  const remove = async (item) => {
    const verb = kind.remove || 'Delete';
    if (!confirm(`${verb} ${kind.noun} ${item.id}?`)) return;
    try {
      await api('DELETE', `${kind.path}/${q(item.id)}`);
      say(`${verb}d ${kind.noun} ${item.id}`);
    } catch (e) {
      say(`${verb} failed: ${e.message}`);
    }
    state.managers = [];
    configView(parts[1] ? [tab] : parts);
  };
  const table = h('table', {class: 'resp', id: 'items'},
    h('thead', {}, h('tr', {}, [...kind.columns.map(([t]) => t), manage ? 'Actions' : null].filter(Boolean).map((t) => h('th', {scope: 'col'}, t)))),
    h('tbody', {}, items.length ? items.map((item) => h('tr', {'data-id': item.id},
      kind.columns.map(([t, f]) => h('td', {'data-label': t}, f(item))),
      manage ? h('td', {class: 'actions'},
        kind.editable === false ? null : h('a', {href: `#/config/${tab}/edit/${q(item.id)}`, class: 'small', 'aria-label': `Edit ${kind.noun} ${item.id}`}, 'Edit'), ' ',
        !kind.removable || kind.removable(item)
          ? h('button', {type: 'button', class: 'small danger', 'aria-label': `${kind.remove || 'Delete'} ${kind.noun} ${item.id}`, onclick: () => remove(item)}, kind.remove || 'Delete') : null) : null))
      : h('tr', {}, h('td', {colspan: kind.columns.length + 1, class: 'muted'}, 'None yet.'))));
  show(
    h('h1', {}, 'Configuration'),
    h('nav', {class: 'tabs', 'aria-label': 'Configuration'}, tabs.map((t) => h('a', {href: '#/config/' + t, 'aria-current': t === tab ? 'page' : null}, kinds[t].title))),
    secret, top,
    h('h2', {}, kind.title),
    kind.intro ? h('p', {class: 'muted'}, kind.intro) : null,
    manage && parts[1] !== 'new' ? h('p', {}, h('a', {href: `#/config/${tab}/new`, id: 'new', class: 'small'}, `New ${kind.noun}`)) : null,
    table);
  if (top) {
    const first = top.querySelector('input:not([readonly]),select,textarea');
    if (first) first.focus();
  }
}
