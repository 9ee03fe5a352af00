// The board's link to crm serve: the session (user, role, CSRF token,
// locale, plugins with routes), JSON requests, and the locale's formats.
import { language } from './i18n.js';

export const session = { user: null, csrf: null, locale: {}, plugins: [] };

export function setSession(s) { Object.assign(session, s); }

// The server refuses a write made with the cookie unless it carries the
// session's CSRF token; every write goes through here.
export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = session.csrf || '';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method, headers, credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (!res.ok) {
    const e = new Error((data && data.error && data.error.message) || res.statusText);
    e.status = res.status;
    throw e;
  }
  return data;
}

export function hasPlugin(name) { return session.plugins.includes(name); }

// Roles as the server decides them (the server refuses anyway; this only
// hides what would be refused).
const writers = {
  deal: ['manager', 'admin'],
  loyalty: ['manager', 'admin'],
};
export function may(what) {
  return !!session.user && (writers[what] || []).includes(session.user.role);
}

// Money in minor units: the currency's own number of decimals.
export function money(minor, currency) {
  const cur = currency || session.locale.currency || 'EUR';
  const fmt = new Intl.NumberFormat(language(), { style: 'currency', currency: cur });
  const digits = fmt.resolvedOptions().maximumFractionDigits;
  return fmt.format(minor / 10 ** digits);
}

// Epoch seconds shown in locale.timezone.
export function when(epoch) {
  if (epoch === null || epoch === undefined) return '';
  return new Intl.DateTimeFormat(language(), {
    dateStyle: 'medium', timeStyle: 'short', timeZone: session.locale.timezone || 'UTC',
  }).format(new Date(epoch * 1000));
}

// A DOM element: h('td', {class: 'n'}, 'text', child...). Text is always
// set as text, never parsed as HTML.
export function h(tag, attrs, ...children) {
  const svg = ['svg', 'polyline', 'circle', 'line', 'text', 'rect', 'g'].includes(tag);
  const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag)
                 : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function status(text, isError) {
  const el = document.getElementById('status');
  el.textContent = text || '';
  el.className = isError ? 'error' : '';
}
