// A client of rtgate's WebSocket protocol (docs/protocol.md) written with
// nothing but npm's ws, to prove the protocol is usable outside Go.
//
//	node client.mjs ws://127.0.0.1:8080/ws <token>
//
// It calls system.client_version, subscribes to torrents, and prints one
// JSON line per thing it got (the call's answer may come before or after
// the subscription's), then closes normally:
//
//	{"type":"answer","id":2,"result":{"topic":"torrents"}}
//	{"type":"message","topic":"torrents","kind":"snapshot","epoch":"…","seq":3,"hashes":["…"]}
//	{"type":"answer","id":1,"result":"0.9.8"}
//	{"type":"closed","code":1000}
//
// Errors print {"type":"error",…} and exit 1; no snapshot within 10 s
// exits 2.
import WebSocket from 'ws';

const [url, token] = process.argv.slice(2);
if (!url) {
  console.error('usage: node client.mjs <ws-url> [token]');
  process.exit(64);
}
const print = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const ws = new WebSocket(url, {
  headers: token ? { Authorization: `Bearer ${token}` } : {},
});
const timer = setTimeout(() => {
  print({ type: 'error', error: 'timed out' });
  process.exit(2);
}, 10000);

let nextID = 1;
// The answer to an rTorrent call and rtgate's own answers and messages may
// come in either order: close once both the version and the snapshot came.
const pending = new Set(['version', 'snapshot']);
const done = (what) => {
  pending.delete(what);
  if (pending.size === 0) ws.close(1000);
};
const call = (method, params) => {
  const id = nextID++;
  ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
  return id;
};

ws.on('open', () => {
  call('system.client_version', []);
  call('rtgate.subscribe', { topic: 'torrents' });
});

ws.on('message', (data, isBinary) => {
  if (isBinary) {
    print({ type: 'error', error: 'binary frame' });
    process.exit(1);
  }
  const msg = JSON.parse(data.toString('utf8'));
  if (msg.id !== undefined) {
    if (msg.error) {
      print({ type: 'error', id: msg.id, error: msg.error });
      process.exit(1);
    }
    print({ type: 'answer', id: msg.id, result: msg.result });
    if (msg.id === 1) done('version');
    return;
  }
  if (msg.method === 'rtgate.message') {
    const p = msg.params;
    const out = { type: 'message', topic: p.topic, kind: p.kind, epoch: p.epoch, seq: p.seq };
    if (p.kind === 'snapshot') {
      out.hashes = Object.keys(p.data.torrents).sort();
      print(out);
      done('snapshot');
      return;
    }
    print(out);
    return;
  }
  print({ type: 'notification', method: msg.method });
});

ws.on('close', (code) => {
  clearTimeout(timer);
  print({ type: 'closed', code });
});

ws.on('unexpected-response', (req, res) => {
  print({ type: 'error', error: `handshake answered ${res.statusCode}` });
  process.exit(1);
});

ws.on('error', (err) => {
  print({ type: 'error', error: String(err.message || err) });
  process.exit(1);
});
