// Package topics fans out named streams of changes from producers to
// subscribers: each subscriber gets a snapshot, then every change in
// order, and can resume after a reconnect without missing or repeating
// one.
//
// Data flows one way: the poller registers a Factory that makes one
// Producer per topic name; the gateway gives each connection a Subscriber
// and writes what its Next returns. This package imports no other rtgate
// package.
//
// # Streams
//
// A topic's stream is a run of changes numbered 1, 2, 3, … (seq) within an
// epoch, a random string made when the producer starts and again on
// Topic.Reset. A Position (epoch, seq) names a point in it. Producers
// publish with Topic.Update, which runs a function with the topic locked;
// snapshots are taken with the same lock held, so a snapshot at seq N
// followed by changes N+1, N+2, … is exactly the producer's state, with no
// gap and no duplicate. Data is encoded once and the same bytes go to
// every subscriber.
//
// Each topic keeps a bounded history of its latest changes
// (Options.History, Options.HistoryBytes). Subscribe with the position a
// client last saw either replays exactly the changes after it (Recovered
// set on the first message, or a Resumed message when there are none) or,
// when that is impossible, sends a Snapshot with Recovered false: never a
// partial replay.
//
// # Lifecycle
//
// A topic's producer runs from its first subscriber until it has had none
// for Options.Linger (so a quick reconnect finds the same epoch and
// history), or until Hub.Close. A producer whose Run returns on its own
// ends the topic: its subscribers get an Ended message.
//
// # Slow subscribers
//
// Publishing never waits for a subscriber. Each subscriber's queue of live
// changes is bounded (Options.QueueBytes); one that would overflow is
// closed with ReasonSlow, and its *CloseError holds, per topic, the
// position its client is at, from which it can resume exactly. Snapshots
// are not queued: one is made when Next reaches it (and shared between
// subscribers that ask at the same position), so a big snapshot neither
// overflows a queue nor sits in memory per subscriber.
//
// # Topic names
//
// The hub treats names as opaque but accepts only 1 to 200 bytes of
// printable ASCII without spaces. The producers' conventions are:
//
//	torrents                  the torrent list
//	torrent.<HASH>            one torrent's details
//	torrent.<HASH>.files      its files
//	torrent.<HASH>.peers      its peers
//	torrent.<HASH>.trackers   its trackers
//	transfer                  global rates and totals
//	events                    backend events (a torrent finished, …)
//	backend                   the backend's health and version
//
// # Concurrency
//
// Hub, Topic and Subscriber methods are safe for concurrent use, with two
// rules: a Subscriber's Next is for one goroutine at a time, and nothing
// may call back into the hub from inside an Update or Reset function,
// Producer.Snapshot or the Factory.
package topics
