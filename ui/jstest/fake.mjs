// Test doubles for rtgate.js's unit tests: a WebSocket the test drives
// frame by frame, and a clock whose timers fire when the test advances it.
// They stand in for what a real rtgate cannot be made to do on demand
// (a rtgate.close before 4008, a 4013, a silent server); the rest is
// tested against a real rtgate (rtgate.live.test.mjs).

export class FakeWebSocket {
  static all = [];
  static reset() { FakeWebSocket.all = []; }
  static last() { return FakeWebSocket.all[FakeWebSocket.all.length - 1]; }

  constructor(url, protocols) {
    this.url = url;
    this.protocols = protocols;
    this.sent = []; // parsed frames
    this.closed = null; // {code, reason} when the client closed it
    FakeWebSocket.all.push(this);
  }
  send(text) {
    if (this.closed) throw new Error("send on a closed socket");
    this.sent.push(JSON.parse(text));
  }
  close(code, reason) { this.closed = { code, reason }; }

  // Drivers.
  open() { this.onopen?.({}); }
  recv(msg) { this.onmessage?.({ data: typeof msg === "string" ? msg : JSON.stringify(msg) }); }
  end(code, reason = "") { this.onclose?.({ code, reason }); }
  /** lastSent returns the last frame sent with this method. */
  lastSent(method) {
    for (let i = this.sent.length - 1; i >= 0; i--) if (this.sent[i].method === method) return this.sent[i];
    return undefined;
  }
  /** answer answers the last request of method with result. */
  answer(method, result) {
    const req = this.lastSent(method);
    if (!req) throw new Error(`no ${method} sent; sent: ${JSON.stringify(this.sent)}`);
    this.recv({ id: req.id, jsonrpc: "2.0", result });
    return req;
  }
  /** message sends an rtgate.message. */
  message(params) { this.recv({ jsonrpc: "2.0", method: "rtgate.message", params }); }
}

export class FakeClock {
  now = 0;
  #timers = new Map();
  #next = 1;
  setTimeout = (fn, ms) => {
    const id = this.#next++;
    this.#timers.set(id, { at: this.now + ms, fn });
    return id;
  };
  clearTimeout = (id) => { this.#timers.delete(id); };
  /** pending returns the delays of the timers not fired yet, soonest first. */
  pending() { return [...this.#timers.values()].map((t) => t.at - this.now).sort((a, b) => a - b); }
  /** advance moves time on by ms, firing every timer due, in order. */
  advance(ms) {
    const end = this.now + ms;
    for (;;) {
      let due = null;
      for (const [id, t] of this.#timers) if (t.at <= end && (!due || t.at < due[1].at)) due = [id, t];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = end;
  }
}

/** tick lets promise callbacks run. */
export const tick = () => new Promise((r) => setImmediate(r));
