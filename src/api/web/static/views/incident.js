/* global EventSource, setTimeout, clearTimeout */
import { ApiError, api, get } from '../api.js';
import { announce, fill, h } from '../dom.js';
import { bytes, duration, eventBadge, severityBadge, statusBadge, timeEl } from '../format.js';

const PHASES = ['detect', 'report', 'decide', 'execute', 'recover', 'retrospective'];
const ROLE_ORDER = ['viewer', 'responder', 'commander', 'admin'];
const atLeast = (role, needed) => ROLE_ORDER.indexOf(role) >= ROLE_ORDER.indexOf(needed);

const FILTERS = {
  all: { label: 'All events', match: () => true },
  key: {
    label: 'Key events',
    match: (e) =>
      /^(incident|decision|page|notification|backup|task|note|severity|alerts)\./.test(e.type) ||
      e.type === 'step.failed' ||
      e.type === 'step.compensated',
  },
  decisions: { label: 'Decisions', match: (e) => e.type.startsWith('decision.') },
  paging: {
    label: 'Paging and notifications',
    match: (e) => /^(page|notification)\./.test(e.type) || e.type === 'incident.acknowledged' || e.type === 'incident.escalated',
  },
  steps: { label: 'Phases and steps', match: (e) => /^(phase|step|check|backup|task)\./.test(e.type) },
  alerts: { label: 'Alerts', match: (e) => /^alerts?\./.test(e.type) },
  notes: { label: 'Notes', match: (e) => e.type === 'note.added' },
};

async function loadTimeline(id) {
  const events = [];
  let after = 0;
  for (;;) {
    const page = await get(`/api/v1/incidents/${id}/timeline?after=${after}&limit=5000`);
    events.push(...page.events);
    if (page.next === null) return events;
    after = page.next;
  }
}

function loadPostmortem(id) {
  return get(`/api/v1/incidents/${id}/postmortem`).catch((err) => {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  });
}

function timelineRow(e, fresh) {
  return h(
    'tr',
    { class: fresh ? 'new' : null, dataset: { seq: String(e.seq) } },
    h('td', { class: 'nowrap' }, timeEl(e.at)),
    h('td', {}, e.phase),
    h('td', { class: 'type' }, eventBadge(e.type)),
    h('td', {}, e.actor?.name ?? ''),
    h('td', {}, e.summary),
  );
}

function list(items, render, empty) {
  return items.length
    ? h(
        'ul',
        { class: 'plain' },
        items.map((i) => h('li', {}, render(i))),
      )
    : h('p', { class: 'empty' }, empty);
}

function phaseBar(incident, spans) {
  const byPhase = new Map();
  for (const s of spans) if (!byPhase.has(s.phase)) byPhase.set(s.phase, s);
  const reachedLater = (i) => PHASES.slice(i + 1).some((p) => byPhase.has(p)) || incident.status === 'closed';
  const total = spans.reduce((sum, s) => sum + s.durationMs, 0) || 1;
  return h(
    'ol',
    { class: 'phasebar', 'aria-label': 'Phases and how long each took' },
    PHASES.map((phase, i) => {
      const span = byPhase.get(phase);
      let state;
      let text;
      if (span) {
        state = span.completedAt ? (span.interrupted ? 'left early' : 'done') : 'running';
        text = `${duration(span.durationMs)}${span.completedAt ? (span.interrupted ? ' · left early' : '') : ' · running'}`;
      } else {
        state = reachedLater(i) ? 'skipped' : 'not yet';
        text = state;
      }
      const li = h(
        'li',
        {
          class: `phase-${phase}${span ? '' : ' skipped'}${state === 'running' ? ' running' : ''}`,
          title: span ? `${phase}: entered ${span.enteredAt}${span.completedAt ? `, left ${span.completedAt}` : ''}` : `${phase}: ${state}`,
        },
        h('span', { class: 'name' }, phase),
        h('span', { class: 'dur' }, text),
      );
      li.style.flexGrow = String(span ? Math.max(0.6, (span.durationMs / total) * PHASES.length) : 0.4);
      return li;
    }),
  );
}

