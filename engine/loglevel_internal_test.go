package engine

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestMinLevelDemotesDHTBootstrapErrors(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(minLevel{slog.NewTextHandler(&buf, nil), slog.LevelWarn})
	log.Info("chatter")
	log.Error("error bootstrapping during bucket refresh: getting starting nodes: nothing resolved")
	log.Error("storage failed")
	got := buf.String()
	if strings.Contains(got, "chatter") {
		t.Errorf("info passed the Warn floor:\n%s", got)
	}
	if !strings.Contains(got, `level=WARN msg="error bootstrapping`) {
		t.Errorf("bootstrap failure not demoted to WARN:\n%s", got)
	}
	if !strings.Contains(got, `level=ERROR msg="storage failed"`) {
		t.Errorf("a real error was not kept at ERROR:\n%s", got)
	}
}
