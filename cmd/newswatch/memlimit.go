package main

import (
	"log/slog"
	"math"
	"os"
	"runtime/debug"

	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/feeds"
)

// memoryHeadroom is what the daemon needs besides the ingest pipeline's bytes in flight: the
// embedded server's block caches and indexes, the id cache, the projections, the runtime's own.
const memoryHeadroom = 160 << 20

// memoryLimit is the Go runtime's soft memory limit for cfg: memory_limit when set, else the
// ingest pipeline's ceiling (ingest.max_bytes_in_flight + 3 × fetch.max_body_bytes) plus
// memoryHeadroom. Without a limit the collector lets the heap grow to twice what is live
// before it runs, and most of what the daemon allocates is short-lived (fetched bodies, the
// embedded server's block buffers for each atomic batch): the limit makes it collect before
// that garbage doubles the process's size. It is soft: a live heap above it is still served,
// at the cost of more collector CPU (capped by the runtime at about half).
func memoryLimit(cfg *config.Config) int64 {
	if cfg.MemoryLimit > 0 {
		return cfg.MemoryLimit
	}
	budget := cfg.Ingest.MaxBytesInFlight
	if budget <= 0 {
		budget = feeds.DefaultMaxBytesInFlight
	}
	return budget + 3*cfg.Fetch.MaxBodyBytes + memoryHeadroom
}

// applyMemoryLimit sets the runtime's soft memory limit from cfg, unless the GOMEMLIMIT
// environment variable already set one (GOMEMLIMIT=off removes it). It returns the limit in
// force, or -1 when there is none.
func applyMemoryLimit(cfg *config.Config, log *slog.Logger) int64 {
	if env := os.Getenv("GOMEMLIMIT"); env != "" {
		limit := debug.SetMemoryLimit(-1) // reads the limit without changing it
		log.Info("memory limit from GOMEMLIMIT", "component", "runtime", "GOMEMLIMIT", env, "bytes", limit)
		if env == "off" {
			return -1
		}
		return limit
	}
	limit := memoryLimit(cfg)
	debug.SetMemoryLimit(limit)
	log.Info("memory limit", "component", "runtime", "bytes", limit)
	return limit
}

// maxLiveHeap is the live heap above which the ingest pipeline holds polls back at its memory
// gate (ingest.max_live_heap), given the soft memory limit in force: by default three quarters
// of it, so that the collector keeps a quarter of the limit to work in (at four fifths it ran
// every 40–60 ms while the gate held the heap at the bound, and the 10,000-feed cold ingest
// peaked at 296–298 MB, too near the 300 MB its goal allows); no bound without a limit.
// The embedded server keeps the blocks written in its last ten seconds cached whenever a
// reader follows the stream (the matcher does), so its share of the heap grows with the
// rate of ingest, outside the pipeline's budget; without the bound a fast cold ingest of
// 10,000 feeds held more live than the limit and the collector ran without pause.
func maxLiveHeap(cfg *config.Config, limit int64) int64 {
	switch {
	case cfg.Ingest.MaxLiveHeap > 0:
		return cfg.Ingest.MaxLiveHeap
	case cfg.Ingest.MaxLiveHeap < 0 || limit <= 0 || limit == math.MaxInt64:
		return 0
	}
	return limit / 4 * 3
}