function milestones(m) {
  const rows = [
    ['Impact started', m.milestones.impactStartedAt, null],
    ['Detected', m.milestones.detectedAt, ['time to detect', m.durations.timeToDetectMs]],
    ['Reported', m.milestones.reportedAt, null],
    ['Acknowledged', m.milestones.acknowledgedAt, ['time to acknowledge', m.durations.timeToAcknowledgeMs]],
    ['Mitigated', m.milestones.mitigatedAt, ['time to mitigate', m.durations.timeToMitigateMs]],
    ['Resolved', m.milestones.resolvedAt, ['time to resolve', m.durations.timeToResolveMs]],
  ];
  return h(
    'dl',
    { class: 'milestones' },
    rows.map(([label, at, dur]) =>
      h(
        'div',
        {},
        h('dt', {}, label),
        h('dd', {}, timeEl(at)),
        dur ? h('dd', { class: 'small muted' }, `${dur[0]}: ${duration(dur[1])}`) : null,
      ),
    ),
  );
}

function pagedPanel(events) {
  const paged = events.filter((e) =>
    /^(page\.(sent|failed|exhausted|started)|notification\.sent|incident\.(acknowledged|escalated))$/.test(e.type),
  );
  return list(
    paged,
    (e) => [
      timeEl(e.at),
      ' ',
      eventBadge(e.type),
      h(
        'div',
        {},
        e.summary,
        e.data?.channel || e.data?.via ? h('span', { class: 'muted small' }, ` (${e.data.channel ?? e.data.via})`) : null,
      ),
    ],
    'Nobody was paged or notified yet.',
  );
}

function decisionsPanel(events, live) {
  const steps = new Map();
  for (const e of events) {
    if (!e.type.startsWith('decision.')) continue;
    const id = e.data?.stepId ?? '?';
    const d = steps.get(id) ?? { id };
    if (e.type === 'decision.requested')
      Object.assign(d, { prompt: e.summary, options: e.data.options ?? [], deadline: e.data.deadline, requestedAt: e.at });
    if (e.type === 'decision.taken') Object.assign(d, { option: e.data.option, by: e.actor?.name, at: e.at });
    if (e.type === 'decision.timed_out') Object.assign(d, { option: e.data.option ?? e.data.default, by: 'default (timed out)', at: e.at });
    steps.set(id, d);
  }
  const open = new Set((live?.openDecisions ?? []).map((d) => d.stepId));
  return list(
    [...steps.values()],
    (d) => [
      h('strong', {}, d.prompt ?? d.id),
      h(
        'div',
        { class: 'small' },
        d.option
          ? ['Chose ', h('strong', {}, `“${d.option}”`), ` — ${d.by ?? ''}, `, timeEl(d.at)]
          : [
              open.has(d.id) ? 'Waiting for a decision' : 'Not decided',
              d.options?.length ? ` (options: ${d.options.join(', ')})` : '',
              d.deadline ? [', default at ', timeEl(d.deadline)] : '',
            ],
      ),
    ],
    'No decisions in this incident.',
  );
}

function backupsPanel(events) {
  const backups = events.filter((e) => e.type === 'backup.taken');
  return list(
    backups,
    (e) => [
      h('strong', {}, e.data?.target ?? 'backup'),
      ' ',
      timeEl(e.at),
      h(
        'div',
        { class: 'small' },
        `${bytes(e.data?.sizeBytes)} in ${duration(e.data?.durationMs)}`,
        e.data?.restoreCheck ? ` · restore check ${e.data.restoreCheck.ok ? 'passed' : 'FAILED'}` : '',
      ),
      e.data?.location ? h('div', { class: 'small muted mono' }, e.data.location) : null,
    ],
    'No backups were taken.',
  );
}

