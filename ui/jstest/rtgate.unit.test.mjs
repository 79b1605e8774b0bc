// Unit tests of rtgate.js's protocol logic, with a scripted WebSocket and
// clock (fake.mjs): node --test ui/jstest/rtgate.unit.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";

import {
  AuthError, Client, CloseCode, ConnectionError, EVENT_LOG_SIZE, FaultError, LimitError, PolicyError,
  RPCError, TimeoutError, backoffDelay, base64url, errorFrom, reducerFor, subprotocols,
} from "../static/rtgate.js";
import { FakeClock, FakeWebSocket, tick } from "./fake.mjs";

const H = "9CF6A5A1B2C3D4E5F60718293A4B5C6D7E8F69CC";

test("reducers: tables, transfer, events, backend", async (t) => {
  const cases = [
    { name: "torrents", topic: "torrents", member: "torrents" },
    { name: "one download", topic: `torrent.${H}`, member: "torrents" },
    { name: "files", topic: `torrent.${H}.files`, member: "files" },
    { name: "peers", topic: `torrent.${H}.peers`, member: "peers" },
    { name: "trackers", topic: `torrent.${H}.trackers`, member: "trackers" },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const r = reducerFor(c.topic);
      const rows = r.init({ [c.member]: { a: { x: 1, y: 2 }, b: { x: 3 } } });
      assert.deepEqual([...rows.keys()], ["a", "b"]);
      const a = rows.get("a");
      const { state, keys } = r.apply(rows, { added: { c: { x: 5 } }, changed: { a: { y: 9 }, z: { x: 0 } }, removed: ["b", "nope"] });
      assert.equal(state, rows);
      assert.equal(rows.get("a"), a, "a changed row is updated in place");
      assert.deepEqual(a, { x: 1, y: 9 });
      assert.deepEqual(rows.get("z"), { x: 0 }, "a change of an unknown row makes it");
      assert.deepEqual([...rows.keys()].sort(), ["a", "c", "z"]);
      assert.deepEqual(keys, { added: ["c"], changed: ["a", "z"], removed: ["b"] });
    });
  }
  await t.test("a lowercase hash is no table", () => {
    assert.equal(reducerFor(`torrent.${H.toLowerCase()}.files`).init({ files: {} }).constructor, Object);
  });
  await t.test("transfer merges", () => {
    const r = reducerFor("transfer");
    const s = r.init({ downRate: 1, upRate: 2 });
    assert.deepEqual(r.apply(s, { downRate: 5 }).state, { downRate: 5, upRate: 2 });
  });
  await t.test("events are a bounded log", () => {
    const r = reducerFor("events");
    let s = r.init({ events: [] });
    for (let i = 0; i < EVENT_LOG_SIZE + 5; i++) s = r.apply(s, { event: "e", timestamp: i }).state;
    assert.equal(s.length, EVENT_LOG_SIZE);
    assert.equal(s[0].timestamp, 5);
    assert.equal(s.at(-1).timestamp, EVENT_LOG_SIZE + 4);
  });
  await t.test("backend is whole in every message", () => {
    const r = reducerFor("backend");
    const s = r.init({ state: "connected", version: "0.9.8" });
    assert.deepEqual(r.apply(s, { state: "reconnecting", attempt: 1 }).state, { state: "reconnecting", attempt: 1 });
  });
});

test("base64url and the subprotocols", () => {
  for (const s of ["s3cret-token", "tök en/+=?&", "a", "ab", "abc", "\u{1F600}"]) {
    assert.equal(base64url(s), Buffer.from(s, "utf8").toString("base64url"), s);
  }
  assert.deepEqual(subprotocols(""), ["rtgate"]);
  assert.deepEqual(subprotocols("t/k"), ["rtgate", "base64url.bearer.rtgate.dC9r"]);
});

test("backoffDelay: exponential, capped, jittered between half and all", () => {
  const o = { min: 500, max: 30000, factor: 2 };
  assert.equal(backoffDelay(0, o, () => 0), 250);
  assert.equal(backoffDelay(0, o, () => 1), 500);
  assert.equal(backoffDelay(3, o, () => 1), 4000);
  assert.equal(backoffDelay(20, o, () => 1), 30000);
  assert.equal(backoffDelay(20, o, () => 0), 15000);
});

