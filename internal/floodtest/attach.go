package floodtest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
)

// Attach returns a Flood for one that already runs at baseURL (in a
// container, say) with --auth none, logged in as Start's is, so that the
// same API helpers drive it. It does not own the process: Close only
// forgets the session, Log is empty and Version unknown. Call Attach again
// after that Flood restarts, since a new process may not accept the old
// session cookie.
func Attach(ctx context.Context, baseURL string) (*Flood, error) {
	jar, _ := cookiejar.New(nil) // never fails without options
	tr := &http.Transport{}
	f := &Flood{
		baseURL: strings.TrimSuffix(baseURL, "/"),
		tr:      tr,
		client:  &http.Client{Jar: jar, Transport: tr},
	}
	if err := f.authenticate(ctx, f.baseURL); err != nil {
		tr.CloseIdleConnections()
		return nil, fmt.Errorf("floodtest: attach %s: %w", baseURL, err)
	}
	return f, nil
}
