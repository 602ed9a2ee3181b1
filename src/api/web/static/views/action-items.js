/* global window */
import { get, query } from '../api.js';
import { fill, h } from '../dom.js';
import { severityBadge, statusBadge } from '../format.js';

const today = () => new Date().toISOString().slice(0, 10);

/** Action items across incidents, soonest due first; open ones by default. */
export async function renderActionItems(main, { query: params }) {
  const status = params.get('status') ?? 'open';
  const tbody = h('tbody');
  const caption = h('caption');
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  let items = [];
  let cursor = null;

  async function load() {
    const page = await get(`/api/v1/action-items${query({ status: status === 'all' ? undefined : status, cursor, limit: 100 })}`);
    items = items.concat(page.items);
    cursor = page.nextCursor;
    const now = today();
    fill(
      tbody,
      items.length
        ? items.map((a) =>
            h(
              'tr',
              {},
              h('td', {}, a.title),
              h('td', {}, a.owner ?? h('span', { class: 'muted' }, 'nobody')),
              h(
                'td',
                { class: 'nowrap' },
                a.due ?? h('span', { class: 'muted' }, '—'),
                a.status === 'open' && a.due && a.due < now ? [' ', h('span', { class: 'badge status-open' }, 'overdue')] : null,
              ),
              h('td', {}, h('span', { class: `badge ${a.status === 'done' ? 'status-resolved' : 'status-open'}` }, a.status)),
              h(
                'td',
                {},
                h('a', { href: `#/incidents/${a.incidentId}/postmortem` }, a.incidentId),
                ' ',
                a.incident.title,
                ' ',
                severityBadge(a.incident.severity),
                ' ',
                statusBadge(a.incident.status),
              ),
            ),
          )
        : h('tr', {}, h('td', { colspan: 5, class: 'empty' }, status === 'open' ? 'No open action items.' : 'No action items.')),
    );
    caption.textContent = `${items.length}${cursor ? '+' : ''} ${status === 'all' ? '' : `${status} `}action item${items.length === 1 ? '' : 's'}, soonest due first`;
    more.hidden = !cursor;
  }
  more.addEventListener('click', () => void load());

  const filter = h(
    'select',
    { id: 'ai-status' },
    ['open', 'done', 'all'].map((s) => h('option', { value: s, selected: s === status }, s)),
  );
  filter.addEventListener('change', () => {
    window.location.hash = `#/action-items?status=${filter.value}`;
  });
  fill(
    main,
    h('h1', {}, 'Action items'),
    h(
      'section',
      { class: 'panel' },
      h('div', { class: 'row' }, h('label', { for: 'ai-status' }, 'Show'), filter),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          {},
          caption,
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Action', 'Owner', 'Due', 'Status', 'Incident'].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          tbody,
        ),
      ),
      h('div', { class: 'row' }, more),
    ),
  );
  await load();
  return undefined;
}
