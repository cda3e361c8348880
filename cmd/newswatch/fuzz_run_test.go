package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// fuzzTargets are the fuzz targets over untrusted input: feeds, URLs, queries, configs and
// the headers receivers and servers send.
var fuzzTargets = []struct{ pkg, target string }{
	{"../../feeds/normalize", "FuzzParseNormalize"},
	{"../../feeds/normalize", "FuzzCanonicalURL"},
	{"../../feeds/fetch", "FuzzParseRetryAfter"},
	{"../../topics", "FuzzParse"},
	{"../../config", "FuzzParse"},
	{"../../alerts/webhook", "FuzzVerify"},
	{"../../feeds/opml", "FuzzParse"},
	{"../../feeds/fulltext", "FuzzExtract"},
}

// TestFuzzBriefly runs each fuzz target with the fuzzing engine for $NEWSWATCH_FUZZTIME (the
// README's test command sets 2s), so that the test command fuzzes too; without it a run
// replays the seeds and testdata/fuzz only, and this test says so. The fuzzing binaries are
// built with coverage instrumentation: about 3 minutes on a 2-core machine with a cold build
// cache, seconds with a warm one. A failure leaves its input in the package's
// testdata/fuzz/<target>/, where it stays as a regression test. Longer campaigns:
//
//	go test -run='^$' -fuzz='^FuzzParseNormalize$' -fuzztime=10m ./feeds/normalize
func TestFuzzBriefly(t *testing.T) {
	fuzzTime := os.Getenv("NEWSWATCH_FUZZTIME")
	if fuzzTime == "" {
		t.Skip("set NEWSWATCH_FUZZTIME=2s to run each fuzz target for that long; the seeds ran as tests")
	}
	if _, err := time.ParseDuration(fuzzTime); err != nil {
		t.Fatalf("NEWSWATCH_FUZZTIME=%q: %v", fuzzTime, err)
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, f := range fuzzTargets {
		start := time.Now()
		var out []byte
		var err error
		for attempt := 1; attempt <= 2; attempt++ {
			cmd := exec.CommandContext(t.Context(), gobin, "test", "-run=^$", "-fuzz=^"+f.target+"$",
				"-fuzztime="+fuzzTime, "-parallel=2", f.pkg)
			out, err = cmd.CombinedOutput()
			// The fuzzing engine itself can end a short run with "context deadline exceeded"
			// and no failing input when a worker does not stop in time on a loaded machine;
			// that run found nothing, so it is run again. A real failure writes its input.
			if err == nil || !engineTimeout(out) {
				break
			}
			t.Logf("%s %s: the fuzzing engine timed out stopping (no failing input); running it again", f.pkg, f.target)
		}
		if err != nil {
			t.Errorf("%s %s: %v\n%s", f.pkg, f.target, err, out)
			continue
		}
		t.Logf("%s %s fuzzed for %s (%s with building and seeds)", f.pkg, f.target, fuzzTime, time.Since(start).Round(time.Second))
	}
}

// engineTimeout reports whether a fuzzing run failed only because the engine's own deadline
// passed while stopping: no input failed.
func engineTimeout(out []byte) bool {
	return bytes.Contains(out, []byte("context deadline exceeded")) && !bytes.Contains(out, []byte("Failing input written"))
}
