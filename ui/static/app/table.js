// The download table: a virtualized ARIA grid. Only the rows in view (and
// a few beyond) exist in the DOM, recycled as the view scrolls, so 10,000
// downloads cost what 40 do; a cell is written only when its text changes.
import { h, setText } from "./dom.js";
import * as fmt from "./format.js";
import { COLUMNS, eta, labels, progress, statusText } from "./model.js";

const OVERSCAN = 8;

/** cellText is what a column shows for a download. */
export function cellText(key, t) {
  switch (key) {
    case "name": return t.name ?? t.hash;
    case "status": return statusText(t);
    case "progress": return fmt.percent(progress(t));
    case "downRate": return fmt.rate(t.downRate);
    case "upRate": return fmt.rate(t.upRate);
    case "eta": return t.isComplete || !t.state ? "" : fmt.duration(eta(t));
    case "ratio": return fmt.ratio(t.ratio ?? 0);
    case "size": return fmt.bytes(t.sizeBytes ?? 0);
    case "label": return labels(t.custom1).join(", ");
    case "added": return fmt.date(t.dateAdded);
  }
  return "";
}

/**
 * DownloadTable renders rows (a Map of downloads by hash) in the order of
 * view (an array of hashes) into root, an element with role grid.
 * Callbacks: onSort(columnKey), onSelect(selection Set, active hash),
 * onOpen(hash) (Enter or a double click), onKey(event) for the keys the
 * grid does not use.
 */
