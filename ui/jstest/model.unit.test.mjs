// Unit tests of the page's pure modules: what it makes of a download's
// fields (model.js) and how it prints numbers (format.js).
import { test } from "node:test";
import assert from "node:assert/strict";

import * as fmt from "../static/app/format.js";
import { COLUMNS, encodeLabels, eta, labels, matcher, progress, sortKeys, statusText, statuses, trackerHosts } from "../static/app/model.js";

const base = { hash: "A".repeat(40), name: "x", state: false, isOpen: false, isActive: false, isComplete: false, hashing: 0, message: "", upRate: 0, downRate: 0 };
const dl = (fields) => ({ ...base, ...fields });

test("statuses follow Flood's rules", () => {
  const cases = [
    { name: "checking", t: { hashing: 1, state: true, isOpen: true }, want: ["checking", "inactive"], text: "Checking" },
    { name: "seeding", t: { isComplete: true, isOpen: true, state: true, isActive: true, upRate: 5 }, want: ["complete", "seeding", "active"], text: "Seeding" },
    { name: "complete, open, stopped", t: { isComplete: true, isOpen: true }, want: ["stopped", "inactive"], text: "Stopped" },
    { name: "complete, closed", t: { isComplete: true }, want: ["stopped", "complete", "inactive"], text: "Stopped" },
    { name: "downloading", t: { isOpen: true, state: true, isActive: true, downRate: 9 }, want: ["downloading", "active"], text: "Downloading" },
    { name: "paused", t: { isOpen: true, state: true, isActive: false }, want: ["downloading", "paused", "inactive"], text: "Paused" },
    { name: "open, stopped", t: { isOpen: true }, want: ["stopped", "inactive"], text: "Stopped" },
    { name: "closed", t: {}, want: ["stopped", "inactive"], text: "Stopped" },
    { name: "error", t: { isOpen: true, state: true, isActive: true, message: "Tracker: timed out" }, want: ["downloading", "error", "inactive"], text: "Error" },
  ];
  for (const c of cases) {
    assert.deepEqual(statuses(dl(c.t)), c.want, c.name);
    assert.equal(statusText(dl(c.t)), c.text, c.name);
  }
});

