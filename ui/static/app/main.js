// rtgate's page: the downloads in real time over /ws, through the client
// module every third-party page can use too (/rtgate.js, docs/ui.md).
import { Client, ConnectionError } from "/rtgate.js";
import { RateChart } from "./chart.js";
import { DetailPane } from "./detail.js";
import { Dialogs, storedToken } from "./dialogs.js";
import { $, h, setText } from "./dom.js";
import * as fmt from "./format.js";
import { FILTER_FIELDS, SORT_FIELDS, STATE_FILTERS, labels, matcher, sortKeys, trackerHosts } from "./model.js";
import { DownloadTable } from "./table.js";

const THEME_KEY = "rtgate.theme";
const Z = "0".repeat(40);
// A torrent the shape checks below can name (the policy reads the load's
// commands, not the torrent): {info: {length: 1, name: "a", piece length: 16384, pieces: 20 bytes}}.
const TINY_TORRENT = `data:application/x-bittorrent;base64,${btoa("d4:infod6:lengthi1e4:name1:a12:piece lengthi16384e6:pieces20:" + "\0".repeat(20) + "ee")}`;

// The calls behind each action, in the shape the page sends them:
// rtgate.allowed judges exactly these (docs/protocol.md).
const ACTIONS = {
  start: [["d.start", Z]],
  stop: [["d.stop", Z]],
  erase: [["d.erase", Z]],
  label: [["d.custom1.set", Z, "a"]],
  addFile: [["load.start_throw", "", TINY_TORRENT, 'd.custom1.set="a"', "d.custom.set=addtime,0"]],
  addMagnet: [["load.start", "", `magnet:?xt=urn:btih:${Z}`, 'd.custom1.set="a"', "d.custom.set=addtime,0"]],
  addURL: [["load.start", "", "https://example.invalid/a.torrent", 'd.custom1.set="a"', "d.custom.set=addtime,0"]],
  priority: [["f.priority.set", `${Z}:f0`, 1], ["d.update_priorities", Z]],
  limits: [["throttle.global_down.max_rate.set", "", 0], ["throttle.global_up.max_rate.set", "", 0]],
  disk: [["d.free_diskspace", Z]],
};

// ---------------------------------------------------------------------------
// Token: never in a URL. A token pasted into one is dropped from it.

function scrubURL() {
  const u = new URL(location.href);
  const hash = new URLSearchParams(u.hash.slice(1));
  if (!u.searchParams.has("token") && !hash.has("token")) return;
  u.searchParams.delete("token");
  hash.delete("token");
  u.hash = hash.toString();
  history.replaceState(null, "", u.href);
}

// ---------------------------------------------------------------------------
// Theme: automatic (the system's), light or dark.

const THEMES = ["auto", "light", "dark"];
function applyTheme(theme) {
  if (theme === "auto") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
  const b = $("theme");
  b.textContent = theme[0].toUpperCase() + theme.slice(1);
  b.setAttribute("aria-label", `Theme: ${theme === "auto" ? "automatic" : theme}. Change`);
}

// ---------------------------------------------------------------------------

class Page {
  constructor() {
    scrubURL();
    this.theme = localStorage.getItem(THEME_KEY) ?? "auto";
    applyTheme(this.theme);
    $("theme").addEventListener("click", () => {
      this.theme = THEMES[(THEMES.indexOf(this.theme) + 1) % THEMES.length];
      localStorage.setItem(THEME_KEY, this.theme);
      applyTheme(this.theme);
      this.chart.draw();
    });

    this.client = new Client("/ws", { token: storedToken() });
    this.reasons = {}; // action → why not, or null
    this.filters = { state: "all", label: "", tracker: "", search: "" };
    this.sort = { key: "name", desc: false };
    this.backend = null;
    this.rows = new Map();
    this.viewDirty = true;
    this.firstRender = false;

    this.table = new DownloadTable($("list"), {
      onSort: (key) => this.setSort(key),
      onSelect: () => this.selectionChanged(),
      onOpen: (hash) => { this.openDetail(hash); $("detail-panel").focus(); },
      onKey: (e) => this.tableKey(e),
    });
    this.table.setSort(this.sort.key, this.sort.desc);
    this.table.setEmpty("Connecting…");
    this.detail = new DetailPane($("detail"), {
      client: this.client,
      can: (a) => this.reasons[a] ?? null,
      act: (what, calls) => this.act(what, calls),
      onClose: () => this.closeDetail(),
    });
    this.chart = new RateChart($("chart"));

    this.#wireConnection();
    this.#wireToolbar();
    this.dialogs = new Dialogs(this);
    document.addEventListener("keydown", (e) => this.globalKey(e));
    globalThis.addEventListener("online", () => this.client.reconnectNow());
    // For tests and for whoever debugs in the console: the same objects.
    globalThis.rtgate = { client: this.client, table: this.table, page: this };
  }

