// Contacts: search by name (GET /v1/contacts?name=), and one contact's 360
// timeline (GET /v1/contacts/{id}/timeline) with its loyalty card.
import { api, h, when, money, hasPlugin, may, status } from './api.js';
import { t } from './i18n.js';

const fullName = (c) => [c.first_name, c.last_name].filter(Boolean).join(' ') || c.email || `#${c.id}`;

function contactRow(c) {
  return h('tr', {},
    h('td', {}, h('a', { href: `#/contact/${c.id}`, class: 'contact-link' }, fullName(c))),
    h('td', {}, c.email || ''), h('td', { class: 'wide' }, c.city || ''),
    h('td', { class: 'wide' }, c.lifecycle_stage || ''));
}

export async function contactsPage(main) {
  const q = h('input', { type: 'search', id: 'search', placeholder: t('search'),
                         value: sessionStorage.getItem('crm.q') || '' });
  const body = h('tbody');
  const table = h('table', { class: 'list' },
    h('thead', {}, h('tr', {}, h('th', {}, t('name')), h('th', {}, t('email')),
      h('th', { class: 'wide' }, t('city')), h('th', { class: 'wide' }, t('stage')))), body);
  const more = h('button', { type: 'button', hidden: true }, t('more'));
  let cursor = null;
  async function load(reset) {
    const params = new URLSearchParams({ limit: '50' });
    if (q.value.trim()) params.set('name', q.value.trim());
    if (!reset && cursor) params.set('cursor', cursor);
    const page = await api('GET', `/v1/contacts?${params}`);
    if (reset) body.replaceChildren();
    body.append(...page.data.map(contactRow));
    if (reset && !page.data.length) body.append(h('tr', {}, h('td', { colspan: 4 }, t('no_results'))));
    cursor = page.next_cursor;
    more.hidden = cursor === null;
  }
  let timer;
  q.addEventListener('input', () => {
    sessionStorage.setItem('crm.q', q.value);
    clearTimeout(timer);
    timer = setTimeout(() => load(true).catch((e) => status(e.message, true)), 200);
  });
  more.addEventListener('click', () => load(false));
  main.append(h('h1', {}, t('contacts')), q, table, more);
  await load(true);
  q.focus();
}

// One line per timeline entry: what happened, by kind.
const summaries = {
  interaction: (r) => [r.channel, r.direction, r.subject].filter(Boolean).join(' · '),
  order: (r) => `${r.external_id || '#' + r.id} · ${money(r.total_minor, r.currency)} · ${r.status}`,
  stage: (r) => `${r.from || '—'} → ${r.to}${r.reason ? ` (${r.reason})` : ''}`,
  task: (r) => [r.subject, r.status].filter(Boolean).join(' · '),
  consent: (r) => `${r.channel} ${r.purpose}: ${r.status}`,
  message: (r) => [r.channel, r.template, r.status, r.reason].filter(Boolean).join(' · '),
  event: (r) => r.type,
};

function timelineItem(item) {
  const r = item.record || {};
  const text = (summaries[item.kind] || (() => ''))(r);
  return h('li', { class: `tl tl-${item.kind}` },
    h('time', {}, when(item.at_epoch)),
    h('span', { class: 'kind' }, t(`kind_${item.kind}`)),
    h('span', { class: 'what' }, text));
}

async function loyaltyCard(id) {
  const card = await api('GET', `/v1/contacts/${id}/loyalty`);
  const rows = (card.history || []).map((x) => h('tr', {},
    h('td', {}, when(x.at)), h('td', {}, x.kind), h('td', { class: 'n' }, x.points),
    h('td', {}, x.reason || '')));
  const box = h('section', { class: 'card loyalty', id: 'loyalty' },
    h('h2', {}, t('loyalty'), card.program ? ` · ${card.program}` : ''),
    h('p', {}, h('span', { class: `tier tier-${card.tier || 'none'}` }, `${t('tier')}: ${card.tier || '—'}`),
      ' ', h('strong', { class: 'balance' }, `${card.balance} ${t('points')}`)),
    h('table', { class: 'list' }, h('tbody', {}, rows)));
  if (may('loyalty')) box.append(redeemForm(id));
  return box;
}

function redeemForm(id) {
  const points = h('input', { type: 'number', min: 1, required: true, name: 'points',
                              placeholder: t('points') });
  const reason = h('input', { type: 'text', required: true, name: 'reason', placeholder: t('reason') });
  const form = h('form', { class: 'inline' }, points, reason, h('button', { type: 'submit' }, t('redeem')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      await api('POST', `/v1/contacts/${id}/loyalty/redeem`,
                { points: Number(points.value), reason: reason.value });
      location.hash = `#/contact/${id}`;
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (e) { status(e.message, true); }
  });
  return form;
}

export async function contactPage(main, id) {
  const [c, tl] = await Promise.all([api('GET', `/v1/contacts/${id}`),
                                     api('GET', `/v1/contacts/${id}/timeline`)]);
  const facts = [['email', c.email], ['phone', c.phone], ['city', c.city], ['stage', c.lifecycle_stage]]
    .filter(([, v]) => v).map(([k, v]) => h('div', {}, h('dt', {}, t(k)), h('dd', {}, v)));
  main.append(
    h('p', {}, h('a', { href: '#/contacts' }, `← ${t('back')}`)),
    h('h1', { id: 'contact-name' }, fullName(c)),
    h('dl', { class: 'facts' }, facts));
  const cols = h('div', { class: 'cols' },
    h('section', { class: 'card' }, h('h2', {}, t('timeline')),
      h('ol', { id: 'timeline' }, tl.data.slice().reverse().map(timelineItem))));
  main.append(cols);
  if (hasPlugin('loyalty')) cols.append(await loyaltyCard(id).catch(() => h('span')));
}
