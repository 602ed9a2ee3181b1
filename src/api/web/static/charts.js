// Charts as inline SVG, drawn from numbers: a line chart over periods and horizontal bar charts. Each chart
// is an image with a text alternative; the page also offers the numbers as a table beside it.
import { svg } from './dom.js';

const WIDTH = 640;

function niceMax(v) {
  if (!(v > 0)) return 1;
  const exp = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * exp >= v) return m * exp;
  return 10 * exp;
}

/** Durations read better on round minute/hour steps than on decimal ones. */
function niceDurationMax(v) {
  const steps = [
    60e3,
    120e3,
    300e3,
    600e3,
    900e3,
    1800e3,
    3600e3,
    7200e3,
    4 * 3600e3,
    8 * 3600e3,
    12 * 3600e3,
    86400e3,
    2 * 86400e3,
    7 * 86400e3,
  ];
  for (const s of steps) if (s * 4 >= v) return s * 4;
  return niceMax(v);
}

/**
 * Lines over categories (e.g. ISO weeks). `series`: [{ name, values: (number|null)[], color, dashed }]; a null
 * value breaks the line (no incident reached that milestone in that period).
 */
export function lineChart({ labels, series, format, label, durations = false, height = 250 }) {
  const m = { top: 30, right: 18, bottom: 42, left: 58 };
  const w = WIDTH - m.left - m.right;
  const hgt = height - m.top - m.bottom;
  const all = series.flatMap((s) => s.values).filter((v) => typeof v === 'number');
  const max = durations ? niceDurationMax(Math.max(0, ...all)) : niceMax(Math.max(0, ...all));
  const x = (i) => m.left + (labels.length <= 1 ? w / 2 : (i * w) / (labels.length - 1));
  const y = (v) => m.top + hgt - (v / max) * hgt;
  const root = svg('svg', { viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': label, class: 'chart' });
  const grid = svg('g', { class: 'grid' });
  for (let t = 0; t <= 4; t++) {
    const v = (max * t) / 4;
    grid.append(svg('line', { x1: m.left, x2: m.left + w, y1: y(v), y2: y(v) }));
    grid.append(svg('text', { x: m.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, format(v)));
  }
  root.append(grid);
  const every = Math.max(1, Math.ceil(labels.length / 9));
  const axis = svg('g', { class: 'axis' });
  labels.forEach((l, i) => {
    if (i % every !== 0 && i !== labels.length - 1) return;
    axis.append(svg('text', { x: x(i), y: m.top + hgt + 18, 'text-anchor': 'middle' }, l));
  });
  root.append(axis);
  for (const s of series) {
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (typeof v !== 'number') {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    if (d)
      root.append(
        svg('path', {
          d,
          fill: 'none',
          stroke: s.color,
          'stroke-width': 2.5,
          'stroke-dasharray': s.dashed ? '6 4' : null,
          'stroke-linejoin': 'round',
        }),
      );
    s.values.forEach((v, i) => {
      if (typeof v !== 'number') return;
      root.append(
        svg(
          'circle',
          { cx: x(i), cy: y(v), r: 3.5, fill: s.dashed ? '#fff' : s.color, stroke: s.color, 'stroke-width': 2 },
          svg('title', {}, `${labels[i]}: ${s.name} ${format(v)}`),
        ),
      );
    });
  }
  const legend = svg('g', { class: 'legend' });
  let lx = m.left;
  for (const s of series) {
    legend.append(
      svg('line', {
        x1: lx,
        x2: lx + 22,
        y1: 12,
        y2: 12,
        stroke: s.color,
        'stroke-width': 2.5,
        'stroke-dasharray': s.dashed ? '6 4' : null,
      }),
    );
    legend.append(svg('text', { x: lx + 28, y: 16 }, s.name));
    lx += 40 + s.name.length * 7;
  }
  root.append(legend);
  return root;
}

/** Horizontal bars: [{ label, value, color }], longest first as given. */
export function barChart({ items, format = String, label, labelWidth = 130 }) {
  const row = 30;
  const m = { top: 6, right: 60, bottom: 6, left: labelWidth };
  const height = m.top + m.bottom + Math.max(1, items.length) * row;
  const w = WIDTH - m.left - m.right;
  const max = Math.max(4, Math.ceil(niceMax(Math.max(1, ...items.map((i) => i.value))) / 4) * 4);
  const root = svg('svg', { viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': label, class: 'chart' });
  if (items.length === 0) {
    root.append(svg('text', { x: WIDTH / 2, y: height / 2 + 4, 'text-anchor': 'middle' }, 'No incidents in this range'));
    return root;
  }
  items.forEach((item, i) => {
    const top = m.top + i * row;
    const len = Math.max(item.value > 0 ? 2 : 0, (item.value / max) * w);
    const name = item.label.length > 20 ? `${item.label.slice(0, 19)}…` : item.label;
    root.append(svg('text', { x: m.left - 8, y: top + row / 2 + 4, 'text-anchor': 'end' }, name, svg('title', {}, item.label)));
    root.append(
      svg(
        'rect',
        { x: m.left, y: top + 5, width: len.toFixed(1), height: row - 10, rx: 3, fill: item.color ?? '#2f6db3' },
        svg('title', {}, `${item.label}: ${format(item.value)}`),
      ),
    );
    root.append(svg('text', { x: m.left + len + 6, y: top + row / 2 + 4 }, format(item.value)));
  });
  return root;
}

/** Columns per period (e.g. incidents per week). */
export function columnChart({ labels, values, color = '#5b4a9e', label, height = 200 }) {
  const m = { top: 12, right: 12, bottom: 42, left: 40 };
  const w = WIDTH - m.left - m.right;
  const hgt = height - m.top - m.bottom;
  const max = Math.max(4, Math.ceil(niceMax(Math.max(1, ...values)) / 4) * 4);
  const band = w / Math.max(1, labels.length);
  const root = svg('svg', { viewBox: `0 0 ${WIDTH} ${height}`, role: 'img', 'aria-label': label, class: 'chart' });
  const grid = svg('g', { class: 'grid' });
  for (let t = 0; t <= 4; t++) {
    const v = (max * t) / 4;
    const yy = m.top + hgt - (v / max) * hgt;
    grid.append(svg('line', { x1: m.left, x2: m.left + w, y1: yy, y2: yy }));
    grid.append(svg('text', { x: m.left - 6, y: yy + 4, 'text-anchor': 'end' }, Number.isInteger(v) ? String(v) : v.toFixed(1)));
  }
  root.append(grid);
  const every = Math.max(1, Math.ceil(labels.length / 9));
  labels.forEach((l, i) => {
    const v = values[i] ?? 0;
    const bh = (v / max) * hgt;
    const bx = m.left + i * band + band * 0.15;
    root.append(
      svg(
        'rect',
        { x: bx.toFixed(1), y: (m.top + hgt - bh).toFixed(1), width: (band * 0.7).toFixed(1), height: bh.toFixed(1), rx: 2, fill: color },
        svg('title', {}, `${l}: ${v}`),
      ),
    );
    if (i % every === 0 || i === labels.length - 1)
      root.append(svg('text', { x: m.left + i * band + band / 2, y: m.top + hgt + 18, 'text-anchor': 'middle' }, l));
  });
  return root;
}
