// rtgate.js against a real rtgate in front of a real rTorrent, with Node's
// test runner. cmd/rtgate's TestUIClientNode starts them and runs this
// file with:
//
//   RTGATE_URL         http://host:port of `rtgate run`
//   RTGATE_TOKEN       its token, RTGATE_TOKEN_FILE the file it watches
//   RTGATE_HASH        a stopped download rTorrent holds
//   RTGATE_VERSION     rTorrent's version
//   RTGATE_WS          the directory of npm's ws package (Node 20 has no WebSocket)
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import net from "node:net";

import { AuthError, Client, FaultError, PolicyError, RPCError, reducerFor } from "../static/rtgate.js";

const env = process.env;
const skip = env.RTGATE_URL ? false : "run by cmd/rtgate's TestUIClientNode, which starts rtgate";
const WebSocket = env.RTGATE_WS ? createRequire(import.meta.url)(env.RTGATE_WS) : null;
const HASH = env.RTGATE_HASH;
const ZERO = "0".repeat(40);

// connect makes a client and waits until it is open (or in state want).
function connect(url, token, { want = "open", ...options } = {}) {
  const c = new Client(url, { WebSocket, token, backoff: { min: 50, max: 400 }, ...options });
  c.on("state", (s) => { c.lastState = s; });
  return until(c, want).then(() => c);
}

// until resolves once the client is in the state, rejecting after 10 s.
function until(client, state, pred = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`client never ${state}: ${client.state}`)), 10000);
    const check = (s) => {
      if (s.state === state && pred(s)) {
        clearTimeout(timer);
        off();
        resolve(s);
      }
    };
    const off = client.on("state", check);
    if (client.lastState) check(client.lastState);
  });
}

// next resolves with the next update of a subscription that passes pred.
function next(sub, pred = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${sub.topic}: no such update within 10 s`)), 10000);
    const off = sub.on("update", (state, u) => {
      if (!pred(state, u)) return;
      clearTimeout(timer);
      off();
      resolve({ state, u });
    });
  });
}

const wsURL = () => env.RTGATE_URL.replace(/^http/, "ws") + "/ws";

test("authentication: none, wrong, right (as a subprotocol)", { skip }, async () => {
  const none = await connect(wsURL(), "", { want: "auth" });
  await assert.rejects(none.call("system.client_version"), (e) => e instanceof AuthError && e.reason === "required");
  none.close();
  const wrong = await connect(wsURL(), "nope", { want: "auth" });
  wrong.close();
  const right = await connect(wsURL(), env.RTGATE_TOKEN);
  assert.equal(await right.call("system.client_version"), env.RTGATE_VERSION);
  right.close();
});

test("calls: results, typed errors, batches, rtgate.allowed", { skip }, async () => {
  const c = await connect(wsURL(), env.RTGATE_TOKEN);
  try {
    assert.equal(await c.call("d.name", HASH), "live.bin");
    await assert.rejects(c.call("execute.throw", "", "id"), (e) => e instanceof PolicyError && e.code === -507 && e.data.method === "execute.throw");
    await assert.rejects(c.call("d.name", ZERO), (e) => e instanceof FaultError && typeof e.faultCode === "number");
    await assert.rejects(c.call("d.name", 1.5), (e) => e instanceof RPCError && e.code === -32602);
    const out = await c.batch([["d.name", HASH], ["d.name", ZERO], ["system.client_version"]]);
    assert.equal(out[0].result, "live.bin");
    assert.ok(out[1].error instanceof FaultError);
    assert.equal(out[2].result, env.RTGATE_VERSION);
    const allowed = await c.allowed(["d.start", ["d.erase", HASH], ["execute.throw", "", "id"]]);
    assert.deepEqual(allowed.map((a) => a.allowed), [true, true, false]);
    assert.ok(allowed[2].error instanceof PolicyError);
    const topics = await c.topics();
    assert.ok(topics.available.includes("torrents"));
  } finally {
    c.close();
  }
});

test("subscribe: the snapshot, then a change made through a call", { skip }, async () => {
  const c = await connect(wsURL(), env.RTGATE_TOKEN);
  try {
    const sub = c.subscribe("torrents");
    const { state } = await next(sub, (_s, u) => u.kind === "snapshot");
    assert.equal(state.get(HASH).name, "live.bin");
    const changed = next(sub, (s) => s.get(HASH).custom1 === "via-call");
    await c.call("d.custom1.set", HASH, "via-call");
    const { u } = await changed;
    assert.equal(u.kind, "change");
    assert.ok(u.keys.changed.includes(HASH));
    assert.equal(sub.position.seq, u.seq);
  } finally {
    c.close();
  }
});

// A TCP proxy that can cut every connection through it and refuse new ones.
function cutProxy(to) {
  const u = new URL(to);
  const open = new Set();
  let down = false;
  const server = net.createServer((c) => {
    if (down) return c.destroy();
    const up = net.connect(Number(u.port), u.hostname);
    for (const s of [c, up]) {
      open.add(s);
      s.on("close", () => open.delete(s));
      s.on("error", () => {});
    }
    c.pipe(up);
    up.pipe(c);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve({
    url: `ws://127.0.0.1:${server.address().port}/ws`,
    cut() { down = true; for (const s of open) s.destroy(); },
    restore() { down = false; },
    close: () => new Promise((r) => server.close(r)),
  })));
}

