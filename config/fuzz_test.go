package config

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// FuzzParse checks that no input crashes Parse, and that its results keep
// their promises: a config that parses also validates and redacts, and
// every problem names the file and says something.
func FuzzParse(f *testing.F) {
	f.Add(defaultYAML)
	if full, err := os.ReadFile("testdata/full.yaml"); err == nil {
		f.Add(full)
	}
	for _, s := range []string{
		"",
		"{}",
		"feeds:\n  - id: a\n    url: https://a.example/\n    schedule: '@every 1s'\n",
		"nats: &n\n  <<: *n\n",
		"feeds: &f\n  - *f\n",
		"feeds:\n - &b {id: a, url: 'file:///x'}\n - <<: [*b]\n   id: b\n",
		"topics:\n  - id: t\n    query: q\n    examples:\n      match: [{text: x}, {file: nope}]\n",
		"alerts: [{topic: t, threshold: .inf, window: -1h, schedule: 'TZ=UTC'}]\n",
		"notify: [{type: slack, url: 'https://u:p@x/?token=1'}]\n",
		"data_dir: [x\n",
		"a: 1\n---\nb: 2\n",
		"%YAML 1.1\n---\n!!map {? a : b}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "f.yaml")
		if err != nil {
			if c != nil {
				t.Fatal("Parse returned a config and an error")
			}
			var es Errors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("Parse error %T is not a non-empty Errors", err)
			}
			for _, e := range es {
				if e.File != "f.yaml" || strings.TrimSpace(e.Msg) == "" || e.Line < 0 || e.Col < 0 {
					t.Fatalf("malformed problem %#v", e)
				}
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that Validate rejects:\n%v", err)
		}
		_ = c.Redacted()
	})
}
