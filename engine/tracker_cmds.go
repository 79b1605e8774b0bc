package engine

import "github.com/rtgate/rtgate/xmlrpc"

// trackerCommands returns the t.* commands (on "HASH:t<i>" targets) and
// the d.* commands that change a download's tracker list.
func trackerCommands() []*command {
	var cmds []*command
	getInt := func(name string, f func(*trackerEntry) int64) {
		cmds = append(cmds, &command{name: name, kind: targetTracker, fn: func(_ *call, t target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
			return xmlrpc.NewInt(f(t.d.trackers[t.index])), nil
		}})
	}
	b := func(v bool) int64 {
		if v {
			return 1
		}
		return 0
	}
	cmds = append(cmds,
		&command{name: "t.url", kind: targetTracker, fn: func(_ *call, t target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
			return xmlrpc.NewString(t.d.trackers[t.index].url), nil
		}},
		&command{name: "t.id", kind: targetTracker, fn: func(_ *call, _ target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
			return emptyStr, nil
		}},
	)
	getInt("t.type", (*trackerEntry).trackerType)
	getInt("t.is_enabled", func(tr *trackerEntry) int64 { return b(tr.enabled) })
	getInt("t.is_usable", func(tr *trackerEntry) int64 { return b(tr.enabled) })
	getInt("t.is_busy", func(tr *trackerEntry) int64 { return b(tr.busy) })
	getInt("t.is_open", func(tr *trackerEntry) int64 { return b(tr.busy) })
	getInt("t.is_extra_tracker", func(tr *trackerEntry) int64 { return b(tr.extra) })
	getInt("t.can_scrape", func(tr *trackerEntry) int64 { return b(tr.trackerType() == 1) })
	getInt("t.group", func(tr *trackerEntry) int64 { return int64(tr.group) })
	getInt("t.scrape_complete", func(tr *trackerEntry) int64 { return tr.scrapeComplete })
	getInt("t.scrape_incomplete", func(tr *trackerEntry) int64 { return tr.scrapeIncomplete })
	getInt("t.scrape_downloaded", func(*trackerEntry) int64 { return 0 })
	getInt("t.scrape_time_last", func(tr *trackerEntry) int64 { return tr.scrapeTime })
	getInt("t.scrape_counter", func(*trackerEntry) int64 { return 0 })
	getInt("t.success_counter", func(tr *trackerEntry) int64 { return tr.successCount })
	getInt("t.failed_counter", func(tr *trackerEntry) int64 { return tr.failedCount })
	getInt("t.success_time_last", func(tr *trackerEntry) int64 { return tr.successTime })
	getInt("t.failed_time_last", func(tr *trackerEntry) int64 { return tr.failedTime })
	getInt("t.success_time_next", func(tr *trackerEntry) int64 { return tr.nextTime })
	getInt("t.failed_time_next", func(tr *trackerEntry) int64 { return tr.nextTime })
	getInt("t.activity_time_last", func(tr *trackerEntry) int64 { return max(tr.successTime, tr.failedTime) })
	getInt("t.activity_time_next", func(tr *trackerEntry) int64 { return tr.nextTime })
	getInt("t.normal_interval", func(tr *trackerEntry) int64 { return tr.normalInterval })
	getInt("t.min_interval", func(tr *trackerEntry) int64 { return tr.minInterval })
	getInt("t.latest_event", func(tr *trackerEntry) int64 { return tr.latestEvent })
	getInt("t.latest_new_peers", func(tr *trackerEntry) int64 { return tr.latestNewPeers })
	getInt("t.latest_sum_peers", func(tr *trackerEntry) int64 { return tr.latestSumPeers })

	setEnabled := func(c *call, t target, on bool) {
		t.d.trackers[t.index].enabled = on
		c.e.markDirty(t.d)
		c.e.startAnnouncer(t.d)
	}
	cmds = append(cmds,
		&command{name: "t.enable", kind: targetTracker, fn: func(c *call, t target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
			setEnabled(c, t, true)
			return zero, nil
		}},
		&command{name: "t.disable", kind: targetTracker, fn: func(c *call, t target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
			setEnabled(c, t, false)
			return zero, nil
		}},
		&command{name: "t.is_enabled.set", kind: targetTracker, fn: func(c *call, t target, args []xmlrpc.Value) (xmlrpc.Value, error) {
			n, err := valueArg(args)
			if err != nil {
				return xmlrpc.Value{}, err
			}
			setEnabled(c, t, n != 0)
			return zero, nil
		}},
		// d.tracker.insert(HASH, group, url) adds a tracker, as Flood's
		// tracker editor does after disabling the old ones.
		&command{name: "d.tracker.insert", kind: targetDownload, fn: func(c *call, t target, args []xmlrpc.Value) (xmlrpc.Value, error) {
			if len(args) < 2 {
				return xmlrpc.Value{}, errWrongType
			}
			group, err := toValue(args[0])
			if err != nil {
				return xmlrpc.Value{}, err
			}
			if args[1].Kind() != xmlrpc.String {
				return xmlrpc.Value{}, errWrongType
			}
			if group < 0 || group > 32 {
				return xmlrpc.Value{}, errInvalidValue
			}
			u := args[1].String()
			if isTrackerURL(u) {
				tr := newTracker(u, int(group))
				tr.extra = true
				t.d.trackers = append(t.d.trackers, tr)
				sortTrackers(t.d.trackers)
				c.e.markDirty(t.d)
				c.e.startAnnouncer(t.d)
			}
			return zero, nil
		}},
		&command{name: "d.tracker_announce", kind: targetDownload, fn: func(_ *call, t target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
			if r := t.d.run; r != nil && r.kick != nil {
				select {
				case r.kick <- struct{}{}:
				default:
				}
			}
			return zero, nil
		}},
		&command{name: "d.tracker_size", kind: targetDownload, fn: func(_ *call, t target, _ []xmlrpc.Value) (xmlrpc.Value, error) {
			return xmlrpc.NewInt(int64(len(t.d.trackers))), nil
		}},
	)
	return cmds
}

// sortTrackers orders trackers by group, keeping the order within each,
// which is the index order of t.multicall.
func sortTrackers(trs []*trackerEntry) {
	for i := 1; i < len(trs); i++ {
		for j := i; j > 0 && trs[j].group < trs[j-1].group; j-- {
			trs[j], trs[j-1] = trs[j-1], trs[j]
		}
	}
}

// trackersFromAnnounceList makes a download's tracker list from a
// metainfo's or magnet's tiers.
func trackersFromAnnounceList(tiers [][]string) []*trackerEntry {
	var out []*trackerEntry
	group := 0
	for _, tier := range tiers {
		added := false
		for _, u := range tier {
			if isTrackerURL(u) {
				out = append(out, newTracker(u, group))
				added = true
			}
		}
		if added {
			group++
		}
	}
	return out
}
