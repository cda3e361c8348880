package config

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// problems parses src as "t.yaml" and returns the formatted problems, one
// per element, in the order Errors.Error prints them.
func problems(t *testing.T, src string) []string {
	t.Helper()
	c, err := Parse([]byte(src), "t.yaml")
	if err == nil {
		if c == nil {
			t.Fatal("Parse returned neither a config nor an error")
		}
		return nil
	}
	if c != nil {
		t.Errorf("Parse returned a config together with an error")
	}
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Parse error is %T, want Errors", err)
	}
	return strings.Split(err.Error(), "\n")
}

// checkProblems runs table cases of YAML snippets and their exact problems.
func checkProblems(t *testing.T, tests []struct {
	name, src string
	want      []string
}) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, tt.src)
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}

func TestParseDocumentErrors(t *testing.T) {
	checkProblems(t, []struct {
		name, src string
		want      []string
	}{
		{"empty", "", []string{"t.yaml: config is empty; see docs/config.md for the keys it takes"}},
		{"comments only", "# nothing\n\n", []string{"t.yaml: config is empty; see docs/config.md for the keys it takes"}},
		{"document marker only", "---\n", []string{"t.yaml: config is empty; see docs/config.md for the keys it takes"}},
		{"null", "~\n", []string{"t.yaml: config is empty; see docs/config.md for the keys it takes"}},
		{"syntax error", "nats:\n  url: [x\n", []string{"t.yaml:2: invalid YAML: did not find expected ',' or ']'"}},
		{"end of input", "data_dir: [x", []string{"t.yaml:1: invalid YAML: did not find expected ',' or ']'"}},
		{"unterminated quote", "data_dir: 'x\n", []string{"t.yaml:1: invalid YAML: found unexpected end of stream"}},
		{"key outside mapping", "nats:\n  url: x\n listen: y\n", []string{"t.yaml:3: invalid YAML: did not find expected key"}},
		{"bad indentation", "nats:\n  url: x\n   listen: y\n", []string{"t.yaml:3: invalid YAML: mapping values are not allowed in this context"}},
		{"unknown anchor", "data_dir: *x\n", []string{"t.yaml:1:11: invalid YAML: unknown anchor 'x' referenced"}},
		{"second document", "data_dir: a\n---\ndata_dir: b\n", []string{"t.yaml:2:1: a second YAML document starts here; a config file holds exactly one"}},
		{"top-level list", "- a\n", []string{"t.yaml:1:1: expected a mapping of config keys at the top level, found a list"}},
		{"top-level scalar", "hello\n", []string{`t.yaml:1:1: expected a mapping of config keys at the top level, found "hello"`}},
	})
}

func TestParseTrailingEmptyDocument(t *testing.T) {
	if got := problems(t, "data_dir: a\n---\n"); got != nil {
		t.Errorf("problems = %q, want none", got)
	}
}

func TestParseUnknownKeys(t *testing.T) {
	checkProblems(t, []struct {
		name, src string
		want      []string
	}{
		{"top level with suggestion", "feed:\n  - id: a\n", []string{
			`t.yaml:1:1: unknown key "feed" (did you mean "feeds"?)`,
		}},
		{"nested with suggestion", "feeds:\n  - id: a\n    url: https://example.com/rss\n    shedule: '@every 5m'\n", []string{
			`t.yaml:4:5: unknown key "shedule" in feeds[0] (did you mean "schedule"?)`,
		}},
		{"without suggestion lists keys", "http:\n  port: 80\n", []string{
			`t.yaml:2:3: unknown key "port" in http (valid keys: listen, token, allowed_hosts)`,
		}},
		{"deep", "topics:\n  - id: t\n    query: q\n    examples:\n      match:\n        - txt: hi\n", []string{
			`t.yaml:6:11: unknown key "txt" in topics[0].examples.match[0] (did you mean "text"?)`,
			`t.yaml:6:11: topics[0].examples.match[0]: give either file or text`,
		}},
		{"non-string key", "nats:\n  [a]: b\n  replicas: 0\n", []string{
			"t.yaml:2:3: keys must be plain strings in nats",
			"t.yaml:3:13: nats.replicas: must be between 1 and 5, got 0",
		}},
		{"unsupported tag", "data_dir: !env HOME\n", []string{"t.yaml:1:11: data_dir: unsupported YAML tag !env"}},
	})
}

