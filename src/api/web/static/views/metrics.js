/* global window */
import { get, query } from '../api.js';
import { fill, h } from '../dom.js';
import { duration, shortDuration } from '../format.js';
import { barChart, columnChart, lineChart } from '../charts.js';

const RANGES = [
  ['4', 'Last 4 weeks'],
  ['12', 'Last 12 weeks'],
  ['26', 'Last 26 weeks'],
  ['52', 'Last 52 weeks'],
];
const SEVERITY_COLORS = { SEV1: '#b3261e', SEV2: '#c25400', SEV3: '#a88400', SEV4: '#3f5f8a' };
const WEEK_MS = 7 * 86_400_000;

function tile(label, value, sub, id) {
  return h(
    'div',
    { class: 'tile', id },
    h('div', { class: 'label' }, label),
    h('div', { class: 'value' }, value),
    sub ? h('div', { class: 'sub' }, sub) : null,
  );
}

function dataTable(caption, head, rows) {
  return h(
    'details',
    { class: 'data' },
    h('summary', {}, `${caption}: show the numbers`),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            head.map((c, i) => h('th', { scope: 'col', class: i ? 'num' : null }, c)),
          ),
        ),
        h(
          'tbody',
          {},
          rows.map((r) =>
            h(
              'tr',
              {},
              r.map((c, i) => h('td', { class: i ? 'num' : null }, c)),
            ),
          ),
        ),
      ),
    ),
  );
}

function durationFigure(id, title, weeks, stat) {
  const labels = weeks.map((g) => g.key.slice(5));
  const chart = lineChart({
    labels,
    durations: true,
    format: shortDuration,
    label: `${title}: median and 90th percentile per week`,
    series: [
      { name: 'median', values: weeks.map((g) => g[stat].medianMs), color: '#2f6db3' },
      { name: '90th percentile', values: weeks.map((g) => g[stat].p90Ms), color: '#b3261e', dashed: true },
    ],
  });
  return h(
    'figure',
    { class: 'chart panel', id },
    h('figcaption', {}, title),
    chart,
    dataTable(
      title,
      ['Week', 'Incidents', 'Median', '90th percentile'],
      weeks.map((g) => [g.key, String(g[stat].n), duration(g[stat].medianMs), duration(g[stat].p90Ms)]),
    ),
  );
}

/** Trends: time to acknowledge and resolve by week, incidents by severity and service; drills apart. */
export async function renderMetrics(main, { query: params }) {
  const weeks = RANGES.some(([v]) => v === params.get('weeks')) ? params.get('weeks') : '12';
  const to = new Date();
  const from = new Date(to.getTime() - Number(weeks) * WEEK_MS);
  const range = { from: from.toISOString(), to: to.toISOString() };
  const [byWeek, bySeverity, byService] = await Promise.all(
    ['week', 'severity', 'service'].map((groupBy) => get(`/api/v1/metrics/summary${query({ ...range, groupBy })}`)),
  );
  const t = byWeek.total;

  const rangeSelect = h(
    'select',
    { id: 'metrics-range' },
    RANGES.map(([v, label]) => h('option', { value: v, selected: v === weeks }, label)),
  );
  rangeSelect.addEventListener('change', () => {
    window.location.hash = `#/metrics?weeks=${rangeSelect.value}`;
  });

  const severities = bySeverity.groups.map((g) => ({ label: g.key, value: g.count, color: SEVERITY_COLORS[g.key] }));
  const services = byService.groups.slice(0, 12).map((g) => ({ label: g.key, value: g.count, color: '#2f6db3' }));
  const weekly = byWeek.groups;

  fill(
    main,
    h(
      'div',
      { class: 'row spread' },
      h('h1', {}, 'Metrics'),
      h('div', { class: 'row' }, h('label', { for: 'metrics-range' }, 'Range'), rangeSelect),
    ),
    h(
      'p',
      { class: 'muted small' },
      `Incidents declared from ${range.from.slice(0, 10)} to ${range.to.slice(0, 10)}. Drills are left out of every figure and counted apart. Time to acknowledge runs from detection; time to resolve from the start of impact.`,
    ),
    h(
      'section',
      { class: 'tiles', 'aria-label': 'Totals' },
      tile('Incidents', String(t.count), `${t.open} not resolved`, 'tile-count'),
      tile(
        'Median time to acknowledge',
        duration(t.timeToAcknowledge.medianMs),
        `p90 ${duration(t.timeToAcknowledge.p90Ms)} · n=${t.timeToAcknowledge.n}`,
        'tile-tta',
      ),
      tile(
        'Median time to mitigate',
        duration(t.timeToMitigate.medianMs),
        `p90 ${duration(t.timeToMitigate.p90Ms)} · n=${t.timeToMitigate.n}`,
      ),
      tile(
        'Median time to resolve',
        duration(t.timeToResolve.medianMs),
        `p90 ${duration(t.timeToResolve.p90Ms)} · n=${t.timeToResolve.n}`,
        'tile-ttr',
      ),
      tile('Median time to detect', duration(t.timeToDetect.medianMs), `p90 ${duration(t.timeToDetect.p90Ms)}`),
      tile(
        'Drills (not counted)',
        String(byWeek.drills.total.count),
        byWeek.drills.total.count ? `median resolve ${duration(byWeek.drills.total.timeToResolve.medianMs)}` : 'none in range',
        'tile-drills',
      ),
    ),
    h(
      'div',
      { class: 'charts' },
      durationFigure('chart-tta', 'Time to acknowledge', weekly, 'timeToAcknowledge'),
      durationFigure('chart-ttr', 'Time to resolve', weekly, 'timeToResolve'),
      h(
        'figure',
        { class: 'chart panel', id: 'chart-severity' },
        h('figcaption', {}, 'Incidents by severity'),
        barChart({ items: severities, label: 'Incidents by severity', labelWidth: 70 }),
        dataTable(
          'Incidents by severity',
          ['Severity', 'Incidents', 'Median resolve'],
          bySeverity.groups.map((g) => [g.key, String(g.count), duration(g.timeToResolve.medianMs)]),
        ),
      ),
      h(
        'figure',
        { class: 'chart panel', id: 'chart-service' },
        h('figcaption', {}, 'Incidents by service'),
        barChart({ items: services, label: 'Incidents by service (top 12)' }),
        dataTable(
          'Incidents by service',
          ['Service', 'Incidents', 'Median resolve'],
          byService.groups.map((g) => [g.key, String(g.count), duration(g.timeToResolve.medianMs)]),
        ),
      ),
      h(
        'figure',
        { class: 'chart panel', id: 'chart-weekly' },
        h('figcaption', {}, 'Incidents per week'),
        columnChart({ labels: weekly.map((g) => g.key.slice(5)), values: weekly.map((g) => g.count), label: 'Incidents per week' }),
        dataTable(
          'Incidents per week',
          ['Week', 'Incidents', 'Not resolved'],
          weekly.map((g) => [g.key, String(g.count), String(g.open)]),
        ),
      ),
    ),
  );
  return undefined;
}
