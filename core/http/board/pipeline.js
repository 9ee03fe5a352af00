// The pipeline as a kanban (GET /v1/pipelines/{p}/board): a column per
// stage with its count and sums; dragging a card PATCHes the deal's stage
// and redraws from the server's figures (never sums computed here).
import { api, h, money, may, status } from './api.js';
import { t } from './i18n.js';

async function defaultPipeline() {
  const deals = await api('GET', '/v1/deals?limit=1');
  return (deals.items[0] && deals.items[0].pipeline) || 'default';
}

function card(deal, currency, draggable) {
  const el = h('article', { class: 'deal', draggable: draggable ? 'true' : false,
                            'data-deal': deal.id },
    h('strong', {}, deal.title), h('span', { class: 'amount' }, money(deal.amount, currency)),
    deal.owner ? h('small', {}, deal.owner) : null);
  if (draggable)
    el.addEventListener('dragstart', (ev) => ev.dataTransfer.setData('text/plain', String(deal.id)));
  return el;
}

function column(stage, currency, canMove, onDrop) {
  const col = h('section', { class: 'stage', 'data-stage': stage.name },
    h('header', {}, h('h2', {}, stage.name),
      h('p', { class: 'sums' },
        h('span', { class: 'count', 'data-count': stage.count }, `${stage.count} ${t(stage.count === 1 ? 'deal' : 'deals')}`), ' · ',
        h('span', { class: 'sum', 'data-amount': stage.amount }, money(stage.amount, currency)), ' · ',
        h('span', { class: 'weighted', 'data-weighted': stage.weighted },
          `${money(stage.weighted, currency)} ${t('weighted')}`))),
    stage.deals.map((d) => card(d, currency, canMove)));
  if (canMove) {
    col.addEventListener('dragover', (ev) => { ev.preventDefault(); col.classList.add('over'); });
    col.addEventListener('dragleave', () => col.classList.remove('over'));
    col.addEventListener('drop', (ev) => {
      ev.preventDefault();
      col.classList.remove('over');
      onDrop(ev.dataTransfer.getData('text/plain'), stage.name);
    });
  }
  return col;
}

export async function pipelinePage(main, name) {
  const pipeline = name || await defaultPipeline();
  const canMove = may('deal');
  const board = h('div', { class: 'kanban', id: 'kanban' });
  main.append(h('h1', {}, `${t('pipeline')} · ${pipeline}`));
  if (!canMove) main.append(h('p', { class: 'muted' }, t('read_only')));
  main.append(board);
  async function draw() {
    const b = await api('GET', `/v1/pipelines/${encodeURIComponent(pipeline)}/board`);
    board.replaceChildren(...b.stages.map((s) => column(s, b.currency, canMove, move)));
  }
  async function move(id, stage) {
    try {
      await api('PATCH', `/v1/deals/${id}`, { stage });
      status(t('moved'));
    } catch (e) { status(e.message, true); }
    await draw();
  }
  await draw();
}