test("errorFrom: typed errors", () => {
  const cases = [
    [{ code: -507, message: "refused", data: { method: "execute.throw" } }, PolicyError],
    [{ code: -32002, message: "over the rate" }, LimitError],
    [{ code: -32602, message: "Could not find info-hash.", data: { faultCode: -501, faultString: "Could not find info-hash." } }, FaultError],
    [{ code: -32000, message: "rtgate: dial: refused" }, RPCError],
  ];
  for (const [obj, type] of cases) {
    const e = errorFrom("m", obj);
    assert.equal(e.constructor, type, obj.message);
    assert.ok(e instanceof RPCError && e instanceof Error);
    assert.equal(e.code, obj.code);
    assert.equal(e.method, "m");
    assert.equal(e.name, type.name);
  }
  assert.equal(errorFrom("m", cases[2][0]).faultCode, -501);
});

// env makes a client on a fake WebSocket and clock.
function env(options = {}) {
  FakeWebSocket.reset();
  const clock = new FakeClock();
  const probes = [];
  const client = new Client("/ws?token=leaked", {
    base: "http://rtgate.test:5080/",
    WebSocket: FakeWebSocket,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    now: () => clock.now,
    random: () => 1,
    fetch: async (url, init) => {
      probes.push({ url, init });
      return { status: options.probeStatus ?? 426 };
    },
    ...options,
  });
  const states = [];
  client.on("state", (s) => states.push(s));
  const warnings = [];
  client.on("warning", (w) => warnings.push(w.message));
  return { client, clock, probes, states, warnings, ws: () => FakeWebSocket.last() };
}

test("connect: the URL without a token, the token as a subprotocol", () => {
  const { client, ws } = env({ token: "tok" });
  assert.equal(ws().url, "ws://rtgate.test:5080/ws");
  assert.deepEqual(ws().protocols, ["rtgate", "base64url.bearer.rtgate.dG9r"]);
  assert.equal(client.state, "connecting");
  ws().open();
  assert.equal(client.state, "open");
});

test("calls: results, typed errors, order after a reconnect", async () => {
  const { client, ws, clock } = env();
  const early = client.call("system.client_version"); // before open: waits
  assert.equal(ws().sent.length, 0);
  const sub = client.subscribe("torrents");
  ws().open();
  assert.deepEqual(ws().sent.map((f) => f.method), ["rtgate.subscribe", "system.client_version"], "subscriptions first");
  ws().answer("system.client_version", "0.9.8");
  assert.equal(await early, "0.9.8");

  const refused = client.call("execute.throw", "", "id");
  const req = ws().lastSent("execute.throw");
  assert.deepEqual(req.params, ["", "id"]);
  ws().recv({ id: req.id, jsonrpc: "2.0", error: { code: -507, message: "rtgate: method \"execute.throw\" refused by policy", data: { method: "execute.throw" } } });
  await assert.rejects(refused, (e) => e instanceof PolicyError && e.data.method === "execute.throw");

  // A batch: outcomes in order.
  const b = client.batch([["d.name", H], ["d.name", "0"]]);
  const frame = ws().sent.at(-1);
  assert.ok(Array.isArray(frame) && frame.length === 2);
  ws().recv([
    { id: frame[1].id, jsonrpc: "2.0", error: { code: -32602, message: "bad", data: { faultCode: -501, faultString: "bad" } } },
    { id: frame[0].id, jsonrpc: "2.0", result: "x" },
  ]);
  const out = await b;
  assert.equal(out[0].result, "x");
  assert.ok(out[1].error instanceof FaultError);

  // A call in flight when the connection is lost: outcome unknown.
  const lost = client.call("d.stop", H);
  ws().end(CloseCode.abnormal);
  await assert.rejects(lost, (e) => e instanceof ConnectionError && e.sent === true);
  // One made while reconnecting waits, and goes after the resubscribe.
  const later = client.call("d.start", H);
  clock.advance(10000);
  ws().open();
  assert.deepEqual(ws().sent.map((f) => f.method), ["rtgate.subscribe", "d.start"]);
  ws().answer("d.start", 0);
  assert.equal(await later, 0);
  sub.close();
});

