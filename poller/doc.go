// Package poller polls a backend (rTorrent) into topics.
package poller
