package floodtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Do sends one request to Flood's HTTP API and decodes the reply, for
// endpoints the typed helpers do not cover (move, priority, tags, ...).
// path is below BaseURL and starts with "/api/". A non-nil in is sent as
// JSON; a non-nil out receives the JSON reply. A status other than 2xx is
// returned as *APIError.
func (f *Flood) Do(ctx context.Context, method, path string, in, out any) error {
	return f.do(ctx, f.BaseURL(), method, path, in, out)
}

func (f *Flood) do(ctx context.Context, baseURL, method, path string, in, out any) error {
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if closed {
		return errClosed
	}
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("flood: %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, baseURL+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("flood: %s %s: read reply: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		if len(data) > maxErrorBody {
			data = data[:maxErrorBody]
		}
		return &APIError{Method: method, Path: path, Status: resp.StatusCode, Body: string(data)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("flood: %s %s: decode reply: %w", method, path, err)
	}
	return nil
}

// getStrict GETs path and decodes the reply into out, failing on any field
// out does not declare: the typed helpers list every field Flood 4.11.0
// sends, so that comparisons between two Floods miss nothing.
func (f *Flood) getStrict(ctx context.Context, path string, out any) error {
	var raw json.RawMessage
	if err := f.Do(ctx, http.MethodGet, path, nil, &raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		return fmt.Errorf("flood: GET %s: decode reply: %w", path, err)
	}
	return nil
}

// errClosed is what the helpers return after Close.
var errClosed = errors.New("flood: closed")