export class DownloadTable {
  constructor(root, { onSort, onSelect, onOpen, onKey }) {
    this.root = root;
    this.cb = { onSort, onSelect, onOpen, onKey };
    this.rows = new Map();
    this.view = [];
    this.index = new Map(); // hash → position in view
    this.selection = new Set();
    this.active = null;
    this.anchor = null;
    this.pool = [];
    this.frame = 0;
    this.sort = { key: "name", desc: false };

    root.setAttribute("role", "grid");
    root.setAttribute("aria-multiselectable", "true");
    root.setAttribute("aria-colcount", String(COLUMNS.length));
    root.tabIndex = 0;
    this.headers = COLUMNS.map((c, i) => h("div", { class: `cell c-${c.key}`, attrs: { role: "columnheader", "aria-colindex": i + 1 } },
      h("button", { type: "button", text: c.title, tabIndex: -1, onclick: () => this.cb.onSort?.(c.key) })));
    this.viewport = h("div", { class: "viewport" });
    const head = h("div", { class: "thead", attrs: { role: "rowgroup" } },
      h("div", { class: "row head", attrs: { role: "row", "aria-rowindex": 1 } }, this.headers));
    this.body = h("div", { class: "tbody", attrs: { role: "rowgroup" } });
    this.empty = h("div", { class: "empty", attrs: { role: "presentation" } });
    this.viewport.append(head, this.body, this.empty);
    root.replaceChildren(this.viewport);

    this.viewport.addEventListener("scroll", () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(this.viewport);
    root.addEventListener("keydown", (e) => this.#key(e));
    this.body.addEventListener("click", (e) => this.#click(e));
    this.body.addEventListener("dblclick", (e) => {
      const key = this.#rowKey(e.target);
      if (key) this.cb.onOpen?.(key);
    });
    root.addEventListener("focus", () => {
      if (!this.active && this.view.length) this.#setActive(this.view[0], false);
    });
  }

  get rowHeight() {
    if (!this._rowHeight) this._rowHeight = parseFloat(getComputedStyle(this.root).getPropertyValue("--row-h")) || 32;
    return this._rowHeight;
  }

  /** setData replaces the rows and their order. */
  setData(rows, view) {
    this.rows = rows;
    this.view = view;
    this.index = new Map(view.map((k, i) => [k, i]));
    for (const k of this.selection) if (!rows.has(k)) this.selection.delete(k);
    if (this.active && !rows.has(this.active)) this.active = null;
    this.root.setAttribute("aria-rowcount", String(view.length + 1));
    this.body.style.height = `${view.length * this.rowHeight}px`;
    this.force = true;
    this.schedule();
  }

  /** changed re-renders the rows of these hashes if they are in view. */
  changed(keys) {
    for (const el of this.pool) if (!el.hidden && keys.has(el.key)) el.dirty = true;
    this.schedule();
  }

  /** setSort shows the order on the column headers. */
  setSort(key, desc) {
    this.sort = { key, desc };
    COLUMNS.forEach((c, i) => {
      if (c.key === key) this.headers[i].setAttribute("aria-sort", desc ? "descending" : "ascending");
      else this.headers[i].removeAttribute("aria-sort");
    });
  }

  /** setEmpty sets what an empty table says. */
  setEmpty(text) { setText(this.empty, text); }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  /** render writes the rows in view; it returns how many rows it wrote. */
  render() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    const rh = this.rowHeight;
    // The sticky header covers the top of the viewport: the body shows
    // from scrollTop (its own coordinates) for the height below the header.
    const top = this.viewport.scrollTop;
    const height = this.viewport.clientHeight - this.body.offsetTop;
    const first = Math.max(0, Math.floor(top / rh) - OVERSCAN);
    const last = Math.min(this.view.length - 1, Math.ceil((top + height) / rh) + OVERSCAN);
    const need = Math.max(0, Math.ceil(height / rh) + 2 * OVERSCAN + 2);
    while (this.pool.length < need) this.pool.push(this.#makeRow());
    const size = this.pool.length;
    this.empty.hidden = this.view.length > 0;
    let wrote = 0;
    const used = new Set();
    for (let i = first; i <= last; i++) {
      const el = this.pool[i % size];
      used.add(el);
      const key = this.view[i];
      if (el.idx !== i || el.key !== key || el.dirty || this.force) {
        this.#fill(el, i, key);
        wrote++;
      }
    }
    for (const el of this.pool) {
      if (!used.has(el) && !el.hidden) {
        el.hidden = true;
        el.idx = -1;
        el.key = null;
        el.removeAttribute("id");
      }
    }
    this.force = false;
    return wrote;
  }

  #makeRow() {
    const cells = COLUMNS.map((c, i) => h("div", { class: `cell c-${c.key}`, attrs: { role: "gridcell", "aria-colindex": i + 1 } }));
    const bar = h("progress", { max: 1, value: 0, attrs: { "aria-hidden": "true" } });
    const pct = h("span");
    cells[COLUMNS.findIndex((c) => c.key === "progress")].append(bar, pct);
    const el = h("div", { class: "row", attrs: { role: "row" } }, cells);
    el.hidden = true;
    el.cells = cells;
    el.bar = bar;
    el.pct = pct;
    el.vals = [];
    el.idx = -1;
    el.key = null;
    this.body.append(el);
    return el;
  }

  #fill(el, i, key) {
    const t = this.rows.get(key);
    el.dirty = false;
    if (el.hidden) el.hidden = false;
    if (el.idx !== i) {
      el.idx = i;
      el.style.transform = `translateY(${i * this.rowHeight}px)`;
      el.setAttribute("aria-rowindex", String(i + 2));
    }
    if (el.key !== key) {
      el.key = key;
      el.id = `r-${key}`;
    }
    const selected = this.selection.has(key);
    if (el.selected !== selected) {
      el.selected = selected;
      el.setAttribute("aria-selected", String(selected));
    }
    el.classList.toggle("active", key === this.active);
    if (!t) return;
    const status = statusText(t).toLowerCase();
    if (el.status !== status) {
      if (el.status) el.classList.remove(`s-${el.status}`);
      el.classList.add(`s-${status}`);
      el.status = status;
    }
    COLUMNS.forEach((c, ci) => {
      const s = cellText(c.key, t);
      if (el.vals[ci] === s) return;
      el.vals[ci] = s;
      if (c.key === "progress") {
        el.bar.value = progress(t);
        setText(el.pct, s);
      } else {
        setText(el.cells[ci], s);
        if (c.key === "name") el.cells[ci].title = s;
      }
    });
  }

  #rowKey(target) {
    return target.closest?.(".row")?.key ?? null;
  }

