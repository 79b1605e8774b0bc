package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtgate/rtgate/rtorrent/rtorrenttest"
)

func runMain(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	err := NewMain(&out, &out).Run(ctx, args)
	return out.String(), err
}

func TestInfoAndCallAgainstRTorrent(t *testing.T) {
	rt := rtorrenttest.Start(t, nil)

	out, err := runMain(t, "-rtorrent", rt.Addr(), "info")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "rtorrent 0.9.8 at "+rt.Addr()+", ") || !strings.Contains(out, " methods") {
		t.Errorf("info printed %q", out)
	}

	// load.raw with @file sends the file as base64; the empty target is an
	// explicit '' argument, as in rtxmlrpc.
	tr := rtorrenttest.MakeTorrentBytes(t, "from-cli.bin", 5000)
	file := filepath.Join(t.TempDir(), "x.torrent")
	if err := os.WriteFile(file, tr.Bytes, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runMain(t, "-rtorrent", rt.Addr(), "call", "load.raw", "", "@"+file, "d.custom1.set=cli"); err != nil || out != "0\n" {
		t.Fatalf("load.raw: %q, %v", out, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err = runMain(t, "-rtorrent", rt.Addr(), "call", "d.multicall2", "", "main", "d.hash=", "d.size_bytes=", "d.custom1=")
		if err != nil {
			t.Fatal(err)
		}
		if want := `[["` + tr.Hash + `", 5000, "cli"]]` + "\n"; out == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("d.multicall2 printed %q", out)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// A fault is an error naming the method and rTorrent's message.
	_, err = runMain(t, "-rtorrent", rt.Addr(), "call", "no.such.method")
	if err == nil || !strings.Contains(err.Error(), "no.such.method") || !strings.Contains(err.Error(), "-506") {
		t.Errorf("unknown method: %v", err)
	}
}

func TestRunStopsWithItsContext(t *testing.T) {
	rt := rtorrenttest.Start(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() { done <- NewMain(&out, &out).Run(ctx, []string{"-rtorrent", rt.Addr(), "run"}) }()

	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "rtorrent connected") {
		if time.Now().After(deadline) {
			t.Fatalf("run never reported the connection; log:\n%s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "version=0.9.8") {
		t.Errorf("log does not name the version:\n%s", out.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return after its context ended")
	}
}
