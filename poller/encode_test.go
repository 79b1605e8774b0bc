package poller_test

import (
	"testing"

	"github.com/rtgate/rtgate/poller"
)

func TestAppendRatio(t *testing.T) {
	tests := []struct {
		perMille int64
		want     string
	}{
		{0, "0"}, {1, "0.001"}, {999, "0.999"}, {1000, "1"}, {1500, "1.5"},
		{123456, "123.456"}, {-1, "-0.001"}, {7, "0.007"}, {1 << 40, "1099511627.776"},
	}
	for _, tt := range tests {
		if got := string(poller.AppendRatio(nil, tt.perMille)); got != tt.want {
			t.Errorf("ratio %d = %s, want %s", tt.perMille, got, tt.want)
		}
	}
}