test("labels are d.custom1 as Flood keeps its tags", () => {
  // Flood 4.11: encodeTags trims each tag, URI-encodes it, drops empty
  // and repeated ones and joins them with commas; reading splits on
  // commas, sorts and decodes.
  assert.equal(encodeLabels(["movies", " a b ", "movies", "", "x,y", "ü"]), "movies,a%20b,x%2Cy,%C3%BC");
  assert.deepEqual(labels("movies,a%20b,x%2Cy,%C3%BC"), ["ü", "a b", "movies", "x,y"], "sorted encoded, as Flood does");
  assert.deepEqual(labels(""), []);
  assert.deepEqual(labels(undefined), []);
  assert.deepEqual(labels("100%"), ["100%"], "not encoded by another client: kept as it is");
  for (const tags of [["a"], ["b", "a"], ["with space", "and,comma", "quote\"", "$cmd=", "{x}"]]) {
    assert.deepEqual(labels(encodeLabels(tags)).sort(), [...tags].sort());
    for (const tag of encodeLabels(tags).split(",")) assert.doesNotMatch(tag, /[",$={}\s]/, "nothing rTorrent's command syntax reads");
  }
});

test("progress and ETA", () => {
  assert.equal(progress(dl({ sizeBytes: 200, bytesDone: 50 })), 0.25);
  assert.equal(progress(dl({ sizeBytes: 0, isComplete: true })), 1);
  assert.equal(eta(dl({ leftBytes: 1000, downRate: 100 })), 10);
  assert.equal(eta(dl({ leftBytes: 1000, downRate: 0 })), Infinity);
  assert.equal(eta(dl({ leftBytes: 0, isComplete: true })), 0);
});

test("tracker hosts", () => {
  assert.deepEqual(trackerHosts(dl({ trackerURIs: ["http://t.example:6969/announce", "udp://t.example:80", "https://other.example/a", "not a url"] })), ["t.example", "other.example"]);
  assert.deepEqual(trackerHosts(dl({})), []);
});

test("filters", () => {
  const rows = [
    dl({ hash: "1".repeat(40), name: "Ubuntu 24.04 desktop", custom1: "linux,iso", isComplete: true, isOpen: true, state: true, isActive: true, trackerURIs: ["http://torrent.ubuntu.com/announce"] }),
    dl({ hash: "2".repeat(40), name: "Debian netinst", custom1: "linux", isOpen: true, state: true, isActive: true, downRate: 10 }),
    dl({ hash: "3".repeat(40), name: "notes", custom1: "" }),
  ];
  const names = (f) => rows.filter(matcher(f)).map((t) => t.name);
  assert.deepEqual(names({}), ["Ubuntu 24.04 desktop", "Debian netinst", "notes"]);
  assert.deepEqual(names({ state: "seeding" }), ["Ubuntu 24.04 desktop"]);
  assert.deepEqual(names({ state: "complete" }), ["Ubuntu 24.04 desktop"]);
  assert.deepEqual(names({ state: "downloading" }), ["Debian netinst"]);
  assert.deepEqual(names({ state: "active" }), ["Debian netinst"]);
  assert.deepEqual(names({ state: "stopped" }), ["notes"]);
  assert.deepEqual(names({ label: "iso" }), ["Ubuntu 24.04 desktop"]);
  assert.deepEqual(names({ label: "\0" }), ["notes"]);
  assert.deepEqual(names({ tracker: "torrent.ubuntu.com" }), ["Ubuntu 24.04 desktop"]);
  assert.deepEqual(names({ search: "DEB  net" }), ["Debian netinst"]);
  assert.deepEqual(names({ search: "222222" }), ["Debian netinst"], "a hash prefix");
  assert.deepEqual(names({ search: "linux", label: "iso" }), []);
});

test("sort: by column, numeric names, stable ties", () => {
  const rows = new Map([
    ["C", dl({ name: "file 10", sizeBytes: 5 })],
    ["A", dl({ name: "file 9", sizeBytes: 5 })],
    ["B", dl({ name: "File 2", sizeBytes: 7 })],
  ]);
  const all = () => true;
  assert.deepEqual(sortKeys(rows, all, "name"), ["B", "A", "C"]);
  assert.deepEqual(sortKeys(rows, all, "name", true), ["C", "A", "B"]);
  assert.deepEqual(sortKeys(rows, all, "size"), ["A", "C", "B"], "ties by name");
  assert.deepEqual(sortKeys(rows, all, "size", true), ["B", "C", "A"]);
  assert.deepEqual(sortKeys(rows, (t) => t.sizeBytes === 5, "name"), ["A", "C"]);
  for (const c of COLUMNS) assert.equal(sortKeys(rows, all, c.key).length, 3, c.key);
});

test("sort: 10,000 downloads in well under a frame's budget several times over", () => {
  const rows = new Map();
  for (let i = 0; i < 10000; i++) rows.set(String(i).padStart(40, "0"), dl({ name: `file-${i}`, downRate: (i * 7919) % 1000 }));
  const start = performance.now();
  const keys = sortKeys(rows, matcher({}), "downRate", true);
  const ms = performance.now() - start;
  assert.equal(keys.length, 10000);
  assert.ok(rows.get(keys[0]).downRate >= rows.get(keys[9999]).downRate);
  // Not a benchmark (docs/BENCHMARKS.md has those): a gross regression
  // (a quadratic sort) would take seconds.
  assert.ok(ms < 2000, `${ms} ms`);
});

test("format", () => {
  assert.equal(fmt.bytes(0), "0 B");
  assert.equal(fmt.bytes(999), "999 B");
  assert.equal(fmt.bytes(1536), "1.50 KiB");
  assert.equal(fmt.bytes(12.34 * 2 ** 20), "12.3 MiB");
  assert.equal(fmt.bytes(456 * 2 ** 30), "456 GiB");
  assert.equal(fmt.bytes(-1), "");
  assert.equal(fmt.rate(0), "");
  assert.equal(fmt.rate(2048), "2.00 KiB/s");
  assert.equal(fmt.duration(45), "45s");
  assert.equal(fmt.duration(200), "3m 20s");
  assert.equal(fmt.duration(7500), "2h 5m");
  assert.equal(fmt.duration(3 * 86400 + 4 * 3600 + 5), "3d 4h");
  assert.equal(fmt.duration(0), "0s");
  assert.equal(fmt.duration(Infinity), "∞");
  assert.equal(fmt.percent(0), "0%");
  assert.equal(fmt.percent(0.425), "42.5%");
  assert.equal(fmt.percent(0.99951), "99.9%");
  assert.equal(fmt.percent(1), "100%");
  assert.equal(fmt.ratio(1.234), "1.23");
  assert.equal(fmt.date(0), "");
  assert.match(fmt.date(1700000000, "en-GB"), /2023/);
});
