// rtgate.js — a client of rtgate's WebSocket protocol (docs/protocol.md),
// an ES module without dependencies, for browsers and Node. docs/ui.md is
// its manual:
//
//   import { Client } from "/rtgate.js";
//   const c = new Client("/ws", { token });
//   const torrents = c.subscribe("torrents", (state, update) => render(state));
//   await c.call("d.stop", hash);
//
// A Client keeps one WebSocket open, reconnecting with backoff; each
// subscription keeps a local state (a snapshot, then the changes applied
// in order) and resumes from its last position after a reconnect, so that
// nothing is missed and nothing is applied twice.
//
// It is one file on purpose, longer than the project's files usually are:
// a third-party page copies or imports this one file, with no build step.

/** WebSocket close codes rtgate sends (package protocol). */
export const CloseCode = Object.freeze({
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  abnormal: 1006,
  tooBig: 1009,
  internal: 1011,
  auth: 4001,
  slow: 4008,
  stalled: 4009,
  tooManyConns: 4013,
});

/** JSON-RPC error codes of rtgate's doors (package protocol). */
export const ErrorCode = Object.freeze({
  parse: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  server: -32000,
  limited: -32002,
  unknownTopic: -32003,
  subscribed: -32004,
  notSubscribed: -32005,
  refused: -507,
});

/** The subprotocol rtgate selects, and the prefix of the one carrying a token. */
export const SUBPROTOCOL = "rtgate";
export const BEARER_PREFIX = "base64url.bearer.rtgate.";

// ---------------------------------------------------------------------------
// Errors

/** RtgateError is the base of every error this module raises. */
export class RtgateError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * RPCError is an error answer to a call: code and message as rtgate sent
 * them, data (rTorrent's fault, a refusal's method) when it sent one.
 */
export class RPCError extends RtgateError {
  constructor(method, error) {
    super(error.message || `error ${error.code}`);
    this.method = method;
    this.code = error.code;
    this.data = error.data;
  }
}

/** PolicyError: rtgate's method policy refused the call (-507); data.method names the command. */
export class PolicyError extends RPCError {}

/** FaultError: rTorrent answered with a fault; faultCode and faultString are its own. */
export class FaultError extends RPCError {
  get faultCode() { return this.data?.faultCode; }
  get faultString() { return this.data?.faultString; }
}

/** LimitError: over one of the connection's limits (-32002); nothing was done. */
export class LimitError extends RPCError {}

/**
 * ConnectionError: no answer, because the connection was lost or closed.
 * sent tells whether the request had been sent: if it had, it may or may
 * not have taken effect.
 */
export class ConnectionError extends RtgateError {
  constructor(message, sent) {
    super(message);
    this.sent = sent;
  }
}

/** TimeoutError: no answer within the call's timeout; the call may still run. */
export class TimeoutError extends RtgateError {}

/**
 * AuthError: the server wants a token and the client has none, a wrong
 * one, or one that was revoked (close 4001). The client stops reconnecting
 * until setToken.
 */
export class AuthError extends RtgateError {
  constructor(message, reason) {
    super(message);
    this.reason = reason; // "required", "wrong" or "revoked"
  }
}

/** errorFrom returns the typed error of a JSON-RPC error object. */
export function errorFrom(method, error) {
  switch (true) {
    case error.code === ErrorCode.refused:
      return new PolicyError(method, error);
    case error.code === ErrorCode.limited:
      return new LimitError(method, error);
    case error.data != null && typeof error.data === "object" && "faultCode" in error.data:
      return new FaultError(method, error);
  }
  return new RPCError(method, error);
}

// ---------------------------------------------------------------------------
// Topic states

const HASH = "[0-9A-F]{40}";
const TABLE_TOPIC = new RegExp(`^(?:torrents|torrent\\.${HASH}(?:\\.(files|peers|trackers))?)$`);

/** EVENT_LOG_SIZE is how many events the events topic's state keeps. */
export const EVENT_LOG_SIZE = 200;

/**
 * reducerFor returns how a topic's messages become its state: init(data)
 * makes the state of a snapshot, apply(state, data) applies a change and
 * returns the state and the keys it touched.
 *
 *  - torrents, torrent.<HASH>, .files, .peers, .trackers: a Map of rows by
 *    key; a change adds rows, merges changed fields into them (the row
 *    objects are updated in place) and removes keys.
 *  - transfer: an object; a change merges its fields.
 *  - events: an array of the last EVENT_LOG_SIZE events, newest last.
 *  - backend and any other topic: each message is the whole state.
 */
