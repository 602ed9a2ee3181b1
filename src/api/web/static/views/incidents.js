/* global window, EventSource */
import { get, query } from '../api.js';
import { announce, fill, h } from '../dom.js';
import { severityBadge, statusBadge, timeEl } from '../format.js';

const STATUSES = ['open', 'acknowledged', 'resolved', 'closed'];
const SEVERITIES = ['SEV1', 'SEV2', 'SEV3', 'SEV4'];
const FILTERS = ['q', 'status', 'severity', 'service', 'runbook'];

function select(id, label, options, value) {
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    h(
      'select',
      { id, name: id },
      h('option', { value: '' }, 'Any'),
      options.map((o) => h('option', { value: o, selected: o === value }, o)),
    ),
  );
}

function row(incident) {
  return h(
    'tr',
    {},
    h('td', { class: 'nowrap' }, h('a', { href: `#/incidents/${incident.id}` }, incident.id)),
    h('td', {}, incident.title, incident.drill ? [' ', h('span', { class: 'badge drill' }, 'drill')] : null),
    h('td', {}, severityBadge(incident.severity)),
    h('td', {}, statusBadge(incident.status)),
    h('td', {}, incident.phase),
    h('td', {}, incident.service ?? h('span', { class: 'muted' }, '—')),
    h('td', {}, incident.runbookId),
    h('td', { class: 'nowrap' }, timeEl(incident.declaredAt, { seconds: false })),
  );
}

/** The incident list: filters and title search kept in the URL (#/incidents?status=open&q=db), newest first. */
export async function renderIncidentList(main, { query: params }) {
  const current = Object.fromEntries(FILTERS.map((k) => [k, params.get(k) ?? '']));
  const runbooks = await get('/api/v1/runbooks')
    .then((r) => (r.items ?? r.runbooks ?? []).map((rb) => rb.id).filter(Boolean))
    .catch(() => []);

  const search = h('input', { type: 'search', id: 'q', name: 'q', value: current.q, placeholder: 'title contains…' });
  const service = h('input', { type: 'text', id: 'service', name: 'service', value: current.service, list: 'known-services', size: 14 });
  const servicesList = h('datalist', { id: 'known-services' });
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Find incidents' },
    h('div', { class: 'field' }, h('label', { for: 'q' }, 'Search titles'), search),
    select('status', 'Status', STATUSES, current.status),
    select('severity', 'Severity', SEVERITIES, current.severity),
    h('div', { class: 'field' }, h('label', { for: 'service' }, 'Service'), service, servicesList),
    select('runbook', 'Runbook', runbooks, current.runbook),
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'submit', class: 'primary', id: 'apply-filters' }, 'Apply'),
      h('button', { type: 'button', id: 'clear-filters', onclick: () => (window.location.hash = '#/incidents') }, 'Clear'),
    ),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const data = new window.FormData(form);
    const next = Object.fromEntries(FILTERS.map((k) => [k, String(data.get(k) ?? '').trim()]));
    window.location.hash = `#/incidents${query(next)}`;
  });
  for (const id of ['status', 'severity', 'runbook']) form.querySelector(`#${id}`).addEventListener('change', () => form.requestSubmit());

  const tbody = h('tbody');
  const caption = h('caption', {}, 'Loading…');
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  const live = h('span', { class: 'badge offline', title: 'Live updates' }, 'connecting…');
  const filtered = FILTERS.some((k) => current[k]);
  let items = [];
  let cursor = null;

  const filterQuery = (extra) => query({ ...current, q: current.q || undefined, ...extra });
  async function load(reset) {
    const path = `/api/v1/incidents/search${filterQuery({ cursor: reset ? undefined : cursor, limit: reset ? Math.max(50, Math.min(200, items.length)) : 50 })}`;
    const page = await get(path);
    items = reset ? page.items : items.concat(page.items);
    cursor = page.nextCursor;
    fill(
      tbody,
      items.length
        ? items.map(row)
        : h('tr', {}, h('td', { colspan: 8, class: 'empty' }, filtered ? 'No incident matches these filters.' : 'No incidents yet.')),
    );
    caption.textContent = `${items.length}${cursor ? '+' : ''} incident${items.length === 1 ? '' : 's'}${filtered ? ' matching the filters' : ''}, newest first`;
    more.hidden = !cursor;
    const services = [...new Set(items.map((i) => i.service).filter(Boolean))].sort();
    fill(
      servicesList,
      services.map((s) => h('option', { value: s })),
    );
  }
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      await load(false);
      announce(`${items.length} incidents shown`);
    } finally {
      more.disabled = false;
    }
  });

  fill(
    main,
    h('div', { class: 'row spread' }, h('h1', {}, 'Incidents'), live),
    h('section', { class: 'panel', 'aria-label': 'Filters' }, form),
    h(
      'section',
      { class: 'panel' },
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'incidents', id: 'incident-table' },
          caption,
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Incident', 'Title', 'Severity', 'Status', 'Phase', 'Service', 'Runbook', 'Declared'].map((c) =>
                h('th', { scope: 'col' }, c),
              ),
            ),
          ),
          tbody,
        ),
      ),
      h('div', { class: 'row' }, more),
    ),
  );
  await load(true);

  // Any incident changing anywhere (another API process or the worker) refreshes what is shown.
  const stream = new EventSource('/api/v1/stream');
  stream.addEventListener('ready', () => {
    live.className = 'badge live';
    live.textContent = 'live';
  });
  stream.addEventListener('incidents', async () => {
    await load(true).catch(() => undefined);
    announce('The incident list was updated');
  });
  stream.addEventListener('error', () => {
    live.className = 'badge offline';
    live.textContent = 'reconnecting…';
  });
  return () => stream.close();
}
