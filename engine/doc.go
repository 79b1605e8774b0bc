// Package engine is rtgate's embedded BitTorrent engine: an in-process
// client, built on github.com/anacrolix/torrent, that answers rTorrent's
// XML-RPC methods.
package engine
