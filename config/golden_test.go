package config

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// TestErrorsGolden pins the full error output for testdata/errors.yaml, the
// example shown in docs/config.md.
func TestErrorsGolden(t *testing.T) {
	_, err := Load("testdata/errors.yaml")
	if err == nil {
		t.Fatal("testdata/errors.yaml loaded without errors")
	}
	got := err.Error() + "\n"
	const golden = "testdata/errors.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("errors for testdata/errors.yaml:\n%s\nwant (%s, rerun with -update to accept):\n%s", got, golden, want)
	}

	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	input, err := os.ReadFile("testdata/errors.yaml")
	if err != nil {
		t.Fatal(err)
	}
	shown := strings.ReplaceAll(string(want), "testdata/errors.yaml", "newswatch.yaml")
	for _, block := range []string{string(input), shown} {
		if !strings.Contains(string(doc), "```text\n"+block+"```") {
			t.Errorf("docs/config.md does not show this text block; update the error example:\n%s", block)
		}
	}
}
