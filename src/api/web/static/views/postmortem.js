import { ApiError, api } from '../api.js';
import { announce, fill, h } from '../dom.js';
import { statusBadge, timeEl } from '../format.js';
import { renderMarkdown } from '../markdown.js';

const SECTIONS = [
  ['summary', 'Summary', 'What happened, in two or three sentences.'],
  ['impact', 'Impact', 'Who and what was affected, for how long.'],
  ['timeline', 'Timeline', 'Key moments; drafted from the incident timeline.'],
  ['rootCause', 'Root cause', 'Why it happened.'],
  ['contributingFactors', 'Contributing factors', 'What made it worse or slower to fix.'],
  ['wentWell', 'What went well', ''],
  ['wentBadly', 'What went badly', ''],
];
const NEXT_STATUS = { draft: ['in-review'], 'in-review': ['draft', 'done'], done: [] };
const STATUS_LABEL = { draft: 'Draft', 'in-review': 'In review', done: 'Done (closes the incident)' };
const ROLE_ORDER = ['viewer', 'responder', 'commander', 'admin'];

async function load(id) {
  const res = await api(`/api/v1/incidents/${id}/postmortem`);
  return res.body;
}

function pmBadge(status) {
  return h('span', { class: `badge pm-${status}` }, status);
}

function itemRow(item, index, onRemove, locked) {
  const n = index + 1;
  const tr = h(
    'tr',
    { dataset: { id: item.id ?? '' } },
    h(
      'td',
      {},
      h('label', { class: 'visually-hidden', for: `ai-title-${n}` }, `Action ${n}`),
      h('input', { type: 'text', id: `ai-title-${n}`, class: 'ai-title', value: item.title ?? '', maxlength: 300, required: true }),
    ),
    h(
      'td',
      {},
      h('label', { class: 'visually-hidden', for: `ai-owner-${n}` }, `Owner of action ${n}`),
      h('input', { type: 'text', id: `ai-owner-${n}`, class: 'ai-owner', value: item.owner ?? '', maxlength: 100 }),
    ),
    h(
      'td',
      {},
      h('label', { class: 'visually-hidden', for: `ai-due-${n}` }, `Due date of action ${n}`),
      h('input', { type: 'date', id: `ai-due-${n}`, class: 'ai-due', value: item.due ?? '' }),
    ),
    h(
      'td',
      {},
      h(
        'label',
        { class: 'row small', for: `ai-done-${n}` },
        h('input', { type: 'checkbox', id: `ai-done-${n}`, class: 'ai-done', checked: item.status === 'done' }),
        'done',
      ),
    ),
    h(
      'td',
      {},
      locked && item.id
        ? null
        : h('button', { type: 'button', class: 'link', onclick: onRemove, 'aria-label': `Remove action ${n}` }, 'Remove'),
    ),
  );
  return tr;
}

