package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed static
var static embed.FS

// ContentSecurityPolicy is the policy every answer of Handler carries: the
// page runs only its own scripts and styles, talks only to its own origin
// (its WebSocket included), cannot be framed, and may not turn strings
// into DOM (Trusted Types with no policy: innerHTML and its kin throw).
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; " +
	"require-trusted-types-for 'script'; trusted-types 'none'"

// contentTypes are the types of the files the package serves, by
// extension. A file of another extension under static/ is a bug that
// Handler panics on.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
}

// asset is one file as served.
type asset struct {
	typ  string
	body []byte
	etag string
	gz   []byte // nil when gzip does not make it smaller
}

// routes maps a URL path to the file under static/ it serves.
func route(urlPath string) (string, bool) {
	switch {
	case urlPath == "/":
		return "index.html", true
	case urlPath == "/rtgate.js":
		return "rtgate.js", true
	case strings.HasPrefix(urlPath, "/app/"):
		return urlPath[1:], true
	}
	return "", false
}

var assets = sync.OnceValue(func() map[string]*asset {
	out := map[string]*asset{}
	root, err := fs.Sub(static, "static")
	if err != nil {
		panic(err)
	}
	err = fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		typ, ok := contentTypes[path.Ext(name)]
		if !ok {
			return fmt.Errorf("ui: static/%s: no content type for its extension", name)
		}
		body, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		a := &asset{typ: typ, body: body, etag: hex.EncodeToString(sum[:12])}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(body)
		zw.Close()
		if buf.Len() < len(body) {
			a.gz = buf.Bytes()
		}
		out[name] = a
		return nil
	})
	if err != nil {
		panic(err)
	}
	return out
})

// Handler returns the handler of the page, the client module and the
// page's files; any other path is answered 404, a method other than GET
// and HEAD 405. Answers are revalidated at every use (Cache-Control:
// no-cache, with an ETag, so an unchanged file costs a 304), and gzipped
// for browsers that accept it.
func Handler() http.Handler {
	a := assets()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		name, ok := route(r.URL.Path)
		f := a[name]
		if !ok || f == nil {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.Set("Content-Type", f.typ)
		h.Set("Cache-Control", "no-cache")
		h.Set("Vary", "Accept-Encoding")
		body, etag := f.body, f.etag
		if f.gz != nil && acceptsGzip(r) {
			body, etag = f.gz, etag+"-gz"
			h.Set("Content-Encoding", "gzip")
		}
		h.Set("ETag", `"`+etag+`"`)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
}

// acceptsGzip reports whether the request's Accept-Encoding takes gzip
// (with a q-value that is not 0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
