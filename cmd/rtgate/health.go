package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rtgate/rtgate/poller"
)

// The health endpoints, on every HTTP listener. Neither sits behind the
// token: /healthz says only that the process serves, and /readyz says
// whether the backend is connected and polled, which backend kind it is
// and why it is not ready in a fixed vocabulary — no address, path,
// version, error text or download, nothing a client could not learn from
// whether its calls succeed. The details (the error, the version, the
// attempt) are on the backend topic, behind the token. So probes
// (Docker's HEALTHCHECK, Kubernetes, a load balancer) need no secret.
const (
	healthzPath = "/healthz"
	readyzPath  = "/readyz"
)

// staleAfter is how old the last successful poll may be before /readyz
// says the poller is stale: three ticks, but never under 10 s, so that a
// slow sweep of a big library does not flap readiness.
func staleAfter(interval time.Duration) time.Duration {
	return max(3*interval, 10*time.Second)
}

// readiness is /readyz's JSON body.
type readiness struct {
	Ready   bool   `json:"ready"`
	Backend string `json:"backend"` // "rtorrent" or "embedded"
	State   string `json:"state"`   // the backend topic's state
	// Reason says why Ready is false.
	Reason string `json:"reason,omitempty"`
	// Fallback says why the backend is the embedded engine although
	// rtorrent.address is set (as the backend topic does).
	Fallback string `json:"fallback,omitempty"`
	LastPoll int64  `json:"lastPoll"` // ms since the epoch of the last successful poll, 0 for none
}

// readinessOf judges a poller's health at now: ready when connected and
// polled within staleAfter.
func readinessOf(h poller.Health, polledAt time.Time, interval time.Duration, now time.Time) readiness {
	r := readiness{Backend: h.Backend, State: string(h.State), Fallback: h.Fallback}
	if !polledAt.IsZero() {
		r.LastPoll = polledAt.UnixMilli()
	}
	switch {
	case h.State == poller.StateConnecting:
		r.Reason = "connecting to the backend"
	case h.State != poller.StateConnected:
		r.Reason = "the backend is not reachable"
	case polledAt.IsZero():
		r.Reason = "no successful poll yet"
	case now.Sub(polledAt) > staleAfter(interval):
		r.Reason = fmt.Sprintf("the last successful poll is %v old", now.Sub(polledAt).Round(time.Second))
		if h.Error != "" {
			r.Reason += "; polls fail (the backend topic says why)"
		}
	default:
		r.Ready = true
	}
	return r
}

// healthHandler serves /healthz: 200 "ok" while the process serves HTTP.
func healthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !getOrHead(w, r) {
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		io.WriteString(w, "ok\n")
	})
}

// readyHandler serves /readyz: 200 when p's backend is connected and
// polled recently, 503 otherwise, with a readiness body either way.
func readyHandler(p *poller.Poller) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !getOrHead(w, r) {
			return
		}
		rd := readinessOf(p.Health(), p.PolledAt(), p.Interval(), time.Now())
		body, _ := json.Marshal(rd) // plain strings and numbers: cannot fail
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)+1))
		if !rd.Ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		w.Write(append(body, '\n'))
	})
}

// getOrHead answers 405 to anything but GET and HEAD.
func getOrHead(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "rtgate: GET or HEAD only", http.StatusMethodNotAllowed)
	return false
}

// healthTimeout bounds `rtgate health`'s request.
const healthTimeout = 5 * time.Second

// health asks a running rtgate's /readyz (or another URL) and fails unless
// it answers 200: the container image's HEALTHCHECK, which can run
// nothing but rtgate itself. The body is printed either way.
func (m *Main) health(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("rtgate health", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	url := fs.String("url", "", "`URL` to GET (default http://<listen.http>/readyz, with a wildcard host asked on loopback; or listen.http_socket)")
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "Usage: rtgate [flags] health [-url URL]\n\nExits 0 when rtgate's /readyz answers 200.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	hc := &http.Client{Timeout: healthTimeout}
	target := *url
	if target == "" {
		var err error
		if target, hc.Transport, err = m.readyzURL(); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	m.Stdout.Write(body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s: %s", target, resp.Status)
	}
	return nil
}

// readyzURL is where `rtgate health` finds /readyz by default: on
// listen.http, asking a wildcard host (0.0.0.0, ::, none) on loopback, or
// else on listen.http_socket through a transport that dials it.
func (m *Main) readyzURL() (string, http.RoundTripper, error) {
	if addr := m.Config.Listen.HTTP; addr != "" {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return "", nil, fmt.Errorf("health: listen.http %q: %w", addr, err)
		}
		switch host {
		case "", "0.0.0.0":
			host = "127.0.0.1"
		case "::":
			host = "::1"
		}
		return "http://" + net.JoinHostPort(host, port) + readyzPath, nil, nil
	}
	if sock := strings.TrimPrefix(m.Config.Listen.HTTPSocket, "unix://"); sock != "" {
		tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}
		return "http://rtgate" + readyzPath, tr, nil
	}
	return "", nil, errors.New("health: listen.http and listen.http_socket are off; pass -url")
}
