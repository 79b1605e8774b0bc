package main

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

// BenchmarkRtorrentUI measures the page in Chromium over `rtgate run` in
// front of rTorrent 0.9.8 with 10,000 downloads (docs/BENCHMARKS.md):
//
//   - first-render: from navigation to the first rows painted
//     (performance mark "rtgate:first-render": the torrents snapshot
//     received, the view sorted, the rows written, at the start of the
//     frame after the one that painted them), and to the snapshot applied
//     ("rtgate:snapshot"); one page load a loop.
//   - scroll: a page of rows further at every frame, 120 frames a loop
//     (every row in view replaced each frame, the virtualizer's worst
//     case): the table's own work per frame, and the intervals between
//     frames (16.7 ms at 60 Hz when nothing is dropped).
//   - plain-table: the baseline, in the same page and run: the same
//     10,000 downloads as a plain <table> of every row (what a page
//     without virtualization does), the time to build and paint it, and
//     the same scrolling.
func BenchmarkRtorrentUI(b *testing.B) {
	rt := rtorrenttest.Start(b, &rtorrenttest.Options{NoSession: true, SizeLimit: 32 << 20, Version: rtorrenttest.V098})
	const n = 10000
	rtorrenttest.LoadMany(b, rt.Client(b), "ui", n)
	run := startMain(b, nil, "-rtorrent", rt.Addr(), "-http", "127.0.0.1:0", "-scgi", "")
	url := "http://" + run.httpAddr(b) + "/"
	br := startBrowser(b)
	// load opens the page and waits for its first rows.
	load := func() {
		br.open(url)
		br.waitJSWithin(60*time.Second, "first render", `performance.getEntriesByName("rtgate:first-render").length`)
	}
	rows := func() int {
		var c int
		br.eval(`window.rtgate.page.rows.size`, &c)
		return c
	}

	b.Run("first-render", func(b *testing.B) {
		var render, snapshot []float64
		var nodes int
		for b.Loop() {
			load()
			var marks []float64
			br.eval(`["rtgate:snapshot", "rtgate:first-render"].map((m) => performance.getEntriesByName(m)[0].startTime)`, &marks)
			snapshot = append(snapshot, marks[0])
			render = append(render, marks[1])
			br.eval(`document.getElementsByTagName("*").length`, &nodes)
		}
		if got := rows(); got != n {
			b.Fatalf("the page has %d downloads, want %d", got, n)
		}
		b.ReportMetric(mean(snapshot), "ms-to-snapshot")
		b.ReportMetric(mean(render), "ms-to-first-render")
		b.ReportMetric(float64(nodes), "dom-elements")
	})

	b.Run("scroll", func(b *testing.B) {
		load()
		var work, frames []float64
		var wrote int
		for b.Loop() {
			var raw string
			br.eval(`(async () => {
				const t = window.rtgate.table, vp = t.viewport;
				const step = vp.clientHeight, max = vp.scrollHeight - vp.clientHeight;
				const work = [], frames = [];
				let wrote = 0;
				await new Promise((r) => requestAnimationFrame(r));
				let last = performance.now();
				for (let i = 0; i < 120; i++) {
					vp.scrollTop = (vp.scrollTop + step) % max;
					const t0 = performance.now();
					wrote += t.render();
					work.push(performance.now() - t0);
					await new Promise((r) => requestAnimationFrame(r));
					const now = performance.now();
					frames.push(now - last);
					last = now;
				}
				return JSON.stringify({ work, frames, wrote });
			})()`, &raw)
			var r struct {
				Work, Frames []float64
				Wrote        int
			}
			if err := json.Unmarshal([]byte(raw), &r); err != nil {
				b.Fatal(err)
			}
			work = append(work, r.Work...)
			frames = append(frames, r.Frames...)
			wrote += r.Wrote
		}
		if wrote < len(work)*10 {
			b.Fatalf("%d rows written in %d frames: the table did not scroll", wrote, len(work))
		}
		dropped := 0
		for _, f := range frames {
			if f > 2*1000.0/60 {
				dropped++
			}
		}
		b.ReportMetric(mean(work), "ms-render/frame")
		b.ReportMetric(quantile(work, 0.99), "ms-render-p99")
		b.ReportMetric(mean(frames), "ms/frame")
		b.ReportMetric(quantile(frames, 0.99), "ms/frame-p99")
		b.ReportMetric(100*float64(dropped)/float64(len(frames)), "%frames-over-33ms")
		b.ReportMetric(float64(wrote)/float64(len(work)), "rows-written/frame")
	})
	b.Run("plain-table", func(b *testing.B) {
		load()
		var paint, frames []float64
		var nodes int
		for b.Loop() {
			var raw string
			br.eval(`(async () => {
				const frame = () => new Promise((r) => requestAnimationFrame(r));
				await frame();
				const t0 = performance.now();
				const box = document.createElement("div");
				Object.assign(box.style, { position: "fixed", inset: "0", overflow: "auto", background: "Canvas", zIndex: 50 });
				const tbody = document.createElement("tbody");
				for (const r of window.rtgate.page.rows.values()) {
					const tr = document.createElement("tr");
					for (const v of [r.name, r.state, r.bytesDone, r.downRate, r.upRate, r.leftBytes, r.ratio, r.sizeBytes, r.custom1, r.dateAdded]) {
						const td = document.createElement("td");
						td.textContent = String(v ?? "");
						tr.append(td);
					}
					tbody.append(tr);
				}
				const table = document.createElement("table");
				table.append(tbody);
				box.append(table);
				document.body.append(box);
				await frame();
				const paint = performance.now() - t0;
				const nodes = document.getElementsByTagName("*").length;
				const frames = [];
				let last = performance.now();
				for (let i = 0; i < 120; i++) {
					box.scrollTop = (box.scrollTop + box.clientHeight) % (box.scrollHeight - box.clientHeight);
					await frame();
					const now = performance.now();
					frames.push(now - last);
					last = now;
				}
				box.remove();
				return JSON.stringify({ paint, frames, nodes });
			})()`, &raw)
			var r struct {
				Paint  float64
				Frames []float64
				Nodes  int
			}
			if err := json.Unmarshal([]byte(raw), &r); err != nil {
				b.Fatal(err)
			}
			paint = append(paint, r.Paint)
			frames = append(frames, r.Frames...)
			nodes = r.Nodes
		}
		b.ReportMetric(mean(paint), "ms-to-paint")
		b.ReportMetric(float64(nodes), "dom-elements")
		b.ReportMetric(mean(frames), "ms/frame")
		b.ReportMetric(quantile(frames, 0.99), "ms/frame-p99")
	})
	b.Logf("chromium: %s", strings.TrimSpace(chromiumVersion(b)))
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}