function tasksPanel(events, live) {
  const tasks = new Map();
  for (const e of events) {
    if (e.type === 'task.created') tasks.set(e.data.stepId, { id: e.data.stepId, text: e.summary, deadline: e.data.deadline, done: null });
    if (e.type === 'task.completed') {
      const t = tasks.get(e.data.stepId) ?? { id: e.data.stepId, text: e.data.stepId };
      t.done = { by: e.actor?.name, at: e.at, note: e.data.note };
      tasks.set(e.data.stepId, t);
    }
  }
  const open = new Set((live?.openTasks ?? []).map((t) => t.stepId));
  return list(
    [...tasks.values()],
    (t) => [
      h('div', {}, t.text),
      h(
        'div',
        { class: 'small' },
        t.done
          ? ['Done by ', t.done.by ?? '', ', ', timeEl(t.done.at), t.done.note ? ` — ${t.done.note}` : '']
          : [open.has(t.id) ? 'Open' : 'Not completed', t.deadline ? [', due ', timeEl(t.deadline)] : ''],
      ),
    ],
    'No tasks in this incident.',
  );
}

function alertsPanel(alerts) {
  return list(
    alerts,
    (a) => [
      h('span', { class: `badge ${a.status === 'firing' ? 'status-open' : 'status-resolved'}` }, a.status),
      ' ',
      a.summary,
      h(
        'div',
        { class: 'small muted' },
        `${a.source}, started `,
        timeEl(a.startsAt, { seconds: false }),
        a.endsAt ? [', ended ', timeEl(a.endsAt, { seconds: false })] : '',
        `, seen ${a.received}×`,
      ),
    ],
    'No alerts feed this incident.',
  );
}

function actionItemsPanel(id, pm) {
  if (!pm) return h('p', { class: 'empty' }, 'Action items come with the post-mortem, drafted in the retrospective.');
  if (!pm.actionItems.length)
    return h(
      'p',
      { class: 'empty' },
      'No action items yet. ',
      h('a', { href: `#/incidents/${id}/postmortem` }, 'Add them in the post-mortem.'),
    );
  return list(
    pm.actionItems,
    (a) => [
      h('span', { class: `badge ${a.status === 'done' ? 'status-resolved' : 'status-open'}` }, a.status),
      ' ',
      a.title,
      h('div', { class: 'small muted' }, [a.owner ? `owner ${a.owner}` : 'no owner', a.due ? `, due ${a.due}` : ''].join('')),
    ],
    '',
  );
}

