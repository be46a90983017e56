// @ts-check
// The console's shell: hash routes, the theme, keyboard shortcuts, and a refresh every 2 s of the
// page shown (paused while the tab is hidden or a dialog is open).
import { errorBox, h } from './dom.js';
import * as views from './views.js';

const REFRESH_MS = 2000;
const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const live = document.getElementById('live');
/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;
let generation = 0;

function route() {
  const [path = '', query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const parts = path.split('/').map(decodeURIComponent);
  return { parts, q: new URLSearchParams(query) };
}

async function show() {
  const gen = ++generation;
  clearTimeout(timer);
  const { parts, q } = route();
  const section = parts[0] || 'overview';
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.getAttribute('data-nav') === section) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  /** @type {import('./views.js').View} */
  let view = {};
  try {
    if (section === 'topics' && parts[1]) view = await views.topic(main, parts[1], parts[2] ?? '', q);
    else if (section === 'topics') view = await views.topics(main);
    else if (section === 'groups' && parts[1]) view = await views.group(main, parts[1]);
    else if (section === 'groups') view = await views.groups(main);
    else if (section === 'transactions') view = await views.transactions(main);
    else view = await views.overview(main);
    document.title = `${section[0]?.toUpperCase()}${section.slice(1)} · kbroker console`;
  } catch (err) {
    if (gen === generation) main.replaceChildren(h('h1', null, 'Something went wrong'), errorBox(err));
    return;
  }
  const refresh = view.refresh;
  if (!refresh) {
    if (live) live.textContent = '';
    return;
  }
  const tick = async () => {
    if (gen !== generation) return;
    if (!document.hidden && !document.querySelector('dialog[open]')) {
      try {
        await refresh();
        if (live) live.textContent = `live · ${new Date().toLocaleTimeString()}`;
      } catch (err) {
        if (live) live.textContent = `broker unreachable: ${err instanceof Error ? err.message : err}`;
      }
    }
    if (gen === generation) timer = setTimeout(tick, REFRESH_MS);
  };
  timer = setTimeout(tick, REFRESH_MS);
}

// ---- theme ----------------------------------------------------------------------------------------

function applyTheme(/** @type {string | null} */ theme) {
  if (theme === 'dark' || theme === 'light') document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
  const btn = document.getElementById('theme');
  if (btn) btn.textContent = currentTheme() === 'dark' ? '☀ Light' : '☾ Dark';
}
function currentTheme() {
  const set = document.documentElement.dataset.theme;
  if (set) return set;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}
function toggleTheme() {
  const next = currentTheme() === 'dark' ? 'light' : 'dark';
  try {
    localStorage.setItem('kbroker-theme', next);
  } catch {
    // storage may be off: the choice lasts for this page
  }
  applyTheme(next);
}

let stored = null;
try {
  stored = localStorage.getItem('kbroker-theme');
} catch {
  stored = null;
}
applyTheme(new URLSearchParams(location.search).get('theme') ?? stored);
document.getElementById('theme')?.addEventListener('click', toggleTheme);

// ---- keyboard -------------------------------------------------------------------------------------

const SECTIONS = ['overview', 'topics', 'groups', 'transactions'];
document.addEventListener('keydown', (e) => {
  const target = /** @type {HTMLElement} */ (e.target);
  if (e.ctrlKey || e.metaKey || e.altKey || document.querySelector('dialog[open]')) return;
  if (target.closest('input, textarea, select, [contenteditable]')) return;
  const n = Number(e.key);
  if (n >= 1 && n <= SECTIONS.length) {
    location.hash = `#/${SECTIONS[n - 1]}`;
    e.preventDefault();
  } else if (e.key === '/') {
    const f = document.querySelector('[data-filter]');
    if (f instanceof HTMLElement) {
      f.focus();
      e.preventDefault();
    }
  } else if (e.key === 't') {
    toggleTheme();
  } else if (e.key === '[' || e.key === ']') {
    // Older / newer page of the records browser.
    const b = document.querySelector(`button[data-pager="${e.key === '[' ? '← Older' : 'Newer →'}"]`);
    if (b instanceof HTMLButtonElement && !b.disabled) {
      b.click();
      e.preventDefault();
    }
  }
});

window.addEventListener('hashchange', () => {
  show();
  main.focus({ preventScroll: true });
});
show();
