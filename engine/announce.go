package engine

import (
	"context"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/tracker"
)

// The engine announces to trackers itself rather than through anacrolix,
// whose per-tracker state is private and whose announcers cannot be
// stopped and restarted: d.stop must send "stopped", t.disable must stop
// a tracker, d.tracker_announce must announce now, and t.* must report
// counters and scrape numbers. Trackers are tried as rTorrent does: in
// each group (tier) in turn until one answers.

// trackerEntry is one tracker of a download and what its announces gave.
type trackerEntry struct {
	url     string
	group   int
	enabled bool
	extra   bool // added by d.tracker.insert

	busy             bool
	successCount     int64
	failedCount      int64
	successTime      int64
	failedTime       int64
	scrapeComplete   int64
	scrapeIncomplete int64
	scrapeTime       int64
	normalInterval   int64
	minInterval      int64
	latestEvent      int64 // 0 none, 1 completed, 2 started, 3 stopped
	latestNewPeers   int64
	latestSumPeers   int64
	nextTime         int64
}

// trackerType is t.type: 1 http, 2 udp, 3 dht.
func (tr *trackerEntry) trackerType() int64 {
	switch {
	case strings.HasPrefix(tr.url, "udp:"):
		return 2
	case strings.HasPrefix(tr.url, "dht:"):
		return 3
	}
	return 1
}

// newTracker returns an entry for url in group with rTorrent's defaults.
func newTracker(u string, group int) *trackerEntry {
	return &trackerEntry{url: u, group: group, enabled: true, normalInterval: 1800, minInterval: 600}
}

// isTrackerURL reports whether u is a tracker the engine lists: rTorrent
// takes "dht://" as the DHT pseudo-tracker and lists no row for it.
func isTrackerURL(u string) bool {
	return u != "" && !strings.HasPrefix(u, "dht:")
}

// Announce timing.
const (
	announceTimeout  = 15 * time.Second
	stoppedTimeout   = 2 * time.Second // bounds Close when a tracker hangs
	retryInterval    = 30 * time.Second
	minInterval      = 60 * time.Second
	maxInterval      = 2 * time.Hour
	idleAnnounceWait = 24 * time.Hour // no trackers: wait for a kick
)

// announceLoop announces d for as long as it is active: "started" first,
// then at the trackers' interval, "completed" when it finishes, and
// "stopped" when ctx ends.
func (e *Engine) announceLoop(ctx context.Context, d *download, r *running) {
	event := tracker.Started
	succeeded := map[*trackerEntry]bool{}
	for {
		next, ok := e.announceOnce(ctx, d, r, event)
		for _, tr := range ok {
			succeeded[tr] = true
		}
		if ctx.Err() != nil {
			break
		}
		if len(ok) > 0 || event != tracker.Started {
			event = tracker.None
		}
		timer := time.NewTimer(next)
		select {
		case <-ctx.Done():
		case <-timer.C:
		case <-r.kick:
		case <-r.completed:
			event = tracker.Completed
		}
		timer.Stop()
		if ctx.Err() != nil {
			break
		}
	}
	if len(succeeded) > 0 {
		e.announceStopped(d, r, succeeded)
	}
}

