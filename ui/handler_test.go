package ui_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rtgate/rtgate/ui"
)

func get(t *testing.T, h http.Handler, method, path string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

// TestHandler: each path's file with its Content-Type, the security
// headers on every answer (404s too), revalidation by ETag, gzip when
// accepted, and nothing but GET and HEAD.
func TestHandler(t *testing.T) {
	h := ui.Handler()
	tests := []struct {
		name, method, path string
		header             http.Header
		status             int
		typ                string
		gzip               bool   // answered gzipped
		body               string // a substring of the (decoded) body
	}{
		{name: "page", method: "GET", path: "/", status: 200, typ: "text/html; charset=utf-8", body: "<!doctype html>"},
		{name: "client module", method: "GET", path: "/rtgate.js", status: 200, typ: "text/javascript; charset=utf-8", body: "export class Client"},
		{name: "page module", method: "GET", path: "/app/main.js", status: 200, typ: "text/javascript; charset=utf-8", body: "import"},
		{name: "style", method: "GET", path: "/app/app.css", status: 200, typ: "text/css; charset=utf-8"},
		{name: "icon", method: "GET", path: "/app/icon.svg", status: 200, typ: "image/svg+xml", body: "<svg"},
		{name: "head", method: "HEAD", path: "/rtgate.js", status: 200, typ: "text/javascript; charset=utf-8"},
		{name: "gzip", method: "GET", path: "/rtgate.js", header: http.Header{"Accept-Encoding": {"br, gzip;q=0.8"}}, status: 200, typ: "text/javascript; charset=utf-8", gzip: true, body: "export class Client"},
		{name: "gzip page", method: "GET", path: "/", header: http.Header{"Accept-Encoding": {"gzip"}}, status: 200, typ: "text/html; charset=utf-8", gzip: true, body: "<!doctype html>"},
		{name: "gzip refused", method: "GET", path: "/rtgate.js", header: http.Header{"Accept-Encoding": {"gzip;q=0"}}, status: 200, typ: "text/javascript; charset=utf-8"},
		{name: "unknown path", method: "GET", path: "/index.html", status: 404},
		{name: "unknown asset", method: "GET", path: "/app/nothing.js", status: 404},
		{name: "directory", method: "GET", path: "/app/", status: 404},
		{name: "post", method: "POST", path: "/", status: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := get(t, h, tt.method, tt.path, tt.header)
			defer resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
			for k, want := range map[string]string{
				"Content-Security-Policy": ui.ContentSecurityPolicy,
				"X-Content-Type-Options":  "nosniff",
				"Referrer-Policy":         "no-referrer",
				"X-Frame-Options":         "DENY",
			} {
				if got := resp.Header.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
			if tt.status != 200 {
				return
			}
			if got := resp.Header.Get("Content-Type"); got != tt.typ {
				t.Errorf("Content-Type %q, want %q", got, tt.typ)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("Cache-Control %q", got)
			}
			etag := resp.Header.Get("ETag")
			if !regexp.MustCompile(`^"[0-9a-f]{24}(-gz)?"$`).MatchString(etag) {
				t.Errorf("ETag %q", etag)
			}
			gz := resp.Header.Get("Content-Encoding") == "gzip"
			if gz != tt.gzip {
				t.Errorf("gzip %v, want %v", gz, tt.gzip)
			}
			if gz != strings.HasSuffix(etag, `-gz"`) {
				t.Errorf("ETag %s for gzip %v: each encoding has its own", etag, gz)
			}
			var body io.Reader = resp.Body
			if gz {
				zr, err := gzip.NewReader(resp.Body)
				if err != nil {
					t.Fatal(err)
				}
				body = zr
			}
			b, _ := io.ReadAll(body)
			if tt.method == "HEAD" {
				if len(b) != 0 {
					t.Errorf("HEAD has a body")
				}
				return
			}
			if !bytes.Contains(b, []byte(tt.body)) {
				t.Errorf("body does not hold %q", tt.body)
			}
			// Revalidation: the same ETag is a 304 without a body.
			again := get(t, h, "GET", tt.path, http.Header{"If-None-Match": {etag}, "Accept-Encoding": tt.header["Accept-Encoding"]})
			if again.StatusCode != http.StatusNotModified {
				t.Errorf("If-None-Match: status %d, want 304", again.StatusCode)
			}
		})
	}
}

// TestStaticFilesAreStrict: what the Content-Security-Policy forbids is
// not in the files either (it would break, not merely be blocked): no
// inline script or style, no event-handler attributes, no javascript:
// URLs, no string-to-DOM sinks, no resource from another origin; and
// every file under static/ is served.
func TestStaticFilesAreStrict(t *testing.T) {
	h := ui.Handler()
	forbidden := []struct {
		name string
		re   *regexp.Regexp
		ext  string // only in files of this extension; "" for all
	}{
		{"inline script", regexp.MustCompile(`<script(?:\s[^>]*)?>[^<\s]`), ".html"},
		{"script without src", regexp.MustCompile(`<script(?:\s+(?:type|defer|async)(?:="[^"]*")?)*\s*>`), ".html"},
		{"inline style element", regexp.MustCompile(`<style`), ".html"},
		{"style attribute", regexp.MustCompile(`\sstyle=`), ".html"},
		{"event handler attribute", regexp.MustCompile(`\son[a-z]+=`), ".html"},
		{"javascript: URL", regexp.MustCompile(`javascript:`), ""},
		{"external resource", regexp.MustCompile(`(?:src|href)="(?:https?:)?//`), ".html"},
		{"string to DOM", regexp.MustCompile(`\.(?:innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(`), ".js"},
		{"setAttribute style", regexp.MustCompile(`setAttribute\(\s*["']style`), ".js"},
	}
	root := filepath.Join("static")
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, f := range forbidden {
			if f.ext != "" && filepath.Ext(path) != f.ext {
				continue
			}
			if loc := f.re.FindIndex(b); loc != nil {
				t.Errorf("%s: %s at byte %d: %q", path, f.name, loc[0], b[loc[0]:min(len(b), loc[1]+20)])
			}
		}
		rel, _ := filepath.Rel(root, path)
		url := "/" + filepath.ToSlash(rel)
		switch url {
		case "/index.html":
			url = "/"
		}
		if resp := get(t, h, "GET", url, nil); resp.StatusCode != 200 {
			t.Errorf("%s: served at %s with %d", path, url, resp.StatusCode)
		}
		return nil
	})
	if err != nil || n < 5 {
		t.Fatalf("walk static/: %d files, %v", n, err)
	}
}
