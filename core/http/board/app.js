// The board's shell: login, the navigation of the pages whose plugin is
// loaded, and the hash router (#/contacts, #/contact/ID, #/pipeline ...).
import { api, session, setSession, h, status, hasPlugin } from './api.js';
import { t, pickLanguage, setLanguage, language } from './i18n.js';
import { contactsPage, contactPage } from './contacts.js';
import { pipelinePage } from './pipeline.js';
import { rfmPage } from './rfm.js';
import { segmentsPage } from './segments.js';
import { ticketsPage } from './tickets.js';

// The pages: route, label, the plugin whose routes they use (null: kernel).
const pages = [
  { route: 'contacts', label: 'contacts', plugin: null, show: contactsPage },
  { route: 'contact', label: null, plugin: null, show: contactPage },
  { route: 'pipeline', label: 'pipeline', plugin: 'pipeline', show: pipelinePage },
  { route: 'rfm', label: 'rfm', plugin: 'segmentation', show: rfmPage },
  { route: 'segments', label: 'segments', plugin: 'segmentation', show: segmentsPage },
  { route: 'tickets', label: 'tickets', plugin: 'ticketing', show: ticketsPage },
];

const available = () => pages.filter((p) => !p.plugin || hasPlugin(p.plugin));

function renderNav() {
  const nav = document.getElementById('nav');
  nav.replaceChildren(...available().filter((p) => p.label).map((p) =>
    h('a', { href: `#/${p.route}`, 'data-page': p.route }, t(p.label))));
  const other = language() === 'fr' ? 'en' : 'fr';
  nav.append(h('button', { type: 'button', class: 'lang', onclick: () => {
    localStorage.setItem('crm.lang', other);
    setLanguage(other);
    renderShell();
  } }, other.toUpperCase()));
  document.getElementById('who').textContent =
    `${session.user.name} · ${session.user.role}`;
  document.getElementById('logout').textContent = t('logout');
}

async function route() {
  const main = document.getElementById('main');
  const [name, arg] = location.hash.replace(/^#\/?/, '').split('/');
  const page = available().find((p) => p.route === name) || available()[0];
  for (const a of document.querySelectorAll('#nav a'))
    a.classList.toggle('on', a.dataset.page === page.route);
  status('');
  main.replaceChildren();
  try {
    await page.show(main, arg ? decodeURIComponent(arg) : undefined);
  } catch (e) {
    if (e.status === 401) return showLogin();
    status(`${t('error')}: ${e.message}`, true);
  }
}

function renderShell() {
  document.getElementById('top').hidden = false;
  renderNav();
  route();
}

function started(s) {
  setSession(s);
  setLanguage(pickLanguage(s.locale.country));
  renderShell();
}

function showLogin() {
  document.getElementById('top').hidden = true;
  const user = h('input', { name: 'user', type: 'email', autocomplete: 'username', required: true });
  const password = h('input', { name: 'password', type: 'password',
                                autocomplete: 'current-password', required: true });
  const form = h('form', { id: 'login', class: 'card' },
    h('h1', {}, 'crm'),
    h('label', {}, t('user'), user),
    h('label', {}, t('password'), password),
    h('button', { type: 'submit' }, t('login')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      started(await api('POST', '/board/login', { user: user.value, password: password.value }));
    } catch (e) {
      status(e.status === 401 ? t('login_failed') : e.message, true);
    }
  });
  document.getElementById('main').replaceChildren(form);
}

document.getElementById('logout').addEventListener('click', async () => {
  await api('POST', '/board/logout').catch(() => {});
  setSession({ user: null, csrf: null });
  showLogin();
});
window.addEventListener('hashchange', () => { if (session.user) route(); });

setLanguage(pickLanguage(''));
api('GET', '/board/session').then(started, showLogin);
