// The page's one way to make DOM: elements with properties, attributes
// and text children, never HTML strings (the Content-Security-Policy's
// Trusted Types forbid them anyway).

/**
 * h makes an element. props: "class", "text", "on<event>" functions,
 * "attrs" (attributes), anything else set as a property. children are
 * nodes or strings (as text), nested arrays flattened, null skipped.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k === "attrs") for (const [a, av] of Object.entries(v)) { if (av !== null && av !== undefined && av !== false) el.setAttribute(a, av === true ? "" : String(av)); }
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el[k] = v;
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

/** $ returns the element with the id, or throws (a page without it is a bug). */
export function $(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`no #${id}`);
  return el;
}

/** setText sets an element's text only when it changed (no layout for nothing). */
export function setText(el, s) {
  if (el.textContent !== s) el.textContent = s;
}

/** clear removes an element's children. */
export function clear(el) {
  el.replaceChildren();
}
