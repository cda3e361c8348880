package events

import (
	"os"
	"strings"
	"testing"
)

// Every stream and bucket the code creates is in docs/events.md or docs/architecture.md, and
// every event stream in both.
func TestStreamsAreDocumented(t *testing.T) {
	events, err := os.ReadFile("../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	arch, err := os.ReadFile("../docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range streamConfigs(1) {
		for name, doc := range map[string][]byte{"docs/events.md": events, "docs/architecture.md": arch} {
			if !strings.Contains(string(doc), "`"+s.Name+"`") {
				t.Errorf("%s does not mention stream %s", name, s.Name)
			}
		}
		for _, subj := range s.Subjects {
			prefix := strings.TrimSuffix(subj, "*")
			if !strings.Contains(string(events), "`"+prefix) {
				t.Errorf("docs/events.md does not list subject %s of %s", subj, s.Name)
			}
		}
	}
	for _, b := range []string{ProjectionBucket, SnapshotObjectBucket} {
		if !strings.Contains(string(arch), b) {
			t.Errorf("docs/architecture.md does not mention bucket %s", b)
		}
	}
}
