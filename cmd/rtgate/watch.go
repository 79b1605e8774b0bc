package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/rtgate/rtgate/client"
)

// watch prints a topic's messages as they come, one line each, resuming
// across dropped connections: the snapshot first, then every change.
func (m *Main) watch(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("rtgate watch", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	url := fs.String("url", "", "WebSocket `URL` of rtgate (default ws://<listen.http>/ws)")
	fs.Usage = func() {
		fmt.Fprintf(m.Stderr, "Usage: rtgate [flags] watch [-url URL] TOPIC\n\nTopics: torrents, torrent.<HASH>, torrent.<HASH>.files|.peers|.trackers, transfer, events, backend\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("watch: name one topic")
	}
	topic := fs.Arg(0)
	if *url == "" {
		if m.Config.Listen.HTTP == "" {
			return errors.New("watch: listen.http is off; pass -url ws://host:port/ws")
		}
		*url = "ws://" + m.Config.Listen.HTTP + "/ws"
	}
	token, err := m.token()
	if err != nil {
		return err
	}
	err = client.Watch(ctx, *url, &client.Options{Token: token}, topic, &client.WatchOptions{
		OnReconnect: func(err error, wait time.Duration) {
			m.Logger.Warn("connection lost; resuming", "err", err, "retry_in", wait.Round(time.Millisecond))
		},
	}, func(msg client.Message) error {
		line := fmt.Sprintf("%s %s %s:%d", time.Now().Format("15:04:05.000"), msg.Kind, msg.Epoch, msg.Seq)
		if msg.Recovered != nil {
			line += fmt.Sprintf(" recovered=%v", *msg.Recovered)
		}
		if len(msg.Data) > 0 {
			line += " " + strings.TrimSpace(string(msg.Data))
		}
		if msg.Error != "" {
			line += " error=" + msg.Error
		}
		_, err := fmt.Fprintln(m.Stdout, line)
		return err
	})
	if err != nil {
		return fmt.Errorf("watch %s: %w", topic, err)
	}
	return nil
}