test("resume: a lost connection replays exactly what was missed", { skip }, async () => {
  const proxy = await cutProxy(env.RTGATE_URL);
  const c = await connect(proxy.url, env.RTGATE_TOKEN);
  const other = await connect(wsURL(), env.RTGATE_TOKEN);
  try {
    const sub = c.subscribe("torrents");
    const watch = other.subscribe("torrents");
    await Promise.all([sub, watch].map((s) => next(s, (_s, u) => u.kind === "snapshot")));
    const at = sub.position;
    proxy.cut();
    await until(c, "reconnecting");
    // Changed while c is away, and published (the other client sees it)
    // before c comes back: only a replay can bring it.
    const published = next(watch, (s) => s.get(HASH)?.custom1 === "while-away");
    await other.call("d.custom1.set", HASH, "while-away");
    await published;
    proxy.restore();
    c.reconnectNow();
    const { u } = await next(sub, (s) => s.get(HASH)?.custom1 === "while-away");
    assert.equal(u.kind, "change");
    assert.equal(u.recovered, true, "the first replayed change says so");
    assert.equal(u.epoch, at.epoch);
    assert.ok(u.seq > at.seq);
    assert.equal(c.stats.snapshots, 1, "no new snapshot");
    assert.equal(c.stats.gaps, 0);
    assert.ok(c.stats.opens >= 2);
  } finally {
    c.close();
    other.close();
    await proxy.close();
  }
});

test("resume from a position rtgate does not know: a snapshot flagged recovered:false", { skip }, async () => {
  const c = await connect(wsURL(), env.RTGATE_TOKEN);
  try {
    const sub = c.subscribe("torrents", null, { from: { epoch: "not-an-epoch", seq: 7 }, state: reducerFor("torrents").init({ torrents: {} }) });
    const { state, u } = await next(sub, (_s, u) => u.kind === "snapshot" && !u.current);
    assert.equal(u.recovered, false);
    assert.ok(state.has(HASH));
    assert.equal(c.stats.notRecovered, 1);
  } finally {
    c.close();
  }
});

// Last: it changes the server's token.
test("a token changed on the server: closed with 4001, then setToken resumes", { skip }, async () => {
  const c = await connect(wsURL(), env.RTGATE_TOKEN);
  try {
    const sub = c.subscribe("torrents");
    await next(sub, (_s, u) => u.kind === "snapshot");
    const closed = new Promise((resolve) => c.on("close", resolve));
    writeFileSync(env.RTGATE_TOKEN_FILE, "rotated-token\n");
    assert.equal((await closed).code, 4001);
    await until(c, "auth", (s) => s.reason === "revoked");
    await assert.rejects(c.call("system.client_version"), AuthError);
    c.setToken("rotated-token");
    await until(c, "open");
    assert.equal(await c.call("system.client_version"), env.RTGATE_VERSION);
    await new Promise((r) => setTimeout(r, 300)); // the resume's answer
    assert.equal(c.stats.snapshots, 1, "the subscription resumed");
  } finally {
    c.close();
  }
});