  // --- connection and topics ---

  #wireConnection() {
    const c = this.client;
    c.on("state", (s) => {
      this.connState = s;
      this.retryAt = s.state === "reconnecting" ? Date.now() + s.delay : 0;
      if (s.state === "auth") this.dialogs.askToken(s.reason);
      this.renderBanner();
    });
    c.on("open", () => this.refreshAllowed());
    c.on("warning", (w) => console.warn(w.message));

    this.torrents = c.subscribe("torrents", (rows, u) => this.torrentsUpdate(rows, u));
    this.transfer = c.subscribe("transfer", (t) => this.transferUpdate(t));
    c.subscribe("backend", (b) => { this.backend = b; this.renderBanner(); });
    setInterval(() => {
      const t = this.transfer.state;
      if (t && this.client.state === "open") this.chart.push(t.downRate, t.upRate);
      if (this.retryAt) this.renderBanner(); // the countdown
    }, 1000);
    setInterval(() => this.refreshDisk(), 30000);
  }

  torrentsUpdate(rows, u) {
    if (u.kind === "snapshot" && !this.rows.size && !performance.getEntriesByName("rtgate:snapshot").length) performance.mark("rtgate:snapshot");
    this.rows = rows;
    if (u.kind === "snapshot" || u.kind === "ended") {
      this.viewDirty = true;
    } else if (u.kind === "change") {
      const k = u.keys;
      if (k.added.length || k.removed.length) this.viewDirty = true;
      else if (!this.viewDirty) {
        const fields = new Set([...SORT_FIELDS[this.sort.key], ...(this.filtering() ? FILTER_FIELDS : [])]);
        const changed = u.data.changed ?? {};
        for (const key of k.changed) {
          if (Object.keys(changed[key] ?? {}).some((f) => fields.has(f))) {
            this.viewDirty = true;
            break;
          }
        }
      }
      this.changedKeys ??= new Set();
      for (const key of k.changed) this.changedKeys.add(key);
      if (k.added.length || k.removed.length) this.listsDirty = true;
      if (u.data.changed && Object.values(u.data.changed).some((f) => "custom1" in f || "trackerURIs" in f)) this.listsDirty = true;
    }
    if (u.kind === "snapshot") this.listsDirty = true;
    this.scheduleView();
  }

  filtering() {
    const f = this.filters;
    return f.state !== "all" || f.label !== "" || f.tracker !== "" || f.search !== "";
  }

  scheduleView() {
    if (this.viewFrame) return;
    this.viewFrame = requestAnimationFrame(() => {
      this.viewFrame = 0;
      this.renderView();
    });
  }

  renderView() {
    if (this.viewDirty) {
      this.viewDirty = false;
      this.changedKeys = null;
      this.view = sortKeys(this.rows, matcher(this.filters), this.sort.key, this.sort.desc);
      this.table.setData(this.rows, this.view);
      this.table.render(); // in this frame: renderView runs in one already
      this.table.setEmpty(this.rows.size ? "No download matches the filters." : "No downloads yet: add one.");
      setText($("count"), this.rows.size === this.view.length ? `${this.view.length} downloads` : `${this.view.length} of ${this.rows.size} downloads`);
    } else if (this.changedKeys) {
      this.table.changed(this.changedKeys);
      this.changedKeys = null;
    }
    if (this.listsDirty) {
      this.listsDirty = false;
      this.renderFilterLists();
    }
    if (this.pendingFocus && this.rows.has(this.pendingFocus) && this.table.index.has(this.pendingFocus)) {
      this.table.select(this.pendingFocus);
      this.pendingFocus = null;
    }
    const active = this.detail.hash;
    if (active) this.detail.update(this.rows.get(active));
    this.updateButtons();
    if (!this.firstRender && this.torrents.position) {
      this.firstRender = true;
      // The rows were written in this frame; the next one starts after
      // they were painted: the benchmark's end point.
      requestAnimationFrame(() => performance.mark("rtgate:first-render"));
      if (this.rows.size && this.detail.root.hidden === false) this.detail.render();
      this.refreshDisk();
    }
  }

  renderFilterLists() {
    const labelSet = new Set();
    const trackerSet = new Set();
    for (const t of this.rows.values()) {
      for (const l of labels(t.custom1)) labelSet.add(l);
      for (const tr of trackerHosts(t)) trackerSet.add(tr);
    }
    const fill = (sel, first, values, current) => {
      const opts = [...first, ...[...values].sort().map((v) => [v, v])];
      const want = opts.map(([v, text]) => v + "\u0001" + text).join("\u0002");
      if (sel.dataset.opts === want) return;
      sel.dataset.opts = want;
      sel.replaceChildren(...opts.map(([v, text]) => h("option", { value: v, text, selected: v === current })));
    };
    fill($("filter-label"), [["", "All"], ["\0", "None"]], labelSet, this.filters.label);
    fill($("filter-tracker"), [["", "All"]], trackerSet, this.filters.tracker);
    $("label-list").replaceChildren(...[...labelSet].sort().map((l) => h("option", { value: l })));
  }

  transferUpdate(t) {
    setText($("down-rate"), fmt.rate(t.downRate) || "0 B/s");
    setText($("up-rate"), fmt.rate(t.upRate) || "0 B/s");
    setText($("down-limit"), t.downMaxRate ? fmt.rate(t.downMaxRate) : "none");
    setText($("up-limit"), t.upMaxRate ? fmt.rate(t.upMaxRate) : "none");
  }

  // refreshDisk shows the free space where rTorrent puts an open
  // download (d.free_diskspace; a closed one's is 0). Not known: hidden.
  async refreshDisk() {
    let open = null;
    for (const [k, t] of this.rows) {
      if (t.isOpen) {
        open = k;
        break;
      }
    }
    const el = $("disk");
    if (!open || this.reasons.disk !== null || this.client.state !== "open") {
      el.hidden = true;
      return;
    }
    try {
      const free = await this.client.call("d.free_diskspace", open);
      setText($("disk-free"), fmt.bytes(free));
      el.hidden = !(free > 0);
    } catch {
      el.hidden = true; // not known here (the embedded engine has no disk figure)
    }
  }

  renderBanner() {
    const s = this.connState?.state ?? "connecting";
    const b = this.backend;
    let text = "";
    let kind = "";
    let retry = false;
    if (s === "reconnecting") {
      const secs = Math.max(1, Math.round((this.retryAt - Date.now()) / 1000));
      text = `Connection to rtgate lost; reconnecting in ${secs} s (attempt ${this.connState.attempt}).`;
      kind = "warn";
      retry = true;
    } else if (s === "connecting" && this.client.stats.opens > 0) {
      text = "Reconnecting to rtgate…";
      kind = "warn";
    } else if (s === "auth") {
      text = "rtgate wants a token.";
      kind = "warn";
    } else if (b && b.state === "disconnected") {
      text = `rtgate cannot reach rTorrent${b.error ? `: ${b.error}` : "."}`;
      kind = "error";
    } else if (b && b.state === "reconnecting") {
      const at = b.retryAt ? ` at ${new Date(b.retryAt).toLocaleTimeString()}` : "";
      text = `rTorrent is unreachable; rtgate tries again${at} (attempt ${b.attempt}).${b.error ? ` ${b.error}` : ""}`;
      kind = "error";
    } else if (b && b.state === "connecting") {
      text = "rtgate is connecting to its backend…";
      kind = "warn";
    } else if (b && b.backend === "embedded") {
      text = "Embedded engine: rtgate runs its own BitTorrent engine, no rTorrent is configured.";
      kind = "info";
    }
    const banner = $("banner");
    banner.hidden = !text;
    banner.className = `banner ${kind}`;
    banner.dataset.state = text ? (kind === "info" ? "embedded" : b && (b.state === "disconnected" || b.state === "reconnecting") && s === "open" ? `backend-${b.state}` : s) : "";
    setText($("banner-text"), text);
    $("banner-retry").hidden = !retry;
    const v = b?.version ? `${b.backend === "embedded" ? "embedded engine" : "rTorrent"} ${b.version}` : "";
    setText($("backend-version"), v);
  }

  // --- what this connection may do ---

  async refreshAllowed() {
    const names = Object.keys(ACTIONS);
    const calls = names.flatMap((n) => ACTIONS[n]);
    try {
      const res = await this.client.allowed(calls);
      let i = 0;
      for (const n of names) {
        const parts = res.slice(i, i + ACTIONS[n].length);
        i += ACTIONS[n].length;
        const refused = parts.find((r) => !r.allowed);
        this.reasons[n] = refused ? refused.error.message : null;
      }
    } catch (err) {
      if (!(err instanceof ConnectionError)) console.warn("rtgate.allowed:", err);
      return;
    }
    this.updateButtons();
    this.detail.schedule();
    this.refreshDisk();
  }

  reasonFor(action) {
    if (!(action in this.reasons)) return "Not known yet: waiting for rtgate.";
    return this.reasons[action];
  }

  updateButtons() {
    const sel = this.table.selection.size;
    const none = sel === 0 ? "Select downloads first." : null;
    const add = ["addFile", "addMagnet", "addURL"].every((a) => this.reasonFor(a)) ? this.reasonFor("addFile") : null;
    this.#button("add-button", add);
    this.#button("start-button", this.reasonFor("start") ?? none);
    this.#button("stop-button", this.reasonFor("stop") ?? none);
    this.#button("label-button", this.reasonFor("label") ?? none);
    this.#button("erase-button", this.reasonFor("erase") ?? none);
    this.#button("limits-button", this.reasonFor("limits"));
  }

  // #button enables a button, or disables it saying why (aria-disabled
  // keeps it focusable, so a screen reader reads the reason).
  #button(id, reason) {
    const b = $(id);
    const was = b.getAttribute("aria-disabled") === "true";
    if (!reason) {
      if (was) {
        b.removeAttribute("aria-disabled");
        b.removeAttribute("title");
        b.removeAttribute("aria-description");
      }
      return;
    }
    if (!was || b.title !== reason) {
      b.setAttribute("aria-disabled", "true");
      b.title = reason;
      b.setAttribute("aria-description", reason);
    }
  }

  // --- actions ---

  /** act sends calls as one batch and reports what failed. */
  async act(what, calls) {
    try {
      const out = calls.length === 1 ? [{ result: await this.client.call(...calls[0]) }] : await this.client.batch(calls);
      const failed = out.filter((o) => o.error);
      if (failed.length) this.toast(`${what}: ${failed[0].error.message}${failed.length > 1 ? ` (and ${failed.length - 1} more)` : ""}`);
      return out;
    } catch (err) {
      this.toast(`${what}: ${err.message}`);
      return null;
    }
  }

  selected() {
    return [...this.table.selection].filter((k) => this.rows.has(k));
  }

  toast(text) {
    const t = $("toast");
    t.textContent = text;
    t.hidden = false;
    clearTimeout(this.toastTimer);
    this.toastTimer = setTimeout(() => { t.hidden = true; }, 8000);
  }

  #wireToolbar() {
    const guard = (id, action, fn) => $(id).addEventListener("click", (e) => {
      if (e.currentTarget.getAttribute("aria-disabled") === "true") {
        this.toast(e.currentTarget.title);
        return;
      }
      fn();
    });
    guard("start-button", "start", () => this.act("Start", this.selected().map((k) => ["d.start", k])));
    guard("stop-button", "stop", () => this.act("Stop", this.selected().map((k) => ["d.stop", k])));
    guard("erase-button", "erase", () => this.dialogs.openErase());
    guard("label-button", "label", () => this.dialogs.openLabel());
    guard("add-button", "add", () => this.dialogs.openAdd());
    guard("limits-button", "limits", () => this.dialogs.openLimits());
    $("banner-retry").addEventListener("click", () => this.client.reconnectNow());

    const state = $("filter-state");
    state.replaceChildren(...STATE_FILTERS.map((s) => h("option", { value: s, text: s[0].toUpperCase() + s.slice(1) })));
    const onFilter = () => {
      this.filters = { state: state.value, label: $("filter-label").value, tracker: $("filter-tracker").value, search: $("search").value };
      this.viewDirty = true;
      this.scheduleView();
    };
    for (const id of ["filter-state", "filter-label", "filter-tracker"]) $(id).addEventListener("change", onFilter);
    $("search").addEventListener("input", onFilter);
  }

  setSort(key) {
    this.sort = { key, desc: this.sort.key === key ? !this.sort.desc : key !== "name" && key !== "label" && key !== "status" };
    this.table.setSort(this.sort.key, this.sort.desc);
    this.viewDirty = true;
    this.scheduleView();
  }

  selectionChanged() {
    this.updateButtons();
    const a = this.table.active;
    if (a && !this.detail.root.hidden) this.openDetail(a);
    else if (a && this.table.selection.size === 1) this.openDetail(a);
  }

  openDetail(hash) {
    this.detail.show(hash, this.rows.get(hash));
  }

  closeDetail() {
    this.detail.hide();
    $("list").focus();
  }

  tableKey(e) {
    if (e.key === "Delete") {
      $("erase-button").click();
      e.preventDefault();
    }
  }

  globalKey(e) {
    if (e.key === "/" && !e.target.closest?.("input, textarea, select, dialog")) {
      $("search").focus();
      e.preventDefault();
    } else if (e.key === "Escape" && !this.detail.root.hidden && !e.target.closest?.("dialog")) {
      this.closeDetail();
    }
  }
}

new Page();
