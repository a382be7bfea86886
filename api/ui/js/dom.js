/** Building the page from data: elements with text content only (never HTML from data), and tables. */

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * A table of rows: columns are `{ label, value(row) → text or node, num? }`; `empty` is shown when
 * there is no row. `testid` names it for tests (`data-testid`); each row gets `rowClass(row)`.
 */
export function table({ columns, rows, empty = 'none', testid, rowClass }) {
  if (!rows.length) return h('p', { class: 'empty', 'data-testid': testid }, empty);
  return h(
    'table',
    { 'data-testid': testid },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.num ? 'num' : undefined }, c.label)))),
    h(
      'tbody',
      {},
      rows.map((r) => h('tr', { class: rowClass?.(r) }, columns.map((c) => h('td', { class: c.num ? 'num' : undefined }, c.value(r) ?? '—')))),
    ),
  );
}

/** A titled panel. */
export const section = (title, ...body) => h('section', { class: 'panel' }, h('h2', {}, title), ...body);

/** A small coloured label: status, trading state, side. */
export const badge = (text, kind = text) => h('span', { class: `badge badge-${kind}`, 'data-badge': kind }, text);