// announceOnce announces event to the first tracker that answers in each
// group and hands the peers to anacrolix. It returns when to announce next
// and the trackers that answered.
func (e *Engine) announceOnce(ctx context.Context, d *download, r *running, event tracker.AnnounceEvent) (time.Duration, []*trackerEntry) {
	e.mu.Lock()
	if d.gone || d.run != r {
		e.mu.Unlock()
		return idleAnnounceWait, nil
	}
	groups := d.trackerGroups()
	req := e.announceRequest(d, event, e.totalsOf(d))
	for _, g := range groups {
		for _, tr := range g {
			tr.busy = true
		}
	}
	e.mu.Unlock()
	if len(groups) == 0 {
		return idleAnnounceWait, nil
	}

	var ok []*trackerEntry
	var peers []torrent.PeerInfo
	next := maxInterval
	failed := ""
	for _, g := range groups {
		for _, tr := range g {
			actx, cancel := context.WithTimeout(ctx, announceTimeout)
			res, err := tracker.Announce{
				TrackerUrl: tr.url,
				Request:    req,
				Context:    actx,
				UserAgent:  userAgent,
			}.Do()
			cancel()
			if ctx.Err() != nil {
				e.clearBusy(groups)
				return 0, ok
			}
			now := e.now()
			e.mu.Lock()
			tr.latestEvent = eventCode(event)
			if err != nil {
				tr.failedCount++
				tr.failedTime = now
				tr.nextTime = now + int64(retryInterval/time.Second)
				failed = "Tracker: [" + describeAnnounceError(err) + "]"
			} else {
				tr.successCount++
				tr.successTime = now
				tr.scrapeComplete = int64(res.Seeders)
				tr.scrapeIncomplete = int64(res.Leechers)
				tr.scrapeTime = now
				if res.Interval > 0 {
					tr.normalInterval = int64(res.Interval)
				}
				tr.latestNewPeers = int64(len(res.Peers))
				tr.latestSumPeers += int64(len(res.Peers))
				tr.nextTime = now + tr.normalInterval
			}
			e.mu.Unlock()
			if err != nil {
				continue
			}
			ok = append(ok, tr)
			for _, p := range res.Peers {
				if p.IP == nil || p.Port == 0 {
					continue
				}
				peers = append(peers, torrent.PeerInfo{
					Addr:   torrent.IpPort{IP: p.IP, Port: uint16(p.Port)},
					Source: torrent.PeerSourceTracker,
				})
			}
			next = min(next, max(time.Duration(res.Interval)*time.Second, minInterval))
			break
		}
	}
	e.mu.Lock()
	for _, g := range groups {
		for _, tr := range g {
			tr.busy = false
		}
	}
	if len(ok) > 0 {
		d.message = ""
	} else if failed != "" {
		d.message = failed
		next = retryInterval
	}
	e.mu.Unlock()
	if len(peers) > 0 {
		r.t.AddPeers(peers)
	}
	return next, ok
}

func (e *Engine) clearBusy(groups [][]*trackerEntry) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, g := range groups {
		for _, tr := range g {
			tr.busy = false
		}
	}
}

// announceStopped tells the trackers that answered that d stopped, with
// the totals it had when it stopped.
func (e *Engine) announceStopped(d *download, r *running, trackers map[*trackerEntry]bool) {
	e.mu.Lock()
	req := e.announceRequest(d, tracker.Stopped, r.final)
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), stoppedTimeout)
	defer cancel()
	for tr := range trackers {
		e.mu.Lock()
		u := tr.url
		e.mu.Unlock()
		_, _ = tracker.Announce{TrackerUrl: u, Request: req, Context: ctx, UserAgent: userAgent}.Do()
	}
	e.mu.Lock()
	for tr := range trackers {
		tr.latestEvent = eventCode(tracker.Stopped)
	}
	e.mu.Unlock()
}

// userAgent is sent with HTTP announces.
const userAgent = "rtgate-engine (anacrolix/torrent v1.59.1)"

// announceRequest builds an announce of d with totals tt.
func (e *Engine) announceRequest(d *download, event tracker.AnnounceEvent, tt transferTotals) tracker.AnnounceRequest {
	left := tt.left
	if left < 0 {
		left = -1 // unknown: a magnet without its metadata
	}
	return tracker.AnnounceRequest{
		InfoHash:   d.ih,
		PeerId:     e.cl.PeerID(),
		Downloaded: tt.down,
		Uploaded:   tt.up,
		Left:       left,
		Event:      event,
		Key:        int32(e.pid),
		NumWant:    int32(e.settings.numwant),
		Port:       uint16(e.cl.LocalPort()),
	}
}

// eventCode is t.latest_event's number for an announce event.
func eventCode(ev tracker.AnnounceEvent) int64 {
	switch ev {
	case tracker.Completed:
		return 1
	case tracker.Started:
		return 2
	case tracker.Stopped:
		return 3
	}
	return 0
}

// describeAnnounceError words a failed announce as rTorrent (curl) does
// for the common cases, so that d.message reads the same.
func describeAnnounceError(err error) string {
	var opErr *net.OpError
	var urlErr *url.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "Timeout was reached"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "Couldn't connect to server"
	case errors.As(err, &urlErr):
		return urlErr.Err.Error()
	}
	return err.Error()
}
