package normalize

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// TestFuzzBriefly runs each fuzz target of this package with the fuzzing engine for
// $NEWSWATCH_FUZZTIME (say 4s), so that a test run fuzzes too; without it, a test run replays
// the seeds (the whole feed corpus, and testdata/fuzz) only. It is opt-in because the fuzzing
// binary is built with coverage instrumentation of every package, the standard library
// included: about 3 minutes on a 2-core machine with a cold build cache, 10 s with a warm
// one. A failure leaves its input in testdata/fuzz/<target>/, where it stays as a regression
// test. Longer campaigns:
//
//	go test -run='^$' -fuzz='^FuzzParseNormalize$' -fuzztime=10m ./feeds/normalize
func TestFuzzBriefly(t *testing.T) {
	fuzzTime := os.Getenv("NEWSWATCH_FUZZTIME")
	if fuzzTime == "" {
		t.Skip("set NEWSWATCH_FUZZTIME=4s to run each fuzz target for that long; the seeds ran as tests")
	}
	if _, err := time.ParseDuration(fuzzTime); err != nil {
		t.Fatalf("NEWSWATCH_FUZZTIME=%q: %v", fuzzTime, err)
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, target := range []string{"FuzzParseNormalize", "FuzzCanonicalURL"} {
		start := time.Now()
		cmd := exec.CommandContext(t.Context(), gobin, "test", "-run=^$", "-fuzz=^"+target+"$",
			"-fuzztime="+fuzzTime, "-parallel=2", ".")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: %v\n%s", target, err, out)
			continue
		}
		t.Logf("%s fuzzed for %s (%s with building and seeds)", target, fuzzTime, time.Since(start).Round(time.Second))
	}
}
