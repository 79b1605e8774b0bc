// What the page makes of a download's fields (poller/doc.go), pure
// functions (tested in Node): its status as Flood derives it, its labels
// as Flood stores them in d.custom1, its ETA, the filters and the sort.

/**
 * statuses returns a download's statuses by Flood's rules
 * (getTorrentStatusFromProperties): checking; or complete and seeding,
 * downloading, or stopped (and complete, if closed); error when rTorrent
 * has a message; active or inactive by its rates. rtgate adds paused
 * (started, open, not active: d.pause), which Flood shows as seeding or
 * downloading.
 */
export function statuses(t) {
  const out = [];
  const { isComplete: complete, isOpen: open, state } = t;
  if (t.hashing > 0) out.push("checking");
  else if (complete && open && state) out.push("complete", "seeding");
  else if (complete && open) out.push("stopped");
  else if (complete) out.push("stopped", "complete");
  else if (open && state) out.push("downloading");
  else out.push("stopped");
  if (state && open && t.isActive === false && !(t.hashing > 0)) out.push("paused");
  if (typeof t.message === "string" && t.message) out.push("error");
  out.push(t.upRate || t.downRate ? "active" : "inactive");
  return out;
}

const STATUS_LABEL = {
  error: "Error",
  checking: "Checking",
  paused: "Paused",
  seeding: "Seeding",
  downloading: "Downloading",
  stopped: "Stopped",
};

/** statusText is the one word the table shows for a download, the first of STATUS_LABEL's it has. */
export function statusText(t) {
  const s = statuses(t);
  for (const [k, text] of Object.entries(STATUS_LABEL)) if (s.includes(k)) return text;
  return "Stopped";
}

/** labels decodes d.custom1 as Flood stores tags: comma-separated, each URI-encoded. */
export function labels(custom1) {
  if (typeof custom1 !== "string" || custom1 === "") return [];
  return custom1.split(",").sort().map((tag) => {
    try {
      return decodeURIComponent(tag);
    } catch {
      return tag; // written by another client, not encoded
    }
  });
}

/** encodeLabels encodes tags for d.custom1 exactly as Flood's encodeTags does. */
export function encodeLabels(tags) {
  const out = [];
  for (const t of tags) {
    const tag = encodeURIComponent(t.trim());
    if (tag !== "" && !out.includes(tag)) out.push(tag);
  }
  return out.join(",");
}

/** progress is the fraction of a download done, 0–1. */
export function progress(t) {
  if (!t.sizeBytes) return t.isComplete ? 1 : 0;
  return Math.min(1, (t.bytesDone ?? 0) / t.sizeBytes);
}

/** eta is the seconds left at the current rate: 0 when complete, Infinity when not moving. */
export function eta(t) {
  if (t.isComplete || !(t.leftBytes > 0)) return 0;
  return t.downRate > 0 ? t.leftBytes / t.downRate : Infinity;
}

/** trackerHosts returns the host names of a download's enabled trackers. */
export function trackerHosts(t) {
  const out = [];
  for (const u of t.trackerURIs ?? []) {
    try {
      const h = new URL(u).hostname;
      if (h && !out.includes(h)) out.push(h);
    } catch {
      /* not a URL (dht://, a bare host) */
    }
  }
  return out;
}

/** The state filter's choices, by value. */
export const STATE_FILTERS = ["all", "downloading", "seeding", "complete", "stopped", "active", "inactive", "checking", "error"];

/**
 * matcher returns a predicate for the filters: state (one of
 * STATE_FILTERS), label ("" any, "\0" none), tracker host ("" any) and a
 * search string (every word in the name, or a hash prefix).
 */
export function matcher({ state = "all", label = "", tracker = "", search = "" } = {}) {
  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  const hashPrefix = /^[0-9a-f]{6,40}$/i.test(search.trim()) ? search.trim().toUpperCase() : null;
  return (t) => {
    if (state === "complete" ? !t.isComplete : state !== "all" && !statuses(t).includes(state)) return false;
    if (label === "\0" ? t.custom1 : label && !labels(t.custom1).includes(label)) return false;
    if (tracker && !trackerHosts(t).includes(tracker)) return false;
    if (words.length) {
      if (hashPrefix && t.hash?.startsWith(hashPrefix)) return true;
      const name = (t.name ?? "").toLowerCase();
      if (!words.every((w) => name.includes(w))) return false;
    }
    return true;
  };
}

/** COLUMNS are the table's columns: key, heading, and the value it sorts by. */
export const COLUMNS = [
  { key: "name", title: "Name", value: (t) => t.name ?? "" },
  { key: "status", title: "Status", value: (t) => statusText(t) },
  { key: "progress", title: "Progress", value: progress },
  { key: "downRate", title: "Down", value: (t) => t.downRate ?? 0 },
  { key: "upRate", title: "Up", value: (t) => t.upRate ?? 0 },
  { key: "eta", title: "ETA", value: eta },
  { key: "ratio", title: "Ratio", value: (t) => t.ratio ?? 0 },
  { key: "size", title: "Size", value: (t) => t.sizeBytes ?? 0 },
  { key: "label", title: "Label", value: (t) => labels(t.custom1).join(", ") },
  { key: "added", title: "Added", value: (t) => t.dateAdded ?? 0 },
];

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/**
 * sortKeys returns the keys of rows (a Map) that pass match, sorted by
 * the column, ties broken by name then hash so the order is stable.
 */
export function sortKeys(rows, match, column = "name", descending = false) {
  const col = COLUMNS.find((c) => c.key === column) ?? COLUMNS[0];
  const items = [];
  for (const [k, t] of rows) if (match(t)) items.push({ k, t, v: col.value(t) });
  const dir = descending ? -1 : 1;
  items.sort((a, b) => {
    let c = typeof a.v === "string" ? collator.compare(a.v, b.v) : a.v - b.v;
    if (Number.isNaN(c)) c = 0;
    if (c === 0 && col.key !== "name") c = collator.compare(a.t.name ?? "", b.t.name ?? "");
    if (c === 0) c = a.k < b.k ? -1 : a.k > b.k ? 1 : 0;
    return c * dir;
  });
  return items.map((i) => i.k);
}

/** SORT_FIELDS are the fields each column's order depends on: a change elsewhere keeps the order. */
export const SORT_FIELDS = {
  name: ["name"],
  status: ["hashing", "isComplete", "isOpen", "state", "isActive", "message", "upRate", "downRate"],
  progress: ["bytesDone", "sizeBytes", "isComplete"],
  downRate: ["downRate"],
  upRate: ["upRate"],
  eta: ["leftBytes", "downRate", "isComplete"],
  ratio: ["ratio"],
  size: ["sizeBytes"],
  label: ["custom1"],
  added: ["dateAdded"],
};

/** FILTER_FIELDS are the fields the filters read. */
export const FILTER_FIELDS = ["name", "hashing", "isComplete", "isOpen", "state", "isActive", "message", "upRate", "downRate", "custom1", "trackerURIs"];