export function reducerFor(topic) {
  const m = TABLE_TOPIC.exec(topic);
  if (m) return tableReducer(m[1] || "torrents");
  if (topic === "transfer") return mergeReducer;
  if (topic === "events") return eventReducer;
  return replaceReducer;
}

function tableReducer(member) {
  return {
    init(data) {
      const rows = new Map();
      for (const [k, row] of Object.entries(data?.[member] ?? {})) rows.set(k, row);
      return rows;
    },
    apply(rows, data) {
      const keys = { added: [], changed: [], removed: [] };
      for (const [k, row] of Object.entries(data.added ?? {})) {
        rows.set(k, row);
        keys.added.push(k);
      }
      for (const [k, fields] of Object.entries(data.changed ?? {})) {
        const row = rows.get(k);
        if (row) Object.assign(row, fields);
        else rows.set(k, { ...fields });
        keys.changed.push(k);
      }
      for (const k of data.removed ?? []) {
        if (rows.delete(k)) keys.removed.push(k);
      }
      return { state: rows, keys };
    },
  };
}

const mergeReducer = {
  init: (data) => ({ ...data }),
  apply: (state, data) => ({ state: Object.assign(state, data), keys: null }),
};

const eventReducer = {
  init: (data) => [...(data?.events ?? [])],
  apply(list, data) {
    list.push(data);
    if (list.length > EVENT_LOG_SIZE) list.splice(0, list.length - EVENT_LOG_SIZE);
    return { state: list, keys: null };
  },
};

const replaceReducer = {
  init: (data) => data,
  apply: (_state, data) => ({ state: data, keys: null }),
};

// ---------------------------------------------------------------------------
// Helpers

