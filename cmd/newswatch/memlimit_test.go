package main

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime/debug"
	"testing"

	"github.com/newswatch/newswatch/config"
)

func TestMemoryLimit(t *testing.T) {
	tests := []struct {
		name string
		set  func(*config.Config)
		want int64
	}{
		{"default: pipeline ceiling plus headroom", func(*config.Config) {}, 32<<20 + 3*10<<20 + memoryHeadroom},
		{"follows the pipeline budget", func(c *config.Config) { c.Ingest.MaxBytesInFlight = 16 << 20 }, 16<<20 + 3*10<<20 + memoryHeadroom},
		{"follows the body limit", func(c *config.Config) { c.Fetch.MaxBodyBytes = 1 << 20 }, 32<<20 + 3<<20 + memoryHeadroom},
		{"set", func(c *config.Config) { c.MemoryLimit = 1 << 30 }, 1 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse([]byte("data_dir: x\n"), "test.yaml")
			if err != nil {
				t.Fatal(err)
			}
			tt.set(cfg)
			if got := memoryLimit(cfg); got != tt.want {
				t.Errorf("memoryLimit = %d, want %d", got, tt.want)
			}
		})
	}
}

// The config's limit is applied to the runtime, and GOMEMLIMIT, the operator's usual knob, wins
// over it.
func TestApplyMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg, err := config.Parse([]byte("data_dir: x\nmemory_limit: 300000000\n"), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}

	t.Setenv("GOMEMLIMIT", "")
	if got := applyMemoryLimit(cfg, log); got != 300_000_000 {
		t.Errorf("applyMemoryLimit = %d, want 300000000", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 300_000_000 {
		t.Errorf("runtime memory limit = %d, want 300000000", got)
	}

	debug.SetMemoryLimit(123 << 20) // what the runtime read from GOMEMLIMIT at start
	t.Setenv("GOMEMLIMIT", "123MiB")
	if got := applyMemoryLimit(cfg, log); got != 123<<20 {
		t.Errorf("with GOMEMLIMIT: applyMemoryLimit = %d, want %d", got, 123<<20)
	}
	if got := debug.SetMemoryLimit(-1); got != 123<<20 {
		t.Errorf("with GOMEMLIMIT: runtime memory limit = %d, want it left at %d", got, 123<<20)
	}
}

func TestMaxLiveHeap(t *testing.T) {
	tests := []struct {
		name  string
		set   int64
		limit int64
		want  int64
	}{
		{"default: three quarters of the limit", 0, 200 << 20, 150 << 20},
		{"no limit, no bound", 0, math.MaxInt64, 0},
		{"set", 150 << 20, 200 << 20, 150 << 20},
		{"set without a limit", 150 << 20, math.MaxInt64, 150 << 20},
		{"off", -1, 200 << 20, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse(fmt.Appendf(nil, "data_dir: x\ningest:\n  max_live_heap: %d\n", tt.set), "test.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if got := maxLiveHeap(cfg, tt.limit); got != tt.want {
				t.Errorf("maxLiveHeap = %d, want %d", got, tt.want)
			}
		})
	}
	if _, err := config.Parse([]byte("data_dir: x\ningest:\n  max_live_heap: -2\n"), "test.yaml"); err == nil {
		t.Error("max_live_heap: -2 was accepted")
	}
}