test("call timeouts", async () => {
  const { client, ws, clock } = env({ callTimeout: 1000, heartbeat: 0 });
  const unsent = client.call("d.start", H);
  clock.advance(1000);
  await assert.rejects(unsent, (e) => e instanceof ConnectionError && e.sent === false);
  ws().open();
  const unanswered = client.call("d.start", H);
  clock.advance(1000);
  await assert.rejects(unanswered, TimeoutError);
  ws().answer("d.start", 0); // a late answer goes nowhere
});

test("subscribe: snapshot, changes in order, resume after a reconnect", async () => {
  const { client, ws, clock } = env();
  const updates = [];
  const sub = client.subscribe("torrents", (state, u) => updates.push({ kind: u.kind, seq: u.seq, recovered: u.recovered, n: state.size }));
  ws().open();
  // A message before the subscribe's answer cannot be this subscription's.
  ws().message({ topic: "torrents", kind: "change", epoch: "e1", seq: 3, data: {} });
  ws().answer("rtgate.subscribe", { topic: "torrents" });
  ws().message({ topic: "torrents", kind: "snapshot", epoch: "e1", seq: 40, data: { torrents: { [H]: { hash: H, state: false } } } });
  ws().message({ topic: "torrents", kind: "change", epoch: "e1", seq: 41, data: { changed: { [H]: { state: true } } } });
  assert.equal(sub.state.get(H).state, true);
  assert.deepEqual(sub.position, { epoch: "e1", seq: 41 });
  assert.equal(sub.status, "live");

  // Lost: resume from (e1, 41); the server replays 42 with recovered.
  ws().end(CloseCode.goingAway, "rtgate is shutting down");
  assert.equal(sub.status, "pending");
  assert.equal(client.state, "reconnecting");
  clock.advance(500);
  ws().open();
  assert.deepEqual(ws().lastSent("rtgate.subscribe").params, { topic: "torrents", epoch: "e1", seq: 41 });
  ws().answer("rtgate.subscribe", { topic: "torrents" });
  ws().message({ topic: "torrents", kind: "change", epoch: "e1", seq: 42, recovered: true, data: { removed: [H] } });
  assert.equal(sub.state.size, 0);

  // Again, with nothing missed.
  ws().end(CloseCode.abnormal);
  clock.advance(60000);
  ws().open();
  ws().answer("rtgate.subscribe", { topic: "torrents" });
  ws().message({ topic: "torrents", kind: "resumed", recovered: true });

  // Again, past the server's history: a snapshot flagged recovered:false.
  ws().end(CloseCode.abnormal);
  clock.advance(60000);
  ws().open();
  ws().answer("rtgate.subscribe", { topic: "torrents" });
  ws().message({ topic: "torrents", kind: "snapshot", epoch: "e2", seq: 7, recovered: false, data: { torrents: { A: {}, B: {} } } });
  assert.equal(sub.state.size, 2);
  assert.deepEqual(updates, [
    { kind: "snapshot", seq: 40, recovered: undefined, n: 1 },
    { kind: "change", seq: 41, recovered: undefined, n: 1 },
    { kind: "change", seq: 42, recovered: true, n: 0 },
    { kind: "resumed", seq: 42, recovered: true, n: 0 },
    { kind: "snapshot", seq: 7, recovered: false, n: 2 },
  ]);
  assert.deepEqual(
    { opens: client.stats.opens, snapshots: client.stats.snapshots, resumed: client.stats.resumed, recovered: client.stats.recovered, notRecovered: client.stats.notRecovered },
    { opens: 4, snapshots: 2, resumed: 1, recovered: 1, notRecovered: 1 },
  );
  await tick();
});

test("subscribe: a gap starts over with a snapshot", () => {
  const { client, ws, warnings } = env();
  const sub = client.subscribe("transfer");
  ws().open();
  ws().answer("rtgate.subscribe", { topic: "transfer" });
  ws().message({ topic: "transfer", kind: "snapshot", epoch: "e", seq: 1, data: { downRate: 0 } });
  ws().message({ topic: "transfer", kind: "change", epoch: "e", seq: 3, data: { downRate: 9 } });
  assert.equal(sub.state.downRate, 0, "a change after a gap is not applied");
  assert.equal(client.stats.gaps, 1);
  assert.match(warnings[0], /transfer: change e:3 after e:1/);
  ws().answer("rtgate.unsubscribe", { topic: "transfer" });
  return tick().then(() => {
    assert.deepEqual(ws().lastSent("rtgate.subscribe").params, { topic: "transfer" }, "subscribed again without a position");
  });
});

