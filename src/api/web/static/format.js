// Times and durations for people: local time, 24-hour clock; durations in the two largest units.
import { h } from './dom.js';

const pad = (n) => String(n).padStart(2, '0');

export function localTime(iso, { seconds = true } = {}) {
  if (!iso) return '—';
  const d = new Date(iso);
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `${date} ${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ''}`;
}

/** A <time> element showing local time, with the UTC instant as its machine value and tooltip. */
export function timeEl(iso, opts) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: iso, title: `${iso} (UTC)` }, localTime(iso, opts));
}

export function duration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return m % 60 ? `${hrs} h ${m % 60} min` : `${hrs} h`;
  const days = Math.floor(hrs / 24);
  return hrs % 24 ? `${days} d ${hrs % 24} h` : `${days} d`;
}

/** Short form for chart axes: 45s, 12m, 3.5h, 2d. */
export function shortDuration(ms) {
  if (ms === null || ms === undefined) return '';
  if (ms < 60_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 3_600_000) return `${Math.round(ms / 60_000)}m`;
  if (ms < 86_400_000) return `${+(ms / 3_600_000).toFixed(1)}h`;
  return `${+(ms / 86_400_000).toFixed(1)}d`;
}

export function bytes(n) {
  if (typeof n !== 'number') return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i += 1;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function severityBadge(sev) {
  return h('span', { class: `badge sev-${sev}` }, sev);
}

export function statusBadge(status) {
  return h('span', { class: `badge status-${status}` }, status);
}

export function eventBadge(type) {
  return h('span', { class: `ev ${type.split('.')[0]}` }, type);
}
