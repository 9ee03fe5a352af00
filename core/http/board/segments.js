// Segments (GET /v1/segments): each one's size now and a small SVG plot of
// its size after each membership change; a click lists its members.
import { api, h, when } from './api.js';
import { t } from './i18n.js';

function plot(history) {
  const w = 240, hgt = 60, pad = 4;
  const pts = history.length ? history : [{ at: 0, size: 0 }];
  const t0 = Math.min(...pts.map((p) => p.at)), t1 = Math.max(...pts.map((p) => p.at));
  const top = Math.max(1, ...pts.map((p) => p.size));
  const x = (at) => (t1 === t0 ? w / 2 : pad + ((at - t0) / (t1 - t0)) * (w - 2 * pad));
  const y = (s) => hgt - pad - (s / top) * (hgt - 2 * pad);
  const coords = pts.map((p) => `${x(p.at).toFixed(1)},${y(p.size).toFixed(1)}`).join(' ');
  return h('svg', { viewBox: `0 0 ${w} ${hgt}`, class: 'plot', role: 'img',
                    'aria-label': `${t('history')}: ${pts.map((p) => p.size).join(', ')}` },
    h('polyline', { points: coords, fill: 'none', stroke: 'currentColor', 'stroke-width': 2 }),
    pts.map((p) => h('circle', { cx: x(p.at).toFixed(1), cy: y(p.size).toFixed(1), r: 2.5,
                                 fill: 'currentColor' })));
}

// A click on a segment lists its current members below the tiles.
async function showMembers(box, seg) {
  const m = await api('GET', `/v1/segments/${encodeURIComponent(seg.name)}/members?limit=100`);
  box.hidden = false;
  // replaceChildren would show a null as text: the optional note is filtered out
  box.replaceChildren(...[h('h2', {}, `${t('members')} · ${seg.label || seg.name}`),
    h('ul', {}, m.items.map((c) => h('li', {}, h('a', { href: `#/contact/${c.id}` },
      [c.first_name, c.last_name].filter(Boolean).join(' ') || c.email || `#${c.id}`), ' ',
      c.email || ''))),
    m.next_cursor !== null ? h('p', { class: 'muted' }, t('first_100')) : null].filter(Boolean));
}

export async function segmentsPage(main) {
  const segs = await api('GET', '/v1/segments');
  const members = h('section', { id: 'segment-members', class: 'card', hidden: true });
  main.append(h('h1', {}, t('segments')),
    h('div', { class: 'tiles', id: 'segments' }, segs.items.map((s) => {
      const last = s.history.length ? s.history[s.history.length - 1].at : null;
      return h('section', { class: 'card segment', 'data-segment': s.name },
        h('h2', {}, h('button', { type: 'button', class: 'link',
                                  onclick: () => showMembers(members, s) }, s.label || s.name)),
        h('p', { class: 'big' }, String(s.size)),
        plot(s.history), last ? h('small', { class: 'muted' }, when(last)) : null);
    })), members);
}