test("subscribe: shared streams, the last close unsubscribes, ended topics", async () => {
  const { client, ws } = env();
  const a = client.subscribe(`torrent.${H}.peers`);
  ws().open();
  ws().answer("rtgate.subscribe", {});
  ws().message({ topic: `torrent.${H}.peers`, kind: "snapshot", epoch: "p", seq: 0, data: { peers: { P: { address: "1.2.3.4" } } } });
  const seen = [];
  const b = client.subscribe(`torrent.${H}.peers`, (state, u) => seen.push([u.kind, state.size, u.current]));
  await tick();
  assert.deepEqual(seen, [["snapshot", 1, true]], "the second follower gets the current state");
  assert.equal(ws().sent.filter((f) => f.method === "rtgate.subscribe").length, 1);
  a.close();
  assert.equal(ws().lastSent("rtgate.unsubscribe"), undefined);
  b.close();
  assert.deepEqual(ws().lastSent("rtgate.unsubscribe").params, { topic: `torrent.${H}.peers` });

  const c = client.subscribe("events");
  const ended = [];
  c.on("update", (_s, u) => ended.push(u));
  ws().answer("rtgate.subscribe", {});
  ws().message({ topic: "events", kind: "ended", error: "producer stopped" });
  assert.equal(c.status, "ended");
  assert.equal(c.error, "producer stopped");
  assert.equal(ended[0].kind, "ended");
  const d = client.subscribe("events");
  assert.notEqual(d.status, "ended", "subscribing again starts afresh");

  assert.throws(() => client.subscribe("torrents", null, { from: { epoch: "x", seq: 1 } }), /needs options.state/);
});

test("a subscribe refused by the server ends the subscription", async () => {
  const { client, ws } = env();
  const s = client.subscribe("nothing");
  ws().open();
  const req = ws().lastSent("rtgate.subscribe");
  ws().recv({ id: req.id, jsonrpc: "2.0", error: { code: -32003, message: "rtgate: unknown topic \"nothing\"" } });
  await tick();
  assert.equal(s.status, "ended");
  assert.match(s.error, /unknown topic/);
});

test("close codes: 4008 after rtgate.close, 4013, 4001", async (t) => {
  await t.test("slow consumer: positions checked, reconnect at once", () => {
    const { client, ws, clock, warnings } = env({ heartbeat: 0 });
    const closes = [];
    client.on("close", (c) => closes.push(c));
    const sub = client.subscribe("torrents");
    ws().open();
    ws().answer("rtgate.subscribe", {});
    clock.advance(60000); // a stable connection
    ws().message({ topic: "torrents", kind: "snapshot", epoch: "e", seq: 5, data: { torrents: {} } });
    ws().recv({ jsonrpc: "2.0", method: "rtgate.close", params: { code: 4008, reason: "slow consumer", topic: "torrents", positions: { torrents: { epoch: "e", seq: 5 } } } });
    ws().end(CloseCode.slow, "slow consumer");
    assert.deepEqual(closes[0].positions, { torrents: { epoch: "e", seq: 5 } });
    assert.deepEqual(warnings, []);
    assert.equal(clock.pending()[0], 500, "the first attempt's delay");
    clock.advance(500);
    ws().open();
    assert.deepEqual(ws().lastSent("rtgate.subscribe").params, { topic: "torrents", epoch: "e", seq: 5 });
    // Positions that disagree with what was applied are reported; the
    // client resumes from what it applied.
    ws().answer("rtgate.subscribe", {});
    ws().recv({ jsonrpc: "2.0", method: "rtgate.close", params: { code: 4008, positions: { torrents: { epoch: "e", seq: 9 } } } });
    ws().end(CloseCode.slow);
    assert.match(warnings[0], /rtgate.close says e:9, applied e:5/);
    assert.deepEqual(sub.position, { epoch: "e", seq: 5 });
  });
  await t.test("too many connections: a longer wait", () => {
    const { client, ws, clock } = env();
    ws().open();
    ws().end(CloseCode.tooManyConns, "too many connections");
    assert.equal(client.state, "reconnecting");
    assert.equal(clock.pending()[0], 4000, "backoff(3) at the least");
  });
  await t.test("revoked token: no reconnect until setToken", async () => {
    const { client, ws, clock, states } = env({ token: "old" });
    client.subscribe("torrents");
    ws().open();
    const inflight = client.call("d.stop", H);
    ws().end(CloseCode.auth, "token revoked");
    await assert.rejects(inflight, ConnectionError);
    assert.equal(client.state, "auth");
    assert.equal(states.at(-1).reason, "revoked");
    assert.ok(states.at(-1).error instanceof AuthError);
    await assert.rejects(client.call("d.start", H), (e) => e instanceof AuthError && e.reason === "revoked");
    const n = FakeWebSocket.all.length;
    clock.advance(600000);
    assert.equal(FakeWebSocket.all.length, n, "no attempt while the token is bad");
    client.setToken("new");
    assert.deepEqual(ws().protocols, ["rtgate", "base64url.bearer.rtgate.bmV3"]);
    ws().open();
    assert.equal(ws().lastSent("rtgate.subscribe").params.topic, "torrents", "subscriptions come back");
  });
});