  #click(e) {
    const key = this.#rowKey(e.target);
    if (!key) return;
    this.root.focus({ preventScroll: true });
    if (e.shiftKey && this.anchor) this.#selectRange(this.anchor, key);
    else if (e.ctrlKey || e.metaKey) {
      if (this.selection.has(key)) this.selection.delete(key);
      else this.selection.add(key);
      this.anchor = key;
    } else {
      this.selection = new Set([key]);
      this.anchor = key;
    }
    this.#setActive(key, false);
    this.#selected();
  }

  #selectRange(from, to) {
    const a = this.index.get(from) ?? 0;
    const b = this.index.get(to) ?? 0;
    this.selection = new Set(this.view.slice(Math.min(a, b), Math.max(a, b) + 1));
  }

  #selected() {
    this.force = true;
    this.schedule();
    this.cb.onSelect?.(this.selection, this.active);
  }

  #setActive(key, select) {
    this.active = key;
    if (select) {
      this.selection = new Set([key]);
      this.anchor = key;
    }
    this.root.setAttribute("aria-activedescendant", `r-${key}`);
    this.scrollTo(key);
    this.force = true;
    this.schedule();
  }

  /** select makes a download the active and only selected row, in view. */
  select(key) {
    this.#setActive(key, true);
    this.#selected();
  }

  /** scrollTo brings a download's row into view. */
  scrollTo(key) {
    const i = this.index.get(key);
    if (i === undefined) return;
    const rh = this.rowHeight;
    const vp = this.viewport;
    const shown = vp.clientHeight - this.body.offsetTop;
    if (i * rh < vp.scrollTop) vp.scrollTop = i * rh;
    else if ((i + 1) * rh > vp.scrollTop + shown) vp.scrollTop = (i + 1) * rh - shown;
  }

  #key(e) {
    if (e.target !== this.root) return;
    const n = this.view.length;
    const cur = this.active ? this.index.get(this.active) ?? -1 : -1;
    const page = Math.max(1, Math.floor(this.viewport.clientHeight / this.rowHeight) - 1);
    let to = null;
    switch (e.key) {
      case "ArrowDown": to = Math.min(n - 1, cur + 1); break;
      case "ArrowUp": to = Math.max(0, cur - 1); break;
      case "PageDown": to = Math.min(n - 1, cur + page); break;
      case "PageUp": to = Math.max(0, cur - page); break;
      case "Home": to = 0; break;
      case "End": to = n - 1; break;
      case " ":
        if (this.active) {
          if (this.selection.has(this.active)) this.selection.delete(this.active);
          else this.selection.add(this.active);
          this.anchor = this.active;
          this.#selected();
        }
        e.preventDefault();
        return;
      case "Enter":
        if (this.active) this.cb.onOpen?.(this.active);
        e.preventDefault();
        return;
      case "a":
        if (e.ctrlKey || e.metaKey) {
          this.selection = new Set(this.view);
          this.#selected();
          e.preventDefault();
          return;
        }
        break;
      case "Escape":
        if (this.selection.size) {
          this.selection = new Set();
          this.#selected();
          e.preventDefault();
          return;
        }
        break;
    }
    if (to === null || n === 0) {
      this.cb.onKey?.(e);
      return;
    }
    e.preventDefault();
    const key = this.view[to];
    if (e.shiftKey) {
      this.#setActive(key, false);
      this.#selectRange(this.anchor ?? key, key);
    } else {
      this.#setActive(key, true);
    }
    this.#selected();
  }
}
