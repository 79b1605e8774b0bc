package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/rtgate/rtgate/internal/nodetest"
)

// This file is the kit of the page's tests: a headless Chromium (Debian's,
// never downloaded) driven by chromedp, with what the page logged, what
// the Content-Security-Policy refused and every URL it requested
// recorded; screenshots as artifacts; and a TCP proxy that cuts
// connections, for a lost WebSocket.

// browserWait bounds the waits of the page's tests.
const browserWait = 20 * time.Second

// chromium returns Chromium's path, or skips the test (fails it under
// CI=true) when it is not installed: $RTGATE_CHROMIUM, else chromium on
// PATH.
func chromium(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("RTGATE_CHROMIUM"); p != "" {
		return p
	}
	p, err := exec.LookPath("chromium")
	if err != nil {
		nodetest.Missing(t, "chromium is not installed: the page's tests need it", "apt-get install chromium")
	}
	return p
}

// browser is one headless Chromium with one tab, for one test.
type browser struct {
	t   testing.TB
	ctx context.Context // the tab's

	mu       sync.Mutex
	console  []string // console messages and uncaught exceptions
	errors   []string // the ones at level error, and exceptions
	urls     []string // every request and WebSocket the page made
	wsHeader []map[string]any
	shots    int
}

// startBrowser starts Chromium for the test and closes it when the test
// ends, failing the test if the page logged an error or an exception, or
// if the Content-Security-Policy refused anything, unless allowErrors.
func startBrowser(t testing.TB) *browser {
	t.Helper()
	path := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-first-run", true),
		chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	b := &browser{t: t, ctx: ctx}
	err := chromedp.Listen(ctx, b.record) // starts Chromium
	if err == nil {
		_, err = chromedp.Call(ctx, network.Enable, network.EnableParams{})
	}
	if err == nil {
		// Before any script of the page: count what the CSP refuses.
		_, err = chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`})
	}
	if err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() {
		b.checkClean()
		if err := chromedp.Cancel(ctx); err != nil {
			t.Logf("close chromium: %v", err)
		}
		cancelTab()
		cancelAlloc()
	})
	return b
}

// allowErrors lets the page log console errors matching re (a test that
// makes the page fail on purpose).
var allowedErrors = regexp.MustCompile(`WebSocket connection to .* failed|Failed to load resource: the server responded with a status of 401`)

func (b *browser) record(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		var parts []string
		for _, a := range e.Args {
			if a.Value != nil {
				parts = append(parts, strings.Trim(string(a.Value), `"`))
			} else {
				parts = append(parts, a.Description)
			}
		}
		line := string(e.Type) + ": " + strings.Join(parts, " ")
		b.console = append(b.console, line)
		if e.Type == runtime.ConsoleAPICalledTypeError {
			b.errors = append(b.errors, line)
		}
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		line := "exception: " + d.Text
		if d.Exception != nil {
			line += " " + d.Exception.Description
		}
		b.console = append(b.console, line)
		b.errors = append(b.errors, line)
	case *network.EventRequestWillBeSent:
		b.urls = append(b.urls, e.Request.URL)
	case *network.EventWebSocketCreated:
		b.urls = append(b.urls, e.URL)
	case *network.EventWebSocketWillSendHandshakeRequest:
		h := map[string]any{}
		for k, v := range e.Request.Headers {
			h[strings.ToLower(k)] = v
		}
		b.wsHeader = append(b.wsHeader, h)
	}
}

