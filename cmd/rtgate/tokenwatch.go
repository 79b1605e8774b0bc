package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/fsnotify/fsnotify"
)

// readTokenFile returns the trimmed content of a token file, which must not
// be empty.
func readTokenFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("auth.token_file: %w", err)
	}
	t := strings.TrimSpace(string(data))
	if t == "" {
		return "", fmt.Errorf("auth.token_file: %s is empty", path)
	}
	return t, nil
}

// watchTokenFile hands set every new token written to path, until ctx
// ends, so that a token is rotated without a restart. It watches path's
// directory and re-reads the file on any event there: editors replace a
// file by renaming another over it, and secret stores swap a symlinked
// directory, neither of which a watch on the file itself survives. A
// file that cannot be read, or is empty, keeps the current token.
func watchTokenFile(ctx context.Context, path, current string, log *slog.Logger, set func(string)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("auth.token_file: watch: %w", err)
	}
	defer w.Close()
	if err := w.Add(filepath.Dir(path)); err != nil {
		return fmt.Errorf("auth.token_file: watch: %w", err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			log.Warn("auth.token_file: watch", "err", err)
		case _, ok := <-w.Events:
			if !ok {
				return nil
			}
			tok, err := readTokenFile(path)
			switch {
			case err != nil:
				log.Warn("keeping the current token", "err", err)
			case tok != current:
				current = tok
				set(tok)
				log.Info("auth token rotated", "file", path)
			}
		}
	}
}
