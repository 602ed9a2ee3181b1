// A small Markdown reader for post-mortems: headings, paragraphs, lists, tables, code, emphasis and links.
// It builds DOM nodes directly (never HTML strings), so text in a post-mortem can never become markup.
import { h } from './dom.js';

const SAFE_URL = /^(https?:\/\/|mailto:|#|\/)/i;

/** Inline spans: `code`, **strong**, *em* / _em_, [text](url), backslash escapes. */
export function inline(text) {
  const out = [];
  let buf = '';
  const flush = () => {
    if (buf) out.push(buf);
    buf = '';
  };
  for (let i = 0; i < text.length;) {
    const ch = text[i];
    if (ch === '\\' && i + 1 < text.length && /[\\`*_{}[\]()#+\-.!|<>]/.test(text[i + 1])) {
      buf += text[i + 1];
      i += 2;
      continue;
    }
    if (ch === '`') {
      const end = text.indexOf('`', i + 1);
      if (end > i) {
        flush();
        out.push(h('code', {}, text.slice(i + 1, end)));
        i = end + 1;
        continue;
      }
    }
    if ((ch === '*' || ch === '_') && text[i + 1] === ch) {
      const end = text.indexOf(ch + ch, i + 2);
      if (end > i + 2) {
        flush();
        out.push(h('strong', {}, inline(text.slice(i + 2, end))));
        i = end + 2;
        continue;
      }
    }
    if (ch === '*' || ch === '_') {
      const end = text.indexOf(ch, i + 1);
      const wordStart = i === 0 || /[\s(]/.test(text[i - 1]);
      if (end > i + 1 && wordStart && text[i + 1] !== ' ') {
        flush();
        out.push(h('em', {}, inline(text.slice(i + 1, end))));
        i = end + 1;
        continue;
      }
    }
    if (ch === '[') {
      const m = /^\[([^\]]+)\]\(([^)\s]+)\)/.exec(text.slice(i));
      if (m) {
        flush();
        out.push(SAFE_URL.test(m[2]) ? h('a', { href: m[2], rel: 'noopener noreferrer' }, inline(m[1])) : inline(m[1]));
        i += m[0].length;
        continue;
      }
    }
    buf += ch;
    i += 1;
  }
  flush();
  return out;
}

function splitRow(line) {
  const cells = [];
  let cell = '';
  const body = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\' && body[i + 1] === '|') {
      cell += '\\|';
      i += 1;
    } else if (body[i] === '|') {
      cells.push(cell.trim());
      cell = '';
    } else {
      cell += body[i];
    }
  }
  cells.push(cell.trim());
  return cells;
}

const isTableDivider = (line) => /^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line);

/** Markdown text → a <div class="markdown"> of block elements. */
export function renderMarkdown(source) {
  const root = h('div', { class: 'markdown' });
  const lines = String(source ?? '')
    .replace(/\r\n?/g, '\n')
    .split('\n');
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (!line.trim()) {
      i += 1;
      continue;
    }
    const fence = /^\s*(```|~~~)/.exec(line);
    if (fence) {
      const code = [];
      i += 1;
      while (i < lines.length && !lines[i].trim().startsWith(fence[1])) code.push(lines[i++]);
      i += 1;
      root.append(h('pre', {}, h('code', {}, code.join('\n'))));
      continue;
    }
    const heading = /^(#{1,4})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      // Post-mortem sections (##) sit under the page's own h1, so levels shift down by one.
      const level = Math.min(6, heading[1].length + 1);
      root.append(h(`h${level}`, {}, inline(heading[2])));
      i += 1;
      continue;
    }
    if (line.trim().startsWith('|') && i + 1 < lines.length && isTableDivider(lines[i + 1])) {
      const head = splitRow(line);
      i += 2;
      const rows = [];
      while (i < lines.length && lines[i].trim().startsWith('|')) rows.push(splitRow(lines[i++]));
      root.append(
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
                head.map((c) => h('th', { scope: 'col' }, inline(c))),
              ),
            ),
            h(
              'tbody',
              {},
              rows.map((r) =>
                h(
                  'tr',
                  {},
                  head.map((_, j) => h('td', {}, inline(r[j] ?? ''))),
                ),
              ),
            ),
          ),
        ),
      );
      continue;
    }
    const bullet = /^\s*([-*+]|\d+[.)])\s+/;
    if (bullet.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const list = h(ordered ? 'ol' : 'ul');
      while (i < lines.length && bullet.test(lines[i])) {
        list.append(h('li', {}, inline(lines[i].replace(bullet, ''))));
        i += 1;
      }
      root.append(list);
      continue;
    }
    const para = [];
    while (i < lines.length && lines[i].trim() && !/^(#{1,4}\s|\s*```|\s*~~~|\s*\|)/.test(lines[i]) && !bullet.test(lines[i]))
      para.push(lines[i++].trim());
    if (para.length === 0) {
      // A line that looked like a block start but was not one (e.g. a lone "|"): keep it as text.
      para.push(lines[i++].trim());
    }
    root.append(h('p', {}, inline(para.join(' '))));
  }
  return root;
}