// checkClean fails the test for errors the page logged and for anything
// the CSP refused.
func (b *browser) checkClean() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	if csp, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp || []`)); err == nil && len(csp) > 0 {
		b.t.Errorf("the Content-Security-Policy refused: %q", csp)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errors {
		if !allowedErrors.MatchString(e) {
			b.t.Errorf("the page logged %s", e)
		}
	}
	if b.t.Failed() {
		b.t.Logf("console:\n%s", strings.Join(b.console, "\n"))
	}
}

// do runs actions in the tab, failing the test on error.
func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.screenshot("failed")
		b.t.Fatalf("chromium: %v", err)
	}
}

// open loads url and waits for the page's script to be running.
func (b *browser) open(url string) {
	b.t.Helper()
	b.do(chromedp.Navigate(url))
	b.waitJS("the page's script", `!!window.rtgate`)
}

// eval evaluates a JavaScript expression (awaiting a promise) into out.
func (b *browser) eval(expr string, out any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserWait)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			b.t.Fatalf("evaluate %s: %s: %v", expr, raw, err)
		}
	}
}

// waitJS waits until the expression is true.
func (b *browser) waitJS(what, expr string) {
	b.t.Helper()
	b.waitJSWithin(browserWait, what, expr)
}

func (b *browser) waitJSWithin(d time.Duration, what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(d)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(`+expr+`)`))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.screenshot("timeout")
			b.t.Fatalf("page: %s: not within %v (%s: %v)", what, d, expr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// rowNames returns the names of the table's rows in the DOM, in order.
func (b *browser) rowNames() []string {
	b.t.Helper()
	var names []string
	b.eval(`[...document.querySelectorAll("#list .tbody .row:not([hidden])")]
		.sort((a, c) => a.getAttribute("aria-rowindex") - c.getAttribute("aria-rowindex"))
		.map((r) => r.querySelector(".c-name").textContent)`, &names)
	return names
}

// rowSelector is a CSS selector of the row of a download.
func rowSelector(hash string) string { return "#r-" + hash }

// screenshot saves the viewport as a PNG artifact and logs its path: in
// $RTGATE_ARTIFACTS if set, else in the test's temporary directory.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	dir := os.Getenv("RTGATE_ARTIFACTS")
	if dir == "" {
		dir = b.t.TempDir()
	} else {
		dir = filepath.Join(dir, regexp.MustCompile(`[^A-Za-z0-9._-]+`).ReplaceAllString(b.t.Name(), "_"))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.t.Fatal(err)
		}
	}
	b.mu.Lock()
	b.shots++
	path := filepath.Join(dir, fmt.Sprintf("%02d-%s.png", b.shots, name))
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", path)
	return path
}

// requested returns every URL the page requested so far.
func (b *browser) requested() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.urls...)
}

// handshakeHeaders returns the headers of the page's WebSocket handshakes.
func (b *browser) handshakeHeaders() []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]map[string]any(nil), b.wsHeader...)
}

// stats returns the page's client counters (rtgate.js's Client.stats).
func (b *browser) stats() map[string]int {
	b.t.Helper()
	var raw string
	b.eval(`JSON.stringify(window.rtgate.client.stats)`, &raw)
	var s map[string]int
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		b.t.Fatal(err)
	}
	return s
}

// cutProxy forwards TCP connections to an address and can cut them all:
// a network that drops, as the page sees it.
type cutProxy struct {
	l    net.Listener
	to   string
	mu   sync.Mutex
	open map[net.Conn]struct{}
	down bool // refuse (close at once) new connections
	wg   sync.WaitGroup
}

func startCutProxy(t testing.TB, to string) *cutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{l: l, to: to, open: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		l.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *cutProxy) addr() string { return p.l.Addr().String() }

func (p *cutProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.to)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.open[c], p.open[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(up, c)
		go p.pipe(c, up)
	}
}

func (p *cutProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.open, dst)
	delete(p.open, src)
	p.mu.Unlock()
}

// cut closes every connection through the proxy.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.open {
		c.Close()
	}
}

// setDown makes the proxy refuse new connections (true) or forward them.
func (p *cutProxy) setDown(down bool) {
	p.mu.Lock()
	p.down = down
	p.mu.Unlock()
}

// chromiumVersion returns what Chromium says its version is.
func chromiumVersion(t testing.TB) string {
	t.Helper()
	out, err := exec.Command(chromium(t), "--version").Output()
	if err != nil {
		return "unknown: " + err.Error()
	}
	return string(out)
}