/** One incident: header, phase bar and milestones, who was paged, decisions, backups, tasks, alerts, timeline. */
export async function renderIncident(main, { id, me }) {
  const [detail, events, metrics, pm] = await Promise.all([
    get(`/api/v1/incidents/${id}`),
    loadTimeline(id),
    get(`/api/v1/incidents/${id}/metrics`),
    loadPostmortem(id),
  ]);
  const state = { incident: detail.incident, live: detail.live, events, metrics, pm, filter: 'all' };
  const lastSeq = () => (state.events.length ? state.events[state.events.length - 1].seq : 0);

  const liveBadge = h('span', { class: 'badge offline', id: 'live-status' }, state.incident.status === 'closed' ? 'closed' : 'connecting…');
  const header = h('div');
  const phases = h('div');
  const waiting = h('section', { class: 'panel', 'aria-labelledby': 'waiting-title', hidden: true });
  const panels = {
    paged: h('div'),
    decisions: h('div'),
    backups: h('div'),
    tasks: h('div'),
    alerts: h('div'),
    actions: h('div'),
  };
  const tbody = h('tbody', { id: 'timeline-body' });
  const count = h('caption');

  function renderHeader() {
    const i = state.incident;
    fill(
      header,
      h('nav', { 'aria-label': 'Breadcrumb', class: 'small' }, h('a', { href: '#/incidents' }, 'Incidents'), ` / ${i.id}`),
      h('div', { class: 'row spread' }, h('h1', {}, `${i.id} · ${i.title}`), liveBadge),
      h(
        'div',
        { class: 'row' },
        severityBadge(i.severity),
        statusBadge(i.status),
        h('span', { class: 'badge status-closed' }, `phase: ${i.phase}`),
        i.drill ? h('span', { class: 'badge drill' }, 'drill') : null,
      ),
      h(
        'dl',
        { class: 'meta' },
        h('div', {}, h('dt', {}, 'Service'), h('dd', {}, i.service ?? '—')),
        h(
          'div',
          {},
          h('dt', {}, 'Runbook'),
          h('dd', {}, `${i.runbookId}`, h('span', { class: 'muted small' }, ` @${i.runbookVersion.slice(0, 8)}`)),
        ),
        h('div', {}, h('dt', {}, 'Declared'), h('dd', {}, timeEl(i.declaredAt))),
        h('div', {}, h('dt', {}, 'Declared by'), h('dd', {}, i.trigger?.by?.name ?? '—')),
        h('div', {}, h('dt', {}, 'Escalation level'), h('dd', {}, String(state.live?.escalationLevel ?? '—'))),
        h(
          'div',
          {},
          h('dt', {}, 'Current step'),
          h('dd', {}, state.live?.currentStep ? `${state.live.currentStep.kind} ${state.live.currentStep.id}` : '—'),
        ),
      ),
      h(
        'div',
        { class: 'row actions' },
        state.pm
          ? h('a', { class: 'button', href: `#/incidents/${i.id}/postmortem` }, `Post-mortem (${state.pm.status})`)
          : h('span', { class: 'muted small' }, 'The post-mortem is drafted in the retrospective.'),
        h('span', { class: 'muted small' }, 'Export timeline:'),
        h('a', { href: `/api/v1/incidents/${i.id}/timeline?format=md`, download: `${i.id}-timeline.md` }, 'Markdown'),
        h('a', { href: `/api/v1/incidents/${i.id}/timeline?format=csv`, download: `${i.id}-timeline.csv` }, 'CSV'),
        h('a', { href: `/api/v1/incidents/${i.id}/timeline?format=json&limit=10000`, download: `${i.id}-timeline.json` }, 'JSON'),
      ),
    );
  }

  function renderPhases() {
    fill(
      phases,
      phaseBar(state.incident, state.metrics.phases),
      h('h3', { class: 'visually-hidden' }, 'Milestones'),
      milestones(state.metrics),
    );
  }

  function renderWaiting() {
    const live = state.live;
    const items = [
      ...(live?.openDecisions ?? []).map((d) => [
        h('strong', {}, `Decision: ${d.prompt}`),
        h(
          'div',
          { class: 'small' },
          `Options ${d.options.join(', ')}; needs ${d.approver}; default “${d.default}” at `,
          timeEl(d.deadline),
        ),
      ]),
      ...(live?.openTasks ?? []).map((t) => [h('strong', {}, `Task for ${t.assignee}`), h('div', { class: 'small' }, t.description)]),
      ...(live?.awaitingReview
        ? [
            [
              h('strong', {}, 'Post-mortem review'),
              h(
                'div',
                { class: 'small' },
                'The incident closes when the post-mortem is marked done; due ',
                timeEl(live.awaitingReview.dueAt),
              ),
            ],
          ]
        : []),
    ];
    waiting.hidden = items.length === 0;
    fill(
      waiting,
      h('h2', { id: 'waiting-title' }, 'Waiting for people'),
      list(items, (x) => x, ''),
    );
  }

  function renderPanels() {
    fill(panels.paged, pagedPanel(state.events));
    fill(panels.decisions, decisionsPanel(state.events, state.live));
    fill(panels.backups, backupsPanel(state.events));
    fill(panels.tasks, tasksPanel(state.events, state.live));
    fill(panels.alerts, alertsPanel(state.metrics.alerts));
    fill(panels.actions, actionItemsPanel(id, state.pm));
  }

  function renderTimeline(freshFrom = Infinity) {
    const shown = state.events.filter(FILTERS[state.filter].match);
    fill(
      tbody,
      shown.length
        ? shown.map((e) => timelineRow(e, e.seq >= freshFrom))
        : h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No events of this kind.')),
    );
    count.textContent = `${shown.length} of ${state.events.length} events, oldest first`;
  }

  const filterSelect = h(
    'select',
    { id: 'timeline-filter' },
    Object.entries(FILTERS).map(([k, f]) => h('option', { value: k }, f.label)),
  );
  filterSelect.addEventListener('change', () => {
    state.filter = filterSelect.value;
    renderTimeline();
  });

  let noteForm = null;
  if (atLeast(me.role, 'responder') && state.incident.status !== 'closed') {
    const text = h('textarea', { id: 'note-text', name: 'text', rows: 2, maxlength: 4000, required: true });
    const status = h('p', { class: 'small', role: 'status' });
    const button = h('button', { type: 'submit', class: 'primary' }, 'Add note');
    noteForm = h(
      'form',
      { class: 'stack note-form', 'aria-label': 'Add a note' },
      h('div', { class: 'field' }, h('label', { for: 'note-text' }, 'Add a note to the timeline'), text),
      h('div', { class: 'row' }, button, status),
    );
    noteForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!text.value.trim()) return;
      button.disabled = true;
      status.className = 'small';
      try {
        await api(`/api/v1/incidents/${id}/notes`, { method: 'POST', body: { text: text.value } });
        text.value = '';
        status.textContent = 'Note added.';
      } catch (err) {
        status.className = 'small notice error';
        status.textContent = err.message;
      } finally {
        button.disabled = false;
      }
    });
  }

  renderHeader();
  renderPhases();
  renderWaiting();
  renderPanels();
  renderTimeline();
  const panel = (key, title) =>
    h('section', { class: 'panel', 'aria-labelledby': `${key}-title` }, h('h2', { id: `${key}-title` }, title), panels[key]);
  fill(
    main,
    h('section', { class: 'panel incident-head' }, header),
    h('section', { class: 'panel', 'aria-labelledby': 'phases-title' }, h('h2', { id: 'phases-title' }, 'Phases and milestones'), phases),
    waiting,
    h(
      'div',
      { class: 'grid' },
      panel('paged', 'Who was paged and when'),
      panel('decisions', 'Decisions'),
      panel('tasks', 'Tasks'),
      panel('backups', 'Backups'),
      panel('actions', 'Action items'),
      panel('alerts', 'Alerts'),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'timeline-title' },
      h(
        'div',
        { class: 'row spread' },
        h('h2', { id: 'timeline-title' }, 'Timeline'),
        h('div', { class: 'row' }, h('label', { for: 'timeline-filter' }, 'Show'), filterSelect),
      ),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'timeline', id: 'timeline' },
          count,
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Time', 'Phase', 'Event', 'Actor', 'Summary'].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          tbody,
        ),
      ),
      noteForm,
    ),
  );

  if (state.incident.status === 'closed') return undefined;

  // Live: new events arrive over server-sent events; derived panels and phases are refreshed from them.
  let refreshTimer;
  const refreshDerived = () => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(async () => {
      try {
        const [m, d, p] = await Promise.all([get(`/api/v1/incidents/${id}/metrics`), get(`/api/v1/incidents/${id}`), loadPostmortem(id)]);
        state.pm = p;
        state.metrics = m;
        state.live = d.live;
        state.incident = d.incident;
        renderHeader();
        renderPhases();
        renderWaiting();
        renderPanels();
      } catch {
        /* the next event tries again */
      }
    }, 250);
  };
  const stream = new EventSource(`/api/v1/stream?incident=${encodeURIComponent(id)}&after=${lastSeq()}`);
  stream.addEventListener('ready', () => {
    liveBadge.className = 'badge live';
    liveBadge.textContent = 'live';
  });
  stream.addEventListener('error', () => {
    liveBadge.className = 'badge offline';
    liveBadge.textContent = 'reconnecting…';
  });
  stream.addEventListener('timeline', (msg) => {
    const push = JSON.parse(msg.data);
    const known = lastSeq();
    const fresh = push.events.filter((e) => e.seq > known);
    state.incident = push.incident;
    if (fresh.length) {
      state.events.push(...fresh);
      renderTimeline(fresh[0].seq);
      announce(fresh.length === 1 ? `New event: ${fresh[0].summary}` : `${fresh.length} new events`);
    }
    renderHeader();
    renderPanels();
    refreshDerived();
    if (push.incident.status === 'closed') {
      stream.close();
      liveBadge.className = 'badge offline';
      liveBadge.textContent = 'closed';
    }
  });
  return () => {
    clearTimeout(refreshTimer);
    stream.close();
  };
}
