// The RFM grid (GET /v1/rfm) as a heat map: recency down, frequency across,
// the plugin's own counts per cell; a click lists the cell's members.
import { api, h, when } from './api.js';
import { t } from './i18n.js';

export async function rfmPage(main) {
  const grid = await api('GET', '/v1/rfm');
  const count = {};
  for (const c of grid.cells) count[`${c.r},${c.f}`] = c.count;
  const max = Math.max(1, ...grid.cells.map((c) => c.count));
  const members = h('section', { id: 'rfm-members', class: 'card', hidden: true });
  const rows = [5, 4, 3, 2, 1].map((r) => h('tr', {}, h('th', {}, `R${r}`),
    [1, 2, 3, 4, 5].map((f) => {
      const n = count[`${r},${f}`] || 0;
      // heat as one of ten classes: the CSP allows no inline style
      const td = h('td', { class: `cell heat${Math.round((n / max) * 9)}`, 'data-r': r, 'data-f': f },
        h('button', { type: 'button' }, String(n)));
      td.addEventListener('click', () => showMembers(r, f));
      return td;
    })));
  async function showMembers(r, f) {
    const m = await api('GET', `/v1/rfm/members?r=${r}&f=${f}`);
    members.hidden = false;
    members.replaceChildren(h('h2', {}, `${t('members')} R${r} F${f}`),
      h('ul', {}, m.items.map((c) => h('li', {}, h('a', { href: `#/contact/${c.id}` },
        [c.first_name, c.last_name].filter(Boolean).join(' ') || c.email), ' ', c.email || ''))));
  }
  // a wrapper: main.append would show a null as text, h() skips it
  main.append(h('div', {}, h('h1', {}, t('rfm')),
    grid.as_of ? h('p', { class: 'muted' }, when(grid.as_of)) : null,
    h('table', { class: 'rfm', id: 'rfm' },
      h('thead', {}, h('tr', {}, h('th', {}, `${t('recency')} \\ ${t('frequency')}`),
        [1, 2, 3, 4, 5].map((f) => h('th', {}, `F${f}`)))),
      h('tbody', {}, rows)), members));
}
