package config

import "time"

// Ingest sizes the ingest pipeline (docs/architecture.md, "The ingest pipeline"). Zero means
// the default; every limit is a bound on memory or goroutines, not a target.
type Ingest struct {
	// Workers parse and normalize documents; default the number of usable CPUs (GOMAXPROCS).
	Workers int `yaml:"workers"`
	// FetchConcurrency caps fetches in flight across all hosts; default 16.
	FetchConcurrency int `yaml:"fetch_concurrency"`
	// MaxBytesInFlight is the memory budget for fetched bodies, the parse working set and
	// articles waiting to be stored; default 32 MiB.
	MaxBytesInFlight int64 `yaml:"max_bytes_in_flight"`
	// MaxCommitPolls caps the polls one group commit stores; default 256.
	MaxCommitPolls int `yaml:"max_commit_polls"`
	// CommitLinger is how long the first poll of a group commit may wait for others to join
	// it; default 200ms, at most 5s.
	CommitLinger time.Duration `yaml:"commit_linger"`
	// MaxLiveHeap is the Go heap's live bytes above which polls wait at the memory gate
	// (feeds/heap.go); 0: three quarters of the soft memory limit in force, -1: no such bound.
	MaxLiveHeap int64 `yaml:"max_live_heap"`
}

// maxCommitLinger bounds ingest.commit_linger: a poll's articles and outcome wait at most that
// long before they are stored.
const maxCommitLinger = 5 * time.Second

func (v *validator) ingest() {
	in := v.c.Ingest
	for _, k := range []struct {
		path string
		n    int64
	}{
		{"ingest.workers", int64(in.Workers)}, {"ingest.fetch_concurrency", int64(in.FetchConcurrency)},
		{"ingest.max_bytes_in_flight", in.MaxBytesInFlight}, {"ingest.max_commit_polls", int64(in.MaxCommitPolls)},
	} {
		if k.n < 0 {
			v.errorf(k.path, "must not be negative (0 means the default), got %d", k.n)
		}
	}
	if v.c.MemoryLimit < 0 {
		v.errorf("memory_limit", "must not be negative (0 derives it from the pipeline's ceiling), got %d", v.c.MemoryLimit)
	} else if v.c.MemoryLimit > 0 && v.c.MemoryLimit < 64<<20 {
		v.errorf("memory_limit", "must be at least 67108864 (64 MiB), got %d", v.c.MemoryLimit)
	}
	if in.MaxLiveHeap < -1 {
		v.errorf("ingest.max_live_heap", "must be -1 (no bound), 0 (the default) or a number of bytes, got %d", in.MaxLiveHeap)
	}
	v.nonNegative("ingest.commit_linger", in.CommitLinger)
	if in.CommitLinger > maxCommitLinger {
		v.errorf("ingest.commit_linger", "must be at most %s, got %s", maxCommitLinger, in.CommitLinger)
	}
	if in.MaxBytesInFlight > 0 && in.MaxBytesInFlight < 1<<20 {
		v.errorf("ingest.max_bytes_in_flight", "must be at least 1048576 (1 MiB), got %d", in.MaxBytesInFlight)
	}
}
