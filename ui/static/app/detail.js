// The detail pane of one download: its fields, and its files (with
// priorities), peers and trackers from the detail topics, subscribed only
// while their tab is shown (rtgate polls them only while someone follows).
import { clear, h, setText } from "./dom.js";
import * as fmt from "./format.js";
import { labels, progress, statusText } from "./model.js";

const TABS = [
  { key: "general", title: "General" },
  { key: "files", title: "Files" },
  { key: "peers", title: "Peers" },
  { key: "trackers", title: "Trackers" },
];

/** MAX_ROWS bounds the rows a detail table shows (a torrent may have 100,000 files). */
const MAX_ROWS = 2000;

const PRIORITIES = [
  { value: 0, text: "Off" },
  { value: 1, text: "Normal" },
  { value: 2, text: "High" },
];

const byIndex = (a, b) => Number(a[0]) - Number(b[0]);

const COLUMNS = {
  files: {
    sort: byIndex,
    cols: [
      { title: "Path", value: (f) => f.path },
      { title: "Size", value: (f) => fmt.bytes(f.sizeBytes), num: true },
      { title: "Done", value: (f) => fmt.percent(f.sizeChunks ? f.completedChunks / f.sizeChunks : 0), num: true },
      { title: "Priority", priority: true },
    ],
  },
  peers: {
    sort: (a, b) => (b[1].downRate + b[1].upRate) - (a[1].downRate + a[1].upRate) || String(a[1].address).localeCompare(String(b[1].address)),
    cols: [
      { title: "Address", value: (p) => `${p.address}:${p.port}` },
      { title: "Client", value: (p) => p.clientVersion },
      { title: "Has", value: (p) => `${p.completedPercent}%`, num: true },
      { title: "Down", value: (p) => fmt.rate(p.downRate), num: true },
      { title: "Up", value: (p) => fmt.rate(p.upRate), num: true },
      { title: "Flags", value: (p) => [p.isEncrypted && "encrypted", p.isIncoming && "incoming", p.isSnubbed && "snubbed"].filter(Boolean).join(", ") },
    ],
  },
  trackers: {
    sort: byIndex,
    cols: [
      { title: "URL", value: (t) => t.url },
      { title: "Enabled", value: (t) => (t.isEnabled ? "yes" : "no") },
      { title: "Seeds", value: (t) => String(t.scrapeComplete), num: true },
      { title: "Leechers", value: (t) => String(t.scrapeIncomplete), num: true },
      { title: "Downloaded", value: (t) => String(t.scrapeDownloaded), num: true },
      { title: "Last scrape", value: (t) => fmt.date(t.scrapeTimeLast) },
    ],
  },
};

/**
 * DetailPane shows one download in root. can(action) returns null when
 * the connection may take it, else the reason it may not; act(calls)
 * sends a batch of calls and reports failures.
 */
