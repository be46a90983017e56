// @ts-check
// A tiny hyperscript helper and the formatting the views share.

/**
 * h('tag.class#id', {attr: value, onclick: fn}, ...children)
 * @param {string} spec
 * @param {Record<string, any> | null} [attrs]
 * @param {...any} children
 * @returns {HTMLElement}
 */
export function h(spec, attrs, ...children) {
  const [tagAndClasses, id] = spec.split('#');
  const [tag, ...classes] = (tagAndClasses ?? 'div').split('.');
  const el = document.createElement(tag || 'div');
  if (id) el.id = id;
  if (classes.length) el.className = classes.join(' ');
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className += ` ${v}`;
    else if (k === 'value') /** @type {HTMLInputElement} */ (el).value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

/**
 * @param {Node} el
 * @param {any[]} children
 */
function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/**
 * An SVG element.
 * @param {string} tag
 * @param {Record<string, string | number>} [attrs]
 * @param {...Node} children
 */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.appendChild(c);
  return el;
}

const nf = new Intl.NumberFormat();
/** @param {number} n */
export const num = (n) => nf.format(n);

/** @param {number} n */
export function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n.toFixed(0) : n.toFixed(n < 10 ? 2 : 1)} ${units[i]}`;
}

/** @param {number} n per second */
export function rate(n) {
  if (n === 0) return '0';
  if (n < 10) return n.toFixed(2);
  if (n < 1000) return n.toFixed(0);
  const units = ['k', 'M', 'G'];
  let i = -1;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${n.toFixed(1)}${units[i]}`;
}

/** @param {number} ms */
export function duration(ms) {
  if (ms < 0) return '—';
  if (ms < 1000) return `${ms} ms`;
  const sec = Math.round(ms / 1000);
  if (sec < 120) return `${sec} s`;
  const min = Math.round(sec / 60);
  if (min < 120) return `${min} min`;
  const hours = Math.round(min / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} d`;
}

/** @param {number} ms */
export function time(ms) {
  if (ms < 0) return '—';
  const d = new Date(ms);
  const pad = (/** @type {number} */ x, n = 2) => String(x).padStart(n, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** @param {string} text @param {boolean} [bad] */
export function toast(text, bad = false) {
  const box = document.getElementById('toast');
  if (!box) return;
  const el = h(bad ? 'div.bad' : 'div', null, text);
  box.appendChild(el);
  setTimeout(() => el.remove(), bad ? 7000 : 4000);
}

/**
 * A modal <dialog> (focus trapped, Escape closes) built by `body(close)`; resolves when closed.
 * @param {string} title
 * @param {(close: () => void) => Node[]} body
 */
export function modal(title, body) {
  const dlg = /** @type {HTMLDialogElement} */ (h('dialog', { 'aria-label': title }));
  const close = () => dlg.close();
  dlg.append(h('h2', null, title), ...body(close));
  document.body.appendChild(dlg);
  dlg.addEventListener('close', () => dlg.remove());
  dlg.showModal();
  const first = dlg.querySelector('input, select, textarea, button');
  if (first instanceof HTMLElement) first.focus();
  return dlg;
}

/** @param {unknown} err */
export const errorBox = (err) =>
  h('div.error', { role: 'alert' }, err instanceof Error ? err.message : String(err));
