// @ts-check
// Hand-written SVG line charts (no library): up to two series over time, a light grid, the
// maximum on the y axis and the time span on the x axis. Colours come from the theme's CSS.
import { h, s } from './dom.js';

/**
 * @typedef {{ name: string, points: [number, number][] }} Series
 * @param {string} title
 * @param {Series[]} series points are [time ms, value]
 * @param {(v: number) => string} fmt
 * @returns {HTMLElement}
 */
export function lineChart(title, series, fmt) {
  const W = 320;
  const H = 120;
  const pad = { l: 44, r: 6, t: 8, b: 16 };
  const all = series.flatMap((x) => x.points);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img' });
  const last = series.map((x) => x.points[x.points.length - 1]?.[1]);
  const label = `${title}: ${series.map((x, i) => `${x.name} ${last[i] === undefined ? 'no data' : fmt(last[i])}`).join(', ')}`;
  svg.setAttribute('aria-label', label);
  const legend = h(
    'span.legend',
    null,
    series.map((x, i) => [
      h(`span.swatch.c${i}`),
      `${x.name} ${last[i] === undefined ? '—' : fmt(last[i])}  `,
    ]),
  );
  const box = h('div.chart', null, h('h3', null, title, legend), svg);
  if (all.length < 2) {
    const note = s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'axis' });
    note.textContent = 'collecting samples…';
    svg.appendChild(note);
    return box;
  }
  const t0 = Math.min(...all.map((p) => p[0]));
  const t1 = Math.max(...all.map((p) => p[0]));
  const vmax = Math.max(...all.map((p) => p[1]), 0) || 1;
  const x = (/** @type {number} */ t) => pad.l + ((t - t0) / Math.max(1, t1 - t0)) * (W - pad.l - pad.r);
  const y = (/** @type {number} */ v) => pad.t + (1 - v / vmax) * (H - pad.t - pad.b);
  for (const f of [0, 0.5, 1]) {
    svg.appendChild(s('line', { class: 'grid', x1: pad.l, x2: W - pad.r, y1: y(vmax * f), y2: y(vmax * f) }));
  }
  const yl = s('text', { x: pad.l - 4, y: pad.t + 8, 'text-anchor': 'end', class: 'axis' });
  yl.textContent = fmt(vmax);
  const y0 = s('text', { x: pad.l - 4, y: H - pad.b, 'text-anchor': 'end', class: 'axis' });
  y0.textContent = '0';
  const span = Math.round((t1 - t0) / 1000);
  const xl = s('text', { x: pad.l, y: H - 3, class: 'axis' });
  xl.textContent = span >= 120 ? `−${Math.round(span / 60)} min` : `−${span} s`;
  const xr = s('text', { x: W - pad.r, y: H - 3, 'text-anchor': 'end', class: 'axis' });
  xr.textContent = 'now';
  svg.append(yl, y0, xl, xr);
  series.forEach((ser, i) => {
    if (ser.points.length === 0) return;
    const d = ser.points
      .map((p, j) => `${j ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`)
      .join('');
    if (i === 0) {
      const first = ser.points[0];
      const lastP = ser.points[ser.points.length - 1];
      if (first && lastP) {
        svg.appendChild(s('path', { class: 'a0', d: `${d}L${x(lastP[0])},${y(0)}L${x(first[0])},${y(0)}Z` }));
      }
    }
    svg.appendChild(s('path', { class: `s${i}`, d, 'vector-effect': 'non-scaling-stroke' }));
  });
  return box;
}

/**
 * Per-second rates between consecutive samples of a counter.
 * @param {{ t: number }[]} samples
 * @param {(s: any) => number} get
 * @returns {[number, number][]}
 */
export function rates(samples, get) {
  /** @type {[number, number][]} */
  const out = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1];
    const b = samples[i];
    if (!a || !b) continue;
    const dt = (b.t - a.t) / 1000;
    if (dt <= 0) continue;
    out.push([b.t, Math.max(0, (get(b) - get(a)) / dt)]);
  }
  return out;
}