export class DetailPane {
  constructor(root, { client, can, act, onClose }) {
    this.root = root;
    this.client = client;
    this.can = can;
    this.act = act;
    this.hash = null;
    this.torrent = null;
    this.tab = "general";
    this.sub = null;
    this.frame = 0;

    this.title = h("h2", { id: "detail-title" });
    const close = h("button", { type: "button", class: "icon", text: "×", attrs: { "aria-label": "Close the details" }, onclick: () => onClose() });
    this.tabs = TABS.map((t) => h("button", {
      type: "button", id: `tab-${t.key}`, text: t.title, tabIndex: -1,
      attrs: { role: "tab", "aria-controls": "detail-panel", "aria-selected": "false" },
      onclick: () => this.select(t.key),
    }));
    const tablist = h("div", { class: "tabs", attrs: { role: "tablist", "aria-label": "Detail" } }, this.tabs);
    tablist.addEventListener("keydown", (e) => {
      const i = TABS.findIndex((t) => t.key === this.tab);
      const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 }[e.key];
      if (to === undefined) return;
      e.preventDefault();
      const t = TABS[(to + TABS.length) % TABS.length];
      this.select(t.key);
      this.tabs[TABS.indexOf(t)].focus();
    });
    this.panel = h("div", { id: "detail-panel", class: "panel", attrs: { role: "tabpanel", tabindex: 0 } });
    this.status = h("p", { class: "muted", attrs: { "aria-live": "polite" } });
    root.replaceChildren(h("div", { class: "detail-head" }, this.title, tablist, close), this.panel, this.status);
    root.setAttribute("aria-labelledby", "detail-title");
  }

  /** show shows a download (its row from the torrents topic). */
  show(hash, torrent) {
    if (this.hash !== hash) {
      this.hash = hash;
      this.#follow();
    }
    this.update(torrent);
    this.root.hidden = false;
    this.select(this.tab);
  }

  /** update refreshes the download's own fields. */
  update(torrent) {
    this.torrent = torrent;
    setText(this.title, torrent?.name ?? this.hash ?? "");
    if (this.tab === "general") this.schedule();
  }

  hide() {
    this.root.hidden = true;
    this.hash = null;
    this.sub?.close();
    this.sub = null;
  }

  select(tab) {
    this.tab = tab;
    TABS.forEach((t, i) => {
      this.tabs[i].setAttribute("aria-selected", String(t.key === tab));
      this.tabs[i].tabIndex = t.key === tab ? 0 : -1;
    });
    this.panel.setAttribute("aria-labelledby", `tab-${tab}`);
    this.#follow();
    this.schedule();
  }

  // #follow subscribes to the shown tab's topic, and only to it.
  #follow() {
    const topic = this.hash && this.tab !== "general" ? `torrent.${this.hash}.${this.tab}` : null;
    if (this.sub?.topic === topic) return;
    this.sub?.close();
    this.sub = null;
    setText(this.status, "");
    if (!topic) return;
    this.sub = this.client.subscribe(topic, (_state, u) => {
      if (u.kind === "ended") setText(this.status, `No longer updated: ${u.error}`);
      this.schedule();
    });
  }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); });
  }

  render() {
    if (this.root.hidden || !this.hash) return;
    if (this.tab === "general") {
      this.#general();
      return;
    }
    const rows = this.sub?.state;
    if (!rows) {
      this.panel.replaceChildren(h("p", { class: "muted", text: "Loading…" }));
      return;
    }
    this.#table(this.tab, rows);
  }

  #general() {
    const t = this.torrent;
    if (!t) {
      this.panel.replaceChildren(h("p", { class: "muted", text: "This download is gone." }));
      return;
    }
    const items = [
      ["Status", statusText(t)],
      ["Progress", `${fmt.percent(progress(t))} of ${fmt.bytes(t.sizeBytes ?? 0)}`],
      ["Hash", t.hash],
      ["Label", labels(t.custom1).join(", ") || "—"],
      ["Directory", t.directory],
      ["Base path", t.basePath],
      ["Message", t.message || "—"],
      ["Downloaded", `${fmt.bytes(t.downTotal ?? 0)} (${fmt.rate(t.downRate) || "idle"})`],
      ["Uploaded", `${fmt.bytes(t.upTotal ?? 0)} (${fmt.rate(t.upRate) || "idle"}), ratio ${fmt.ratio(t.ratio ?? 0)}`],
      ["Seeds", `${t.seedsConnected ?? 0} connected of ${t.seedsTotal ?? 0}`],
      ["Peers", `${t.peersConnected ?? 0} connected of ${t.peersTotal ?? 0}`],
      ["Added", fmt.date(t.dateAdded) || "—"],
      ["Created", fmt.date(t.dateCreated) || "—"],
      ["Started", fmt.date(t.dateStarted) || "—"],
      ["Finished", fmt.date(t.dateFinished) || "—"],
      ["Private", t.isPrivate ? "yes" : "no"],
    ];
    this.panel.replaceChildren(h("dl", { class: "fields" }, items.map(([k, v]) => [h("dt", { text: k }), h("dd", { text: v ?? "" })])));
  }

  #table(kind, rows) {
    const spec = COLUMNS[kind];
    const entries = [...rows].sort(spec.sort);
    const shown = entries.slice(0, MAX_ROWS);
    const reason = kind === "files" ? this.can("priority") : null;
    const head = h("tr", {}, spec.cols.map((c) => h("th", { scope: "col", text: c.title, class: c.num ? "num" : "" })));
    const body = shown.map(([key, r]) => h("tr", {}, spec.cols.map((c) => {
      if (c.priority) return h("td", {}, this.#priority(key, r, reason));
      return h("td", { text: c.value(r) ?? "", class: c.num ? "num" : "" });
    })));
    const table = h("table", { class: "detail-table", attrs: { "aria-label": `${TABS.find((t) => t.key === kind).title} of ${this.torrent?.name ?? this.hash}` } },
      h("thead", {}, head), h("tbody", {}, body));
    const keepScroll = this.panel.scrollTop;
    const focused = document.activeElement?.dataset?.file;
    clear(this.panel);
    if (!entries.length) this.panel.append(h("p", { class: "muted", text: `No ${kind}.` }));
    else this.panel.append(table);
    if (entries.length > MAX_ROWS) this.panel.append(h("p", { class: "muted", text: `The first ${MAX_ROWS} of ${entries.length}.` }));
    this.panel.scrollTop = keepScroll;
    if (focused) this.panel.querySelector(`select[data-file="${CSS.escape(focused)}"]`)?.focus();
  }

  #priority(index, file, reason) {
    const sel = h("select", { attrs: { "aria-label": `Priority of ${file.path}`, "data-file": index } },
      PRIORITIES.map((p) => h("option", { value: String(p.value), text: p.text, selected: p.value === file.priority })));
    if (reason) {
      sel.disabled = true;
      sel.title = reason;
    }
    sel.addEventListener("change", () => {
      const hash = this.hash;
      this.act(`Priority of ${file.path}`, [["f.priority.set", `${hash}:f${index}`, Number(sel.value)], ["d.update_priorities", hash]]);
    });
    return sel;
  }
}
