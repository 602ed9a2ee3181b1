/* global document, Node, setTimeout, clearTimeout */
// Builds DOM nodes from data. Text always goes in as text nodes: nothing from the API is parsed as HTML.

/**
 * h('a', { href: '#/x', class: 'button' }, 'text', child) → element. Attributes: `class`, `dataset`, `on<event>`
 * (listeners), `hidden`/`disabled`/`checked`/`selected` (booleans); null/undefined/false skip.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value') el.value = value;
    else if (['hidden', 'disabled', 'checked', 'selected', 'required', 'open'].includes(key)) el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Replaces `el`'s children. */
export function fill(el, ...children) {
  clear(el);
  return append(el, children);
}

let announceTimer;
/** Says `message` to screen readers through the polite live region. */
export function announce(message) {
  const region = document.getElementById('announcer');
  if (!region) return;
  clearTimeout(announceTimer);
  region.textContent = '';
  announceTimer = setTimeout(() => {
    region.textContent = message;
  }, 50);
}
