package main

import (
	"strings"
	"testing"
)

// check prints every problem at once: a query syntax error and a failing example are reported
// next to the file's other problems, not only once those are fixed.
func TestCheckReportsEveryProblemAtOnce(t *testing.T) {
	bad := writeFile(t, "all.yaml", `feeds:
  - id: a
    url: https://example.org/a.xml
    shedule: "@every 5m"
topics:
  - id: broken
    query: 'a AND (b OR'
  - id: strict
    query: 'dprk AND kremlin'
    examples:
      match:
        - {name: talks, title: "DPRK and Russia", text: "Talks in Moscow."}
  - id: strict
    query: 'x'
  - id: empty
    query: ''
`)
	code, _, stderr := run(t, "check", "--config", bad)
	if code != exitUsage {
		t.Fatalf("exit %d, want 2; stderr %q", code, stderr)
	}
	for _, want := range []string{
		bad + `:4:5: unknown key "shedule"`,
		bad + `:7:24: topics[0].query: topic "broken": column 12: expected term`,
		bad + `:12:11: topics[1].examples.match[0]: topic "strict": example "talks" must match the query but does not`,
		`duplicate topic id "strict"`,
		bad + `:16:12: topics[3].query: must not be empty`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if n := strings.Count(stderr, "strict"); n != 2 {
		t.Errorf("%d lines about topic strict, want 2 (the example and the duplicate):\n%s", n, stderr)
	}
	if strings.Contains(stderr, "empty query") {
		t.Errorf("the empty query is reported twice:\n%s", stderr)
	}
}
