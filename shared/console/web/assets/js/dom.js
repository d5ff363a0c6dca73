// Building the page: elements are made with createElement and filled with
// text nodes only. Nothing from the API is ever parsed as HTML, so a
// remark such as <img src=x onerror=alert(1)> shows as the characters it is.

// h creates an element. props: class, text, on: {event: fn}, and any other
// key as an attribute (false/null/undefined skip it, true sets it empty).
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === false || v === null || v === undefined) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'checked' || k === 'disabled' || k === 'value' || k === 'hidden') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// replace empties el and puts children in it.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let seq = 0;
// uid returns a fresh element ID for label/aria wiring.
export function uid(prefix = 'id') {
  seq += 1;
  return `${prefix}-${seq}`;
}

// fmtTime shows an RFC 3339 UTC time as "2026-11-24 08:15:16 UTC".
export function fmtTime(t) {
  if (!t) return '';
  return t.replace('T', ' ').replace(/(\.\d+)?Z$/, ' UTC');
}

// timeEl is a <time> element for an RFC 3339 time.
export function timeEl(t) {
  return h('time', { datetime: t, text: fmtTime(t) });
}

// codePoints counts Unicode code points, as the API does for remarks.
export function codePoints(s) {
  return [...s].length;
}