func TestParseDuplicateKeys(t *testing.T) {
	checkProblems(t, []struct {
		name, src string
		want      []string
	}{
		{"top level", "data_dir: a\nhttp: {}\ndata_dir: b\n", []string{
			`t.yaml:3:1: duplicate key "data_dir" (first defined at line 1)`,
		}},
		{"nested", "feeds:\n  - id: a\n    url: https://a.example/\n    id: b\n", []string{
			`t.yaml:4:5: duplicate key "id" in feeds[0] (first defined at line 2)`,
		}},
	})
}

func TestParseWrongTypes(t *testing.T) {
	checkProblems(t, []struct {
		name, src string
		want      []string
	}{
		{"string for int", "nats:\n  replicas: three\n", []string{`t.yaml:2:13: nats.replicas: expected an integer, found "three"`}},
		{"float for int", "nats:\n  replicas: 1.5\n", []string{`t.yaml:2:13: nats.replicas: expected an integer, found "1.5"`}},
		{"quoted int", "nats:\n  replicas: '3'\n", []string{`t.yaml:2:13: nats.replicas: expected an integer, found "3"`}},
		{"int overflow", "fetch:\n  max_body_bytes: 99999999999999999999\n", []string{`t.yaml:2:19: fetch.max_body_bytes: expected an integer, found "99999999999999999999"`}},
		{"yes is not a boolean", "fetch:\n  allow_private_networks: yes\n", []string{`t.yaml:2:27: fetch.allow_private_networks: expected true or false, found "yes"`}},
		{"bad duration", "fetch:\n  timeout: 5 minutes\n", []string{`t.yaml:2:12: fetch.timeout: expected a duration such as 90s or 5m, found "5 minutes"`}},
		{"bare number duration", "fetch:\n  timeout: 20\n", []string{`t.yaml:2:12: fetch.timeout: expected a duration such as 90s or 5m, found "20"`}},
		{"list for duration", "fetch:\n  timeout: [1s]\n", []string{`t.yaml:2:12: fetch.timeout: expected a duration such as 90s or 5m, found a list`}},
		{"word for number", "topics: [{id: t, query: q}]\nalerts:\n  - topic: t\n    threshold: high\n", []string{`t.yaml:4:16: alerts[0].threshold: expected a number, found "high"`}},
		{"list for string", "data_dir: [a, b]\n", []string{`t.yaml:1:11: data_dir: expected a string, found a list`}},
		{"scalar for mapping", "nats: nats://localhost:4222\n", []string{`t.yaml:1:7: nats: expected a mapping, found "nats://localhost:4222"`}},
		{"mapping for list", "feeds:\n  id: a\n", []string{`t.yaml:2:3: feeds: expected a list, found a mapping`}},
		{"scalar for list of strings", "fetch:\n  allow_networks: 10.0.0.0/8\n", []string{`t.yaml:2:19: fetch.allow_networks: expected a list, found "10.0.0.0/8"`}},
	})
}

// TestParseWrongTypeNotRevalidated checks that a value that failed to
// decode is reported once, not again by validation as missing or zero.
func TestParseWrongTypeNotRevalidated(t *testing.T) {
	checkProblems(t, []struct {
		name, src string
		want      []string
	}{
		{"required string", "feeds:\n  - id: a\n    url: [x]\n", []string{`t.yaml:3:10: feeds[0].url: expected a string, found a list`}},
		{"range", "nats:\n  replicas: many\n", []string{`t.yaml:2:13: nats.replicas: expected an integer, found "many"`}},
		{"whole entry", "feeds:\n  - just-a-string\n", []string{`t.yaml:2:5: feeds[0]: expected a mapping, found "just-a-string"`}},
	})
}

