package config

import (
	"os"
	"regexp"
	"testing"
	_ "time/tzdata" // the docs use CRON_TZ=Asia/Seoul; do not depend on the host's zoneinfo
)

// TestDocsExamples keeps docs/config.md honest: every YAML block in it must
// be a valid config.
func TestDocsExamples(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) < 2 {
		t.Fatalf("found %d yaml blocks in docs/config.md, want the full example and more", len(blocks))
	}
	for i, b := range blocks {
		if _, err := Parse(b[1], "docs/config.md"); err != nil {
			t.Errorf("yaml block %d in docs/config.md is not a valid config:\n%v", i+1, err)
		}
	}
}