/** The post-mortem: rendered for everyone; commanders edit it (optimistic: the save names the version read). */
export async function renderPostmortem(main, { id, me }) {
  const [incident, first] = await Promise.all([api(`/api/v1/incidents/${id}`).then((r) => r.body.incident), load(id)]);
  let pm = first;
  const canEdit = ROLE_ORDER.indexOf(me.role) >= ROLE_ORDER.indexOf('commander');
  const message = h('div', { id: 'pm-message', 'aria-live': 'polite' });
  const body = h('div');
  const status = h('div', { class: 'row' });

  function say(kind, ...text) {
    fill(message, text.length ? h('div', { class: `notice ${kind}`, role: kind === 'ok' ? 'status' : 'alert' }, ...text) : null);
  }

  function renderStatus() {
    fill(
      status,
      pmBadge(pm.status),
      h('span', { class: 'small muted' }, 'Review due ', timeEl(pm.dueAt, { seconds: false })),
      h('span', { class: 'small muted', id: 'pm-version' }, `version ${pm.version}`),
      h('span', { class: 'small muted' }, 'last saved ', timeEl(pm.updatedAt)),
    );
  }

  function renderView() {
    renderStatus();
    fill(
      body,
      canEdit
        ? h(
            'div',
            { class: 'row toolbar' },
            h(
              'button',
              { type: 'button', class: 'primary', id: 'edit-postmortem', onclick: () => renderEditor() },
              pm.status === 'done' ? 'Edit action items' : 'Edit post-mortem',
            ),
          )
        : null,
      h('article', { class: 'panel', 'aria-label': 'Post-mortem' }, renderMarkdown(pm.body)),
    );
  }

  function renderEditor(keep) {
    const done = pm.status === 'done';
    const values = keep ?? { sections: pm.sections, actionItems: pm.actionItems, status: pm.status };
    const textareas = {};
    const sections = SECTIONS.map(([key, label, hint]) => {
      const ta = h('textarea', {
        id: `section-${key}`,
        name: key,
        class: key === 'timeline' || key === 'rootCause' ? 'tall' : null,
        disabled: done,
        'aria-describedby': hint ? `hint-${key}` : null,
        value: values.sections[key] ?? '',
      });
      textareas[key] = ta;
      return h(
        'div',
        { class: 'section field' },
        h('label', { for: `section-${key}` }, label),
        hint ? h('span', { class: 'hint', id: `hint-${key}` }, hint) : null,
        ta,
      );
    });
    const itemsBody = h('tbody');
    const addRow = (item) => {
      const tr = itemRow(
        item,
        itemsBody.children.length,
        () => {
          tr.remove();
          announce('Action item removed');
        },
        done,
      );
      itemsBody.append(tr);
      return tr;
    };
    for (const item of values.actionItems) addRow(item);
    const addButton = h(
      'button',
      { type: 'button', id: 'add-action-item', onclick: () => addRow({ status: 'open' }).querySelector('.ai-title').focus() },
      'Add action item',
    );
    const statusSelect = h(
      'select',
      { id: 'pm-status', disabled: done },
      [pm.status, ...NEXT_STATUS[pm.status]].map((s) => h('option', { value: s, selected: s === values.status }, STATUS_LABEL[s])),
    );
    const save = h('button', { type: 'submit', class: 'primary', id: 'save-postmortem' }, 'Save');
    const form = h(
      'form',
      { class: 'panel editor', 'aria-label': 'Edit the post-mortem' },
      h('fieldset', { class: 'stack', disabled: done }, h('legend', { class: 'visually-hidden' }, 'Sections'), sections),
      h('h2', {}, 'Action items'),
      h(
        'p',
        { class: 'hint' },
        done
          ? 'The post-mortem is done: action items can still be completed or added.'
          : 'Action items stay open until someone marks them done, also after the incident closes.',
      ),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'items-editor' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              ['Action', 'Owner', 'Due', 'Status', ''].map((c) => h('th', { scope: 'col' }, c)),
            ),
          ),
          itemsBody,
        ),
      ),
      h('div', { class: 'row' }, addButton),
      h(
        'div',
        { class: 'actions-bar row' },
        h('div', { class: 'field' }, h('label', { for: 'pm-status' }, 'Status'), statusSelect),
        save,
        h(
          'button',
          {
            type: 'button',
            id: 'cancel-edit',
            onclick: () => {
              say('ok');
              renderView();
            },
          },
          'Cancel',
        ),
      ),
    );
    const collect = () => ({
      sections: Object.fromEntries(Object.entries(textareas).map(([k, ta]) => [k, ta.value])),
      actionItems: [...itemsBody.children].map((tr) => ({
        ...(tr.dataset.id ? { id: tr.dataset.id } : {}),
        title: tr.querySelector('.ai-title').value.trim(),
        owner: tr.querySelector('.ai-owner').value.trim() || null,
        due: tr.querySelector('.ai-due').value || null,
        status: tr.querySelector('.ai-done').checked ? 'done' : 'open',
      })),
      status: statusSelect.value,
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const edit = collect();
      const blank = edit.actionItems.findIndex((i) => !i.title);
      if (blank !== -1) {
        say('error', `Action ${blank + 1} needs a title.`);
        itemsBody.children[blank].querySelector('.ai-title').focus();
        return;
      }
      save.disabled = true;
      say('ok', 'Saving…');
      try {
        const payload = { actionItems: edit.actionItems, status: edit.status, ...(done ? {} : { sections: edit.sections }) };
        const res = await api(`/api/v1/incidents/${id}/postmortem`, {
          method: 'PUT',
          body: payload,
          headers: { 'If-Match': `"${pm.version}"` },
        });
        pm = res.body;
        renderView();
        say(
          'ok',
          `Saved — version ${pm.version}.`,
          pm.status === 'done' && edit.status === 'done' ? ' The review is done; the incident closes.' : '',
        );
        announce(`Post-mortem saved, version ${pm.version}`);
      } catch (err) {
        save.disabled = false;
        if (err instanceof ApiError && err.status === 409 && err.details?.currentVersion) {
          say(
            'conflict',
            h('strong', {}, 'Not saved: someone else changed this post-mortem. '),
            `You edited version ${pm.version}; it is now at version ${err.details.currentVersion}. Your text is still in the form — copy what you need, then load their version and apply your change again. `,
            h(
              'button',
              {
                type: 'button',
                id: 'load-latest',
                onclick: async () => {
                  pm = await load(id);
                  renderEditor();
                  say('ok', `Loaded version ${pm.version}.`);
                },
              },
              'Load the latest version',
            ),
          );
        } else {
          say('error', err.message);
        }
        message.querySelector('.notice')?.focus?.();
      }
    });
    renderStatus();
    fill(body, form);
    textareas.summary.focus();
  }

  fill(
    main,
    h(
      'nav',
      { 'aria-label': 'Breadcrumb', class: 'small' },
      h('a', { href: '#/incidents' }, 'Incidents'),
      ' / ',
      h('a', { href: `#/incidents/${id}` }, id),
      ' / post-mortem',
    ),
    h('div', { class: 'row spread' }, h('h1', {}, `Post-mortem · ${id} ${incident.title}`), statusBadge(incident.status)),
    status,
    message,
    body,
  );
  renderView();
  return undefined;
}
