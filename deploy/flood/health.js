// Flood is healthy when it answers and is connected to its rTorrent (here: rtgate).
// With --auth none, GET /api/auth/verify hands out the jwt cookie; it is kept in a file so
// that the healthcheck does not hit Flood's auth rate limit (200 per 5 minutes) every run.
const fs = require('fs');
const base = 'http://127.0.0.1:' + (process.env.FLOOD_PORT || '3000');
const jar = '/tmp/flood-health-cookie';
const exit = (ok, why) => { if (!ok) console.error(why); process.exit(ok ? 0 : 1); };
(async () => {
	let cookie = fs.existsSync(jar) ? fs.readFileSync(jar, 'utf8') : '';
	for (let attempt = 0; attempt < 2; attempt++) {
		if (!cookie) {
			const r = await fetch(base + '/api/auth/verify');
			cookie = (r.headers.get('set-cookie') || '').split(';')[0];
			if (!cookie) return exit(false, 'verify: no cookie, status ' + r.status);
			fs.writeFileSync(jar, cookie);
		}
		const r = await fetch(base + '/api/client/connection-test', { headers: { cookie } });
		if (r.status === 401) { cookie = ''; continue; }
		const j = await r.json();
		return exit(j.isConnected === true, 'connection-test: ' + JSON.stringify(j));
	}
	exit(false, 'unauthorized');
})().catch((e) => exit(false, String(e)));