/** base64url encodes a string's UTF-8 bytes without padding (RFC 4648 §5). */
export function base64url(s) {
  let bin = "";
  for (const b of new TextEncoder().encode(s)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** subprotocols are what a client offers: "rtgate", and its token if it has one. */
export function subprotocols(token) {
  return token ? [SUBPROTOCOL, BEARER_PREFIX + base64url(token)] : [SUBPROTOCOL];
}

/**
 * backoffDelay is the wait before reconnect attempt n (0, 1, …):
 * min·factor^n capped at max, with "equal jitter" (between half and all
 * of it), so that many clients of a restarted rtgate do not come back at
 * once. random is Math.random or a test's.
 */
export function backoffDelay(n, { min = 500, max = 30000, factor = 2 } = {}, random = Math.random) {
  const d = Math.min(max, min * factor ** n);
  return Math.round(d / 2 + random() * (d / 2));
}

/** wsURL resolves url (relative to base, e.g. location.href) to a ws:// or wss:// URL. */
export function wsURL(url, base) {
  const u = new URL(url, base);
  if (u.protocol === "http:") u.protocol = "ws:";
  if (u.protocol === "https:") u.protocol = "wss:";
  return u;
}

/** Emitter is a minimal event emitter: on returns the function that removes the listener. */
class Emitter {
  #listeners = new Map();
  on(type, fn) {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }
  emit(type, ...args) {
    for (const fn of [...(this.#listeners.get(type) ?? [])]) {
      try {
        fn(...args);
      } catch (err) {
        queueMicrotask(() => { throw err; }); // a listener's bug is reported, not ours
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Client

const defaults = {
  token: "",
  WebSocket: globalThis.WebSocket,
  fetch: globalThis.fetch?.bind(globalThis),
  base: globalThis.location?.href,
  backoff: { min: 500, max: 30000, factor: 2 },
  stableAfter: 5000,
  callTimeout: 60000,
  heartbeat: 30000,
  heartbeatTimeout: 10000,
  random: Math.random,
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (t) => globalThis.clearTimeout(t),
};

/**
 * Client is one logical connection to rtgate's /ws: a WebSocket that is
 * reopened after it is lost, calls answered with promises, and
 * subscriptions kept across reconnects.
 *
 * state is one of:
 *   "connecting"   a WebSocket is being opened (the first, or after a wait)
 *   "open"         connected; calls are sent at once
 *   "reconnecting" lost; waiting `delay` ms before attempt `attempt`
 *   "auth"         the server wants a (new) token: nothing happens until setToken
 *   "closed"       close() was called
 *
 * Events (on(type, fn) returns a function that removes fn):
 *   "state"        {state, attempt, delay, code, reason, error}
 *   "open"         a WebSocket opened (subscriptions are being resumed)
 *   "close"        {code, reason, positions}: a WebSocket ended; positions from rtgate.close
 *   "notification" {method, params}: a notification other than rtgate.message
 *   "warning"      {message}: something the protocol says cannot happen, and what was done
 */
export class Client extends Emitter {
  #o;
  #url;
  #ws = null;
  #nextID = 1;
  #pending = new Map(); // id → {method, resolve, reject, timer}
  #waiting = []; // calls made while not open: {frame, entry}
  #streams = new Map(); // topic → Stream
  #attempt = 0;
  #timer = null;
  #stableTimer = null;
  #heartbeatTimer = null;
  #lastFrame = 0;
  #closeInfo = null; // the last rtgate.close's params
  #authReason = "required";
  #state = "connecting";

  /** stats counts what happened, for tests and diagnostics. */
  stats = { opens: 0, snapshots: 0, changes: 0, resumed: 0, recovered: 0, notRecovered: 0, gaps: 0 };

  /**
   * new Client(url, options) connects at once. url is the /ws endpoint,
   * relative to options.base (default: the page's location). options:
   * token, WebSocket (default globalThis.WebSocket; Node 20: the "ws"
   * package), fetch (to tell a refused token from a lost server), backoff
   * {min, max, factor} in ms, stableAfter (ms a connection must last before
   * the backoff restarts), callTimeout (ms), heartbeat (ms of silence
   * before the client checks the server still answers; 0 turns it off),
   * heartbeatTimeout (ms).
   */
  constructor(url, options = {}) {
    super();
    this.#o = { ...defaults, ...options, backoff: { ...defaults.backoff, ...options.backoff } };
    if (!this.#o.WebSocket) throw new RtgateError("rtgate: no WebSocket implementation (pass options.WebSocket)");
    this.#url = wsURL(url, this.#o.base);
    this.#url.searchParams.delete("token"); // never in a URL
    this.#open();
  }

  /** state is the connection's state (see the class comment). */
  get state() { return this.#state; }

  /** url is the WebSocket URL the client connects to. */
  get url() { return this.#url.href; }

  /**
   * setToken replaces the token and reconnects with it: after an AuthError,
   * or to switch tokens (open connections are reopened).
   */
  setToken(token) {
    this.#o.token = token;
    if (this.#state === "closed") return;
    this.#drop(new ConnectionError("rtgate: reconnecting with a new token", true));
    this.#attempt = 0;
    this.#open();
  }

  /** reconnectNow skips the wait of a reconnecting client (the browser came back online). */
  reconnectNow() {
    if (this.#state !== "reconnecting") return;
    this.#o.clearTimeout(this.#timer);
    this.#open();
  }

  /**
   * close closes the connection for good: calls waiting are rejected with a
   * ConnectionError, subscriptions end. It is safe to call more than once.
   */
  close() {
    if (this.#state === "closed") return;
    this.#setState("closed", {});
    this.#drop(new ConnectionError("rtgate: client closed", true), CloseCode.normal);
    for (const s of this.#streams.values()) s.end("client closed", false);
    this.#streams.clear();
  }

  /**
   * call invokes an rTorrent method with positional params, the target
   * first ("" for global commands), and resolves with its result. It
   * rejects with a PolicyError, FaultError, LimitError or RPCError when
   * rtgate answers with an error, a ConnectionError when the connection
   * ends first (err.sent: it may have run), a TimeoutError, or an AuthError
   * while the client has no valid token. A call made while the client is
   * reconnecting waits for the connection (within callTimeout).
   */
  call(method, ...params) {
    return this.#request(method, params);
  }

  /**
   * batch sends calls ([method, ...params] each) in one frame and resolves
   * with their outcomes in order: {result} or {error} (a typed error).
   */
  async batch(calls) {
    if (!calls.length) throw new RtgateError("rtgate: empty batch");
    const ids = [];
    const frame = calls.map(([method, ...params]) => {
      const id = this.#nextID++;
      ids.push({ id, method });
      return { jsonrpc: "2.0", id, method, params };
    });
    const settled = await Promise.allSettled(this.#send(frame, ids));
    return settled.map((s) => {
      if (s.status === "fulfilled") return { result: s.value };
      if (s.reason instanceof RPCError) return { error: s.reason };
      throw s.reason; // the connection, not the call
    });
  }

  /**
   * allowed asks which calls this connection's policy lets through (each a
   * method name or [method, ...params]) and resolves with one
   * {allowed, error} per call, error the typed error the call would get.
   */
  async allowed(calls) {
    const items = calls.map((c) => (typeof c === "string" ? c : { method: c[0], params: c.slice(1) }));
    const res = await this.#request("rtgate.allowed", { calls: items });
    return res.calls.map((r, i) => ({
      allowed: r.allowed,
      error: r.error ? errorFrom(items[i].method ?? items[i], r.error) : null,
    }));
  }

  /** topics resolves with rtgate.topics's answer: {subscribed, active, available}. */
  topics() {
    return this.#request("rtgate.topics", undefined);
  }

  /**
   * subscribe follows a topic and returns a Subscription: its state is the
   * topic's state (reducerFor), fn(state, update) is called after every
   * message applied, update being {kind, epoch, seq, recovered, data, keys}
   * (kind "snapshot", "change", "resumed" or "ended" with error).
   * Subscribing to a topic the client already follows shares its stream
   * (fn gets the current state at once). options.from and options.state,
   * a position and the state there saved from an earlier Subscription
   * (state in reducerFor's form), resume from them: rtgate replays what
   * came since, or sends a snapshot with recovered false.
   */
  subscribe(topic, fn, options = {}) {
    let s = this.#streams.get(topic);
    if (!s || s.status === "ended") {
      s = new Stream(this, topic);
      if (options.from) {
        if (options.state === undefined) throw new RtgateError("rtgate: subscribe: options.from needs options.state, the state at that position");
        s.position = { epoch: String(options.from.epoch), seq: Number(options.from.seq) };
        s.state = options.state;
      }
      this.#streams.set(topic, s);
      if (this.#state === "open") s.start();
    }
    return s.attach(fn);
  }

  // --- internals, used by Stream ---

  /**
   * @internal _request sends one of rtgate's own methods; onAnswer, if
   * given, sees the answer synchronously, before any later frame is read
   * (a subscription must know it is live before its first message).
   */
  _request(method, params, onAnswer) { return this.#request(method, params, onAnswer); }

  /** @internal */ _forget(stream) {
    if (this.#streams.get(stream.topic) === stream) this.#streams.delete(stream.topic);
  }

  /** @internal */ _warn(message) { this.emit("warning", { message }); }

  #request(method, params, onAnswer) {
    const id = this.#nextID++;
    const req = { jsonrpc: "2.0", id, method };
    if (params !== undefined) req.params = params;
    return this.#send(req, [{ id, method, onAnswer }])[0];
  }

  // #send queues or writes a frame and returns one promise per id.
  #send(frame, ids) {
    if (this.#state === "closed") {
      return ids.map(() => Promise.reject(new ConnectionError("rtgate: client closed", false)));
    }
    if (this.#state === "auth") {
      return ids.map(() => Promise.reject(new AuthError("rtgate: a valid token is needed", this.#authReason)));
    }
    const promises = [];
    const entries = ids.map(({ id, method, onAnswer }) => {
      const e = { id, method, onAnswer, sent: false };
      promises.push(new Promise((resolve, reject) => Object.assign(e, { resolve, reject })));
      e.timer = this.#o.setTimeout(() => {
        this.#pending.delete(id);
        this.#waiting = this.#waiting.filter((w) => !w.entries.includes(e));
        e.reject(e.sent
          ? new TimeoutError(`rtgate: ${method}: no answer within ${this.#o.callTimeout} ms`)
          : new ConnectionError(`rtgate: ${method}: not connected within ${this.#o.callTimeout} ms`, false));
      }, this.#o.callTimeout);
      this.#pending.set(id, e);
      return e;
    });
    const text = JSON.stringify(frame);
    if (this.#state === "open") this.#write(text, entries);
    else this.#waiting.push({ text, entries });
    return promises;
  }

  #write(text, entries) {
    for (const e of entries) e.sent = true;
    try {
      this.#ws.send(text);
    } catch (err) {
      this.#lost(CloseCode.abnormal, String(err?.message ?? err));
    }
  }

  #settle(msg) {
    const e = this.#pending.get(msg.id);
    if (!e) return; // timed out already, or not ours
    this.#pending.delete(msg.id);
    this.#o.clearTimeout(e.timer);
    e.onAnswer?.(msg);
    if (msg.error) e.reject(errorFrom(e.method, msg.error));
    else e.resolve(msg.result);
  }

  #setState(state, info) {
    this.#state = state;
    this.emit("state", { state, ...info });
  }

  #open() {
    if (this.#state === "closed") return;
    this.#setState("connecting", { attempt: this.#attempt });
    let ws;
    try {
      ws = new this.#o.WebSocket(this.#url.href, subprotocols(this.#o.token));
    } catch (err) {
      this.#failed(String(err?.message ?? err));
      return;
    }
    this.#ws = ws;
    let opened = false;
    ws.onopen = () => {
      if (ws !== this.#ws) return;
      opened = true;
      this.#opened();
    };
    ws.onmessage = (ev) => {
      if (ws !== this.#ws) return;
      this.#lastFrame = this.#o.now();
      if (typeof ev.data !== "string") {
        this.#lost(CloseCode.unsupportedData, "binary frame", true);
        return;
      }
      this.#frame(ev.data);
    };
    ws.onclose = (ev) => {
      if (ws !== this.#ws) return;
      if (!opened) this.#failed(ev.reason || "handshake failed");
      else this.#lost(ev.code, ev.reason);
    };
    ws.onerror = () => {}; // onclose follows with what there is to know
  }

  #opened() {
    this.stats.opens++;
    this.#closeInfo = null;
    this.#lastFrame = this.#o.now();
    this.#setState("open", { attempt: this.#attempt });
    this.#stableTimer = this.#o.setTimeout(() => { this.#attempt = 0; }, this.#o.stableAfter);
    this.emit("open", {});
    // Subscriptions first, then what waited: a call made while away is
    // answered after the state it acts on is back.
    for (const s of this.#streams.values()) s.start();
    const waiting = this.#waiting;
    this.#waiting = [];
    for (const w of waiting) this.#write(w.text, w.entries);
    this.#armHeartbeat();
  }

  #armHeartbeat() {
    if (!this.#o.heartbeat) return;
    const ws = this.#ws;
    const tick = () => {
      if (ws !== this.#ws || this.#state !== "open") return;
      const idle = this.#o.now() - this.#lastFrame;
      if (idle < this.#o.heartbeat) {
        this.#heartbeatTimer = this.#o.setTimeout(tick, this.#o.heartbeat - idle);
        return;
      }
      // Any frame coming back proves the server alive, the answer or not.
      const sentAt = this.#o.now();
      this.#request("rtgate.topics", undefined).catch(() => {});
      this.#heartbeatTimer = this.#o.setTimeout(() => {
        if (ws !== this.#ws) return;
        if (this.#lastFrame < sentAt) this.#lost(CloseCode.abnormal, "no answer to the heartbeat", true);
        else tick();
      }, this.#o.heartbeatTimeout);
    };
    this.#heartbeatTimer = this.#o.setTimeout(tick, this.#o.heartbeat);
  }

  #frame(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      this._warn("a frame that is not JSON: ignored");
      return;
    }
    for (const m of Array.isArray(msg) ? msg : [msg]) {
      if (m.id !== undefined && m.id !== null) this.#settle(m);
      else if (m.method === "rtgate.message") this.#streams.get(m.params?.topic)?.message(m.params);
      else if (m.method === "rtgate.close") this.#closeInfo = m.params;
      else if (m.method) this.emit("notification", { method: m.method, params: m.params });
      else if (m.error) this._warn(`an error about an unreadable request: ${m.error.message}`);
    }
  }

  // #failed: a WebSocket that never opened. A browser does not say why, so
  // ask the endpoint over plain HTTP: 401 is a token problem, anything else
  // a server that is away or refuses for another reason (retried).
  async #failed(reason) {
    const ws = this.#ws;
    this.#ws = null;
    let status = 0;
    if (this.#o.fetch) {
      try {
        const u = new URL(this.#url.href);
        u.protocol = u.protocol === "wss:" ? "https:" : "http:";
        const headers = this.#o.token ? { Authorization: `Bearer ${this.#o.token}` } : {};
        const res = await this.#o.fetch(u.href, { headers, cache: "no-store", credentials: "omit", redirect: "error" });
        status = res.status;
      } catch {
        status = 0; // not reachable
      }
    }
    if (this.#state === "closed" || this.#ws !== ws && this.#ws !== null) return;
    if (status === 401) {
      this.#needAuth(this.#o.token ? "wrong" : "required");
      return;
    }
    this.#retry({ code: CloseCode.abnormal, reason: status ? `handshake answered ${status}` : reason, status });
  }

  // #lost: an open WebSocket ended (or is given up on: abandon).
  #lost(code, reason, abandon = false) {
    const ws = this.#ws;
    this.#ws = null;
    this.#clearTimers();
    if (abandon && ws) {
      ws.onclose = ws.onmessage = ws.onopen = null;
      try { ws.close(4000, reason); } catch { /* closing already */ }
    }
    const positions = this.#closeInfo?.positions;
    this.emit("close", { code, reason, positions });
    if (positions) {
      for (const [topic, pos] of Object.entries(positions)) this.#streams.get(topic)?.checkPosition(pos);
    }
    this.#failPending(new ConnectionError(`rtgate: connection lost (${code}${reason ? " " + reason : ""}) before the answer`, true));
    for (const s of this.#streams.values()) s.suspend();
    if (this.#state === "closed") return;
    if (code === CloseCode.auth) {
      this.#needAuth("revoked");
      return;
    }
    if (code === CloseCode.tooManyConns) this.#attempt = Math.max(this.#attempt, 3);
    if (code === CloseCode.slow) this.#attempt = 0; // it read too slowly; the server is fine
    this.#retry({ code, reason });
  }

  #needAuth(reason) {
    this.#authReason = reason;
    const err = new AuthError(`rtgate: ${reason === "revoked" ? "the token was revoked" : reason === "wrong" ? "wrong token" : "a token is required"}`, reason);
    this.#failPending(err, true);
    this.#setState("auth", { reason, error: err });
  }

  #retry(info) {
    const delay = backoffDelay(this.#attempt, this.#o.backoff, this.#o.random);
    this.#attempt++;
    this.#setState("reconnecting", { ...info, attempt: this.#attempt, delay });
    this.#timer = this.#o.setTimeout(() => this.#open(), delay);
  }

  // #failPending rejects the calls sent and not answered with err, and
  // with waitingToo those not sent yet too (which otherwise wait for the
  // next connection).
  #failPending(err, waitingToo = false) {
    for (const [id, e] of this.#pending) {
      if (!e.sent && !waitingToo) continue;
      this.#pending.delete(id);
      this.#o.clearTimeout(e.timer);
      if (e.sent || err instanceof AuthError) e.reject(err);
      else e.reject(new ConnectionError(err.message, false));
    }
    if (waitingToo) this.#waiting = [];
  }

  #clearTimers() {
    this.#o.clearTimeout(this.#stableTimer);
    this.#o.clearTimeout(this.#heartbeatTimer);
  }

  // #drop ends the current WebSocket without reconnecting: close and setToken.
  #drop(err, code = CloseCode.normal) {
    const ws = this.#ws;
    this.#ws = null;
    this.#o.clearTimeout(this.#timer);
    this.#clearTimers();
    if (ws) {
      ws.onclose = ws.onmessage = ws.onopen = null;
      try { ws.close(code); } catch { /* closing already */ }
    }
    this.#failPending(err, this.#state === "closed");
    for (const s of this.#streams.values()) s.suspend();
  }
}

// ---------------------------------------------------------------------------
// Subscriptions

/**
 * Stream is one topic the client follows: its state, its position, and
 * the Subscriptions sharing it.
 */
class Stream {
  constructor(client, topic) {
    this.client = client;
    this.topic = topic;
    this.reducer = reducerFor(topic);
    this.state = undefined;
    this.position = null; // {epoch, seq} of the last message applied
    this.status = "pending"; // pending | subscribing | live | ended
    this.error = null;
    this.subs = new Set();
    this.generation = 0; // one per subscribe sent: answers of older ones are stale
  }

  attach(fn) {
    const sub = new Subscription(this, fn);
    this.subs.add(sub);
    if (this.state !== undefined && fn) {
      queueMicrotask(() => sub.deliver(this.state, { kind: "snapshot", epoch: this.position?.epoch, seq: this.position?.seq, current: true }));
    }
    return sub;
  }

  detach(sub) {
    this.subs.delete(sub);
    if (this.subs.size > 0 || this.status === "ended") return;
    this.status = "ended";
    this.client._forget(this);
    if (this.client.state === "open") this.client._request("rtgate.unsubscribe", { topic: this.topic }).catch(() => {});
  }

  // start subscribes on a fresh connection, resuming from the position.
  start() {
    if (this.status === "ended") return;
    this.status = "subscribing";
    const gen = ++this.generation;
    const params = { topic: this.topic };
    if (this.position) Object.assign(params, this.position);
    const answered = (msg) => {
      if (gen === this.generation && this.status === "subscribing" && !msg.error) this.status = "live";
    };
    this.client._request("rtgate.subscribe", params, answered).catch((err) => {
      if (gen !== this.generation || err instanceof ConnectionError || err instanceof AuthError || err instanceof TimeoutError) return;
      this.end(err.message, true);
    });
  }

  suspend() {
    if (this.status !== "ended") this.status = "pending";
  }

  message(p) {
    // Messages come only after the subscribe's answer: any other is left
    // from a subscription given up (a restart, a last close).
    if (this.status !== "live") return;
    const c = this.client;
    switch (p.kind) {
      case "snapshot": {
        this.state = this.reducer.init(p.data);
        this.position = { epoch: p.epoch, seq: p.seq };
        c.stats.snapshots++;
        if (p.recovered === false) c.stats.notRecovered++;
        this.resuming = false;
        this.fan({ kind: "snapshot", epoch: p.epoch, seq: p.seq, recovered: p.recovered, data: p.data });
        return;
      }
      case "change": {
        const pos = this.position;
        if (!pos || pos.epoch !== p.epoch || p.seq !== pos.seq + 1) {
          // Never by the protocol: start over rather than show a wrong state.
          c.stats.gaps++;
          c._warn(`${this.topic}: change ${p.epoch}:${p.seq} after ${pos ? pos.epoch + ":" + pos.seq : "nothing"}; subscribing afresh`);
          this.restart();
          return;
        }
        if (p.recovered) c.stats.recovered++;
        const { state, keys } = this.reducer.apply(this.state, p.data);
        this.state = state;
        this.position = { epoch: p.epoch, seq: p.seq };
        c.stats.changes++;
        this.fan({ kind: "change", epoch: p.epoch, seq: p.seq, recovered: p.recovered, data: p.data, keys });
        return;
      }
      case "resumed":
        c.stats.resumed++;
        this.fan({ kind: "resumed", epoch: this.position?.epoch, seq: this.position?.seq, recovered: true });
        return;
      case "ended":
        this.end(p.error || "ended", true);
        return;
    }
  }

  // restart drops the position and subscribes again for a snapshot.
  restart() {
    this.position = null;
    this.status = "pending";
    this.generation++;
    const c = this.client;
    c._request("rtgate.unsubscribe", { topic: this.topic }).catch(() => {}).finally(() => {
      if (this.status !== "ended" && c.state === "open") this.start();
    });
  }

  // checkPosition compares rtgate.close's position with what was applied.
  checkPosition(pos) {
    const mine = this.position;
    if (!mine) {
      this.position = { epoch: pos.epoch, seq: pos.seq };
    } else if (mine.epoch !== pos.epoch || mine.seq !== pos.seq) {
      this.client._warn(`${this.topic}: rtgate.close says ${pos.epoch}:${pos.seq}, applied ${mine.epoch}:${mine.seq}; resuming from what was applied`);
    }
  }

  end(error, fromServer) {
    this.status = "ended";
    this.error = error;
    this.client._forget(this);
    if (fromServer) this.fan({ kind: "ended", error });
  }

  fan(update) {
    for (const sub of this.subs) sub.deliver(this.state, update);
  }
}

/**
 * Subscription is one follower of a topic, returned by Client.subscribe.
 * state is the topic's current state, position the {epoch, seq} it
 * stands at, status "pending" (waiting for a connection), "subscribing",
 * "live" or "ended" (error says why). on("update", fn) adds a listener
 * like subscribe's; close() stops following (the last one to close
 * unsubscribes).
 */
export class Subscription extends Emitter {
  #stream;
  #closed = false;
  constructor(stream, fn) {
    super();
    this.#stream = stream;
    if (fn) this.on("update", fn);
  }
  get topic() { return this.#stream.topic; }
  get state() { return this.#stream.state; }
  get position() { return this.#stream.position && { ...this.#stream.position }; }
  get status() { return this.#closed ? "ended" : this.#stream.status; }
  get error() { return this.#stream.error; }
  /** @internal */ deliver(state, update) {
    if (!this.#closed) this.emit("update", state, update);
  }
  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.#stream.detach(this);
  }
}
