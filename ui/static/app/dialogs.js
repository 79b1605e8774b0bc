// The page's dialogs: add (file, drop, magnet, URL), erase, label, rate
// limits and the token prompt; and where the token is kept (never in a
// URL).
import { $, setText } from "./dom.js";
import { encodeLabels, labels } from "./model.js";

const TOKEN_KEY = "rtgate.token";

/** storedToken is the token kept for this session, or this browser. */
export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY) ?? localStorage.getItem(TOKEN_KEY) ?? "";
}

/** Dialogs drives the page's dialogs for page (main.js's Page). */
export class Dialogs {
  constructor(page) {
    this.page = page;
    this.dropped = [];
    this.#wire();
    this.#wireDrop();
  }

  #wire() {
    for (const d of document.querySelectorAll("dialog")) {
      d.addEventListener("click", (e) => {
        if (e.target.closest("[data-close]")) d.close();
      });
    }
    $("add-form").addEventListener("submit", (e) => { e.preventDefault(); this.submitAdd(); });
    $("erase-form").addEventListener("submit", (e) => { e.preventDefault(); this.submitErase(); });
    $("label-form").addEventListener("submit", (e) => { e.preventDefault(); this.submitLabel(); });
    $("limits-form").addEventListener("submit", (e) => { e.preventDefault(); this.submitLimits(); });
    $("token-form").addEventListener("submit", (e) => { e.preventDefault(); this.submitToken(); });
    $("token-dialog").addEventListener("cancel", (e) => e.preventDefault()); // nothing to do without one
  }

  openAdd(files = []) {
    const d = $("add-dialog");
    setText($("add-error"), "");
    $("add-links").value = "";
    this.dropped = files;
    const fileReason = this.page.reasonFor("addFile");
    const input = $("add-files");
    input.disabled = !!fileReason;
    setText($("add-files-hint"), fileReason ?? (files.length ? `${files.length} dropped: ${files.map((f) => f.name).join(", ")}` : "Or drop them anywhere on the page."));
    const linkReasons = [this.page.reasonFor("addMagnet") && `Magnet links: ${this.page.reasonFor("addMagnet")}`, this.page.reasonFor("addURL") && `URLs: ${this.page.reasonFor("addURL")}`].filter(Boolean);
    $("add-links").disabled = !!(this.page.reasonFor("addMagnet") && this.page.reasonFor("addURL"));
    setText($("add-links-hint"), linkReasons.join(" "));
    if (!d.open) d.showModal();
  }

  async submitAdd() {
    const files = [...$("add-files").files, ...(this.dropped ?? [])];
    const links = $("add-links").value.split(/\s+/).filter(Boolean);
    const tags = $("add-label").value.split(",").map((s) => s.trim()).filter(Boolean);
    const start = $("add-start").checked;
    if (!files.length && !links.length) {
      setText($("add-error"), "Choose a torrent file, or paste a magnet link or URL.");
      return;
    }
    const commands = [];
    if (tags.length) commands.push(`d.custom1.set="${encodeLabels(tags)}"`);
    commands.push(`d.custom.set=addtime,${Math.round(Date.now() / 1000)}`);
    const calls = [];
    for (const f of files) {
      if (f.size > 3 << 20) {
        setText($("add-error"), `${f.name} is over 3 MiB: rTorrent refuses requests that large.`);
        return;
      }
      calls.push([start ? "load.start_throw" : "load.throw", "", await dataURL(f), ...commands]);
    }
    for (const l of links) {
      if (!/^(magnet:\?|https?:\/\/)/i.test(l)) {
        setText($("add-error"), `Not a magnet link or http(s) URL: ${l}`);
        return;
      }
      calls.push([start ? "load.start" : "load.normal", "", l, ...commands]);
    }
    $("add-submit").disabled = true;
    const out = await this.page.act("Add", calls);
    $("add-submit").disabled = false;
    if (out && !out.some((o) => o.error)) {
      $("add-dialog").close();
      $("add-files").value = "";
      this.dropped = [];
      const hash = out.map((o) => o.result).find((r) => typeof r === "string" && /^[0-9A-F]{40}$/.test(r));
      if (hash) this.page.pendingFocus = hash;
    } else if (out) {
      setText($("add-error"), out.find((o) => o.error).error.message);
    }
  }

  openErase() {
    const sel = this.page.selected();
    if (!sel.length) return;
    const names = sel.slice(0, 3).map((k) => this.page.rows.get(k)?.name ?? k);
    setText($("erase-text"), `Erase ${sel.length === 1 ? `“${names[0]}”` : `${sel.length} downloads (${names.join(", ")}${sel.length > 3 ? ", …" : ""})`} from rTorrent?`);
    // rTorrent deletes files only by running a program (execute.*), which
    // no profile of rtgate allows: the option shows why it is not offered.
    const box = $("erase-data");
    box.checked = false;
    box.disabled = true;
    setText($("erase-data-reason"), "Not offered: rTorrent deletes data only by running a program (execute.*), which rtgate's method policy refuses. The data stays on disk.");
    $("erase-dialog").showModal();
    $("erase-submit").focus();
  }

  async submitErase() {
    const sel = this.page.selected();
    $("erase-dialog").close();
    if (sel.length) await this.page.act("Erase", sel.map((k) => ["d.erase", k]));
    this.page.table.selection.clear();
    this.page.selectionChanged();
  }

  openLabel() {
    const sel = this.page.selected();
    if (!sel.length) return;
    const common = labels(this.page.rows.get(sel[0])?.custom1);
    $("label-input").value = common.join(", ");
    $("label-dialog").showModal();
  }

  async submitLabel() {
    const tags = $("label-input").value.split(",").map((s) => s.trim()).filter(Boolean);
    const value = encodeLabels(tags);
    $("label-dialog").close();
    await this.page.act("Label", this.page.selected().map((k) => ["d.custom1.set", k, value]));
  }

  openLimits() {
    const t = this.page.transfer.state ?? {};
    $("limit-down").value = String(Math.round((t.downMaxRate ?? 0) / 1024));
    $("limit-up").value = String(Math.round((t.upMaxRate ?? 0) / 1024));
    setText($("limits-error"), "");
    $("limits-dialog").showModal();
  }

  async submitLimits() {
    const down = Number($("limit-down").value);
    const up = Number($("limit-up").value);
    if (!Number.isInteger(down) || !Number.isInteger(up) || down < 0 || up < 0) {
      setText($("limits-error"), "Whole numbers of KiB/s, 0 for no limit.");
      return;
    }
    const out = await this.page.act("Rate limits", [
      ["throttle.global_down.max_rate.set", "", down * 1024],
      ["throttle.global_up.max_rate.set", "", up * 1024],
    ]);
    if (out && !out.some((o) => o.error)) $("limits-dialog").close();
  }

  askToken(reason) {
    const d = $("token-dialog");
    setText($("token-text"), {
      required: "This rtgate wants a token.",
      wrong: "That token is not this rtgate's.",
      revoked: "The token was changed on the server: enter the new one.",
    }[reason] ?? "This rtgate wants a token.");
    $("token-input").value = "";
    if (!d.open) d.showModal();
    $("token-input").focus();
  }

  submitToken() {
    const tok = $("token-input").value.trim();
    if (!tok) return;
    sessionStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(TOKEN_KEY);
    ($("token-remember").checked ? localStorage : sessionStorage).setItem(TOKEN_KEY, tok);
    $("token-dialog").close();
    this.page.client.setToken(tok);
  }

  #wireDrop() {
    const drop = $("drop");
    let depth = 0;
    const hasFiles = (e) => [...(e.dataTransfer?.types ?? [])].includes("Files");
    document.addEventListener("dragenter", (e) => {
      if (!hasFiles(e)) return;
      depth++;
      drop.hidden = false;
    });
    document.addEventListener("dragleave", () => {
      if (--depth <= 0) {
        depth = 0;
        drop.hidden = true;
      }
    });
    document.addEventListener("dragover", (e) => { if (hasFiles(e)) e.preventDefault(); });
    document.addEventListener("drop", (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      drop.hidden = true;
      const files = [...e.dataTransfer.files].filter((f) => /\.torrent$/i.test(f.name) || f.type === "application/x-bittorrent");
      if (!files.length) {
        this.page.toast("Only .torrent files can be dropped.");
        return;
      }
      if (this.page.reasonFor("addFile")) {
        this.page.toast(this.page.reasonFor("addFile"));
        return;
      }
      this.openAdd(files);
    });
  }
}

/** dataURL reads a file as a base64 data: URI, the JSON dialect's way to pass a torrent. */
function dataURL(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*;base64,/, "data:application/x-bittorrent;base64,"));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}
