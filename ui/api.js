// The console's plumbing: the API key of this tab's session, calls to the
// JSON API, a tiny DOM builder (text is never parsed as HTML) and formats.

const KEY = 'argus.key';

export const session = {
  // sessionStorage: the key lives as long as the tab, never in the URL.
  get key() { return sessionStorage.getItem(KEY) || ''; },
  set(key) { sessionStorage.setItem(KEY, key); },
  clear() { sessionStorage.removeItem(KEY); },
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
  // The field or parameter the API's message names, if any: "field 'x'
  // ...", or a message that starts with the field's path
  // ("notification_config.receivers[0].url must be ...").
  get field() {
    const m = /(?:field|query parameter) '([^']+)'/.exec(this.message) ||
      /^([A-Za-z_]\w*(?:\[\d+\]|\.[A-Za-z_]\w*)*)\s/.exec(this.message);
    return m ? m[1] : null;
  }
}

export async function api(method, path, body) {
  const headers = {Accept: 'application/json'};
  if (session.key) headers.Authorization = 'Bearer ' + session.key;
  const init = {method, headers, cache: 'no-store'};
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, 'NETWORK', 'Argus is not reachable: ' + e.message);
  }
  if (res.status === 204) return null;
  let j = null;
  try { j = await res.json(); } catch { /* not JSON */ }
  if (!res.ok || (j && j.success === false)) {
    const e = (j && j.error) || {};
    const err = new ApiError(res.status, e.code || 'HTTP_' + res.status,
                             e.message || 'HTTP status ' + res.status);
    if (res.status === 401) dispatchEvent(new CustomEvent('argus:unauthorized'));
    throw err;
  }
  return j && typeof j === 'object' && 'data' in j ? j.data : j;
}

// h('a', {href: '#'}, 'text', child, [more]) -> element. `on*` attributes
// are listeners; null/false children and attributes are skipped.
export function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  add(el, kids);
  return el;
}

function add(el, kids) {
  for (const k of kids) {
    if (k === null || k === undefined || k === false) continue;
    if (Array.isArray(k)) add(el, k);
    else el.append(k instanceof Node ? k : String(k));
  }
}

export const q = encodeURIComponent;

export function query(params) {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== '' && v !== null && v !== undefined)
    .map(([k, v]) => q(k) + '=' + q(v));
  return parts.length ? '?' + parts.join('&') : '';
}

// 3725 s -> "1h 2m"; 42 s -> "42s".
export function duration(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  const d = Math.floor(seconds / 86400), hr = Math.floor(seconds / 3600) % 24;
  const m = Math.floor(seconds / 60) % 60, s = seconds % 60;
  if (d) return `${d}d ${hr}h`;
  if (hr) return `${hr}h ${m}m`;
  if (m) return s ? `${m}m ${s}s` : `${m}m`;
  return `${s}s`;
}

export function ago(iso) {
  if (!iso) return '';
  const s = (Date.now() - Date.parse(iso)) / 1000;
  return s < 5 ? 'just now' : duration(s) + ' ago';
}

// A time as the reader's local clock shows it, with the UTC text as title.
export function time(iso) {
  if (!iso) return h('span', {class: 'muted'}, '—');
  return h('time', {datetime: iso, title: iso},
           new Date(iso).toLocaleString(undefined, {dateStyle: 'medium', timeStyle: 'medium'}));
}

export function badge(text, cls) {
  return h('span', {class: 'badge ' + (cls || '')}, text);
}

export function say(text) {
  const s = document.getElementById('status');
  s.textContent = text;
}