test("a handshake that fails: the HTTP probe tells a token problem from a lost server", async (t) => {
  await t.test("no token, 401", async () => {
    const { client, ws, probes } = env({ probeStatus: 401 });
    ws().end(CloseCode.abnormal);
    await tick();
    assert.equal(client.state, "auth");
    assert.equal(probes[0].url, "http://rtgate.test:5080/ws");
    assert.deepEqual(probes[0].init.headers, {});
  });
  await t.test("wrong token, 401", async () => {
    const { client, ws, probes, states } = env({ probeStatus: 401, token: "bad" });
    ws().end(CloseCode.abnormal);
    await tick();
    assert.equal(client.state, "auth");
    assert.equal(states.at(-1).reason, "wrong");
    assert.deepEqual(probes[0].init.headers, { Authorization: "Bearer bad" });
  });
  await t.test("server away: retried with backoff", async () => {
    const { client, ws, clock } = env({ probeStatus: 426 });
    for (let i = 0; i < 4; i++) {
      ws().end(CloseCode.abnormal);
      await tick();
      assert.equal(client.state, "reconnecting");
      assert.equal(clock.pending()[0], Math.min(30000, 500 * 2 ** i), `attempt ${i + 1}`);
      clock.advance(clock.pending()[0]);
    }
    ws().open();
    clock.advance(5000); // stable: the backoff starts over
    ws().end(CloseCode.abnormal);
    assert.equal(clock.pending().at(-1), 500);
  });
});

test("heartbeat: a silent server is given up on", () => {
  const { client, ws, clock } = env({ heartbeat: 30000, heartbeatTimeout: 10000 });
  ws().open();
  const first = ws();
  clock.advance(30000);
  const probe = first.lastSent("rtgate.topics");
  assert.ok(probe, "a probe after 30 s of silence");
  first.recv({ id: probe.id, jsonrpc: "2.0", result: { subscribed: [] } });
  clock.advance(10000);
  assert.equal(client.state, "open", "answered: alive");
  clock.advance(19999);
  assert.equal(first.sent.filter((f) => f.method === "rtgate.topics").length, 1, "a frame under 30 s ago: no probe yet");
  clock.advance(1);
  assert.equal(first.sent.filter((f) => f.method === "rtgate.topics").length, 2);
  clock.advance(10000); // no answer
  assert.deepEqual(first.closed, { code: 4000, reason: "no answer to the heartbeat" });
  assert.equal(client.state, "reconnecting");
  clock.advance(500);
  assert.notEqual(ws(), first, "a new WebSocket");
});

test("close: for good", async () => {
  const { client, ws, clock } = env();
  const waiting = client.call("d.start", H);
  client.close();
  client.close();
  await assert.rejects(waiting, ConnectionError);
  assert.equal(client.state, "closed");
  assert.deepEqual(ws().closed, { code: 1000, reason: undefined });
  const n = FakeWebSocket.all.length;
  clock.advance(600000);
  assert.equal(FakeWebSocket.all.length, n);
  await assert.rejects(client.call("d.start", H), ConnectionError);
});
