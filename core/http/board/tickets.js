// The ticket queue (GET /v1/tickets?order=breach: every ticket not solved or
// closed) in the server's order, breached first; a badge per SLA state.
import { api, h, when } from './api.js';
import { t } from './i18n.js';

// Under an hour left counts as at risk.
const AT_RISK = 3600;

function badge(tk) {
  const state = tk.breached ? 'breached'
    : tk.seconds_to_breach !== null && tk.seconds_to_breach < AT_RISK ? 'at_risk' : 'on_time';
  return h('span', { class: `badge ${state}` }, t(state));
}

export async function ticketsPage(main) {
  const q = await api('GET', '/v1/tickets?order=breach');
  main.append(h('h1', {}, t('tickets')), h('table', { class: 'list', id: 'tickets' },
    h('thead', {}, h('tr', {}, h('th', {}, 'SLA'), h('th', {}, t('subject')),
      h('th', { class: 'wide' }, t('priority')), h('th', { class: 'wide' }, t('team')),
      h('th', { class: 'wide' }, t('assignee')), h('th', {}, t('due')))),
    h('tbody', {}, q.items.map((tk) => h('tr', { 'data-ticket': tk.id },
      h('td', {}, badge(tk)),
      h('td', {}, tk.contact_id ? h('a', { href: `#/contact/${tk.contact_id}` }, tk.subject) : tk.subject),
      h('td', { class: 'wide' }, tk.priority || ''), h('td', { class: 'wide' }, tk.team || ''),
      h('td', { class: 'wide' }, tk.assignee || ''), h('td', {}, when(tk.due_at)))))));
}