func TestParseScalarsAsStrings(t *testing.T) {
	c, err := Parse([]byte("feeds:\n  - id: 2024\n    name: true\n    url: https://a.example/\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if f := c.Feeds[0]; f.ID != "2024" || f.Name != "true" {
		t.Errorf("feed = %+v, want id \"2024\" and name \"true\"", f)
	}
}

func TestParseNullIsExplicitZero(t *testing.T) {
	c, err := Parse([]byte("nats:\n  listen:\nhttp:\n  listen: ~\nfetch:\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.NATS.Listen != "" || c.HTTP.Listen != "" {
		t.Errorf("listen = %q, %q; want both empty (explicit null)", c.NATS.Listen, c.HTTP.Listen)
	}
	if c.Fetch.Timeout != defaultTimeout {
		t.Errorf("fetch.timeout = %v, want the default %v under a null fetch", c.Fetch.Timeout, defaultTimeout)
	}
}

func TestParseAliases(t *testing.T) {
	src := `feeds:
  - &bbc
    id: bbc
    url: https://feeds.bbci.co.uk/news/world/rss.xml
    schedule: "@every 10m"
  - <<: *bbc
    id: bbc-again
  - <<: [{schedule: "@every 1h"}, *bbc]
    id: third
topics:
  - id: t
    query: q
notify:
  - type: webhook
    url: https://hooks.example/x
    topics: &all [t]
  - type: slack
    url: https://hooks.slack.com/services/x
    topics: *all
`
	c, err := Parse([]byte(src), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := []Feed{
		{ID: "bbc", URL: "https://feeds.bbci.co.uk/news/world/rss.xml", Schedule: "@every 10m"},
		{ID: "bbc-again", URL: "https://feeds.bbci.co.uk/news/world/rss.xml", Schedule: "@every 10m"},
		{ID: "third", URL: "https://feeds.bbci.co.uk/news/world/rss.xml", Schedule: "@every 1h"},
	}
	if !reflect.DeepEqual(c.Feeds, want) {
		t.Errorf("feeds = %+v\nwant %+v", c.Feeds, want)
	}
	if !slices.Equal(c.Notify[1].Topics, []string{"t"}) {
		t.Errorf("notify[1].topics = %q, want [t]", c.Notify[1].Topics)
	}
	if line, col, _ := c.Position("notify[1].topics"); line != 19 || col != 13 {
		t.Errorf("position of an alias = %d:%d, want where it is used, 19:13", line, col)
	}
}

func TestParseAliasErrors(t *testing.T) {
	checkProblems(t, []struct {
		name, src string
		want      []string
	}{
		{"cycle", "feeds: &f\n  - *f\n", []string{"t.yaml:2:5: feeds[0]: alias *f refers to a value that contains it"}},
		{"merge cycle", "nats: &n\n  <<: *n\n", []string{"t.yaml:2:7: nats: alias *n refers to a value that contains it"}},
		{"merge of a scalar", "nats:\n  <<: 3\n", []string{"t.yaml:2:7: nats: a merge key (<<) takes a mapping or a list of mappings"}},
	})
}

// TestParseAliasBomb checks that aliases cannot make a small document
// expand into an enormous walk: 500 topics that each alias 500 examples
// would be half a million nodes from 10 kB of YAML.
func TestParseAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("x-examples: &m [")
	b.WriteString(strings.Repeat("{text: x}, ", 499))
	b.WriteString("{text: x}]\nx-topic: &t {id: t, query: q, examples: {match: *m}}\ntopics: [")
	b.WriteString(strings.Repeat("*t, ", 499))
	b.WriteString("*t]\n")

	root, err := parseDocument([]byte(b.String()), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	d := newDecoder("t.yaml")
	var c Config
	d.decode(root, "", reflect.ValueOf(&c).Elem())
	if len(d.pos) > maxNodes {
		t.Errorf("walk recorded %d paths, more than the %d-node budget", len(d.pos), maxNodes)
	}
	got := strings.Split(d.errs.Error(), "\n")
	want := []string{
		`t.yaml:1:1: unknown key "x-examples" (valid keys: data_dir, nats, http, fetch, ingest, memory_limit, log, feeds, topics, alerts, notify, silences, cluster, websub)`,
		// The walk stops inside the aliased list, where the budget ran out.
		"t.yaml:1:*: document is too large or expands too many aliases",
		`t.yaml:2:1: unknown key "x-topic" (valid keys: data_dir, nats, http, fetch, ingest, memory_limit, log, feeds, topics, alerts, notify, silences, cluster, websub)`,
	}
	if len(got) != len(want) || got[0] != want[0] || got[2] != want[2] ||
		!strings.HasPrefix(got[1], "t.yaml:1:") || !strings.HasSuffix(got[1], ": document is too large or expands too many aliases") {
		t.Errorf("problems:\n got: %q\nwant: %q", got, want)
	}
	if _, err := Parse([]byte(b.String()), "t.yaml"); err == nil || strings.Count(err.Error(), "\n") != 2 {
		t.Errorf("Parse reported more than the three problems above:\n%v", err)
	}
}

func TestParseTooManyProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("feeds:\n")
	for range maxErrors + 50 {
		b.WriteString("  - bogus: 1\n")
	}
	got := problems(t, b.String())
	if len(got) != maxErrors+1 || got[maxErrors] != "t.yaml: too many problems; fix these and run again" {
		t.Errorf("got %d problems ending in %q, want %d and the truncation notice last", len(got), got[len(got)-1], maxErrors+1)
	}
}
