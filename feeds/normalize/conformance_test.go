package normalize

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html/charset"
)

// The conformance test runs feedparser's test corpus through Parse and Article and compares
// the fields newswatch uses with feedparser's expectations. testdata/feeds/README.md says
// where the expectations come from and how the figures are counted.

// conformanceMin is the share of the gated checks that must agree.
const conformanceMin = 0.95

// corpusBase is where feedparser's own test suite serves the corpus; a document's URL is
// corpusBase + its path, and relative links with no xml:base resolve against it.
const corpusBase = "http://127.0.0.1:8097/"

// conformanceDir holds newswatch's own files for this test: the reviewed differences and the
// expectations converted by hand.
const conformanceDir = testdata + "/conformance"

// field is a newswatch field that a feedparser path is compared with.
type field struct {
	name  string // as reported
	gated bool   // one of the fields issue 7 names: its checks count toward conformanceMin
}

var (
	feedTitle     = field{"feed title", true}
	feedLink      = field{"feed link", true}
	entryTitle    = field{"entry title", true}
	entryLink     = field{"entry link", true}
	entryDate     = field{"entry date", true}
	entryCount    = field{"entry count", true}
	docEncoding   = field{"encoding", true}
	entryID       = field{"entry id", false}
	entrySummary  = field{"entry summary", false}
	entryContent  = field{"entry content", false}
	entryAuthor   = field{"entry author", false}
	entryCategory = field{"entry category", false}
	language      = field{"language", false}
)

// fields maps feedparser paths, entry and list indexes written "#", to the newswatch field
// they are compared with. Other paths are fields newswatch does not use (enclosures, feed
// images, iTunes flags, the *_detail metadata, raw date strings, ...), or feedparser
// composites of them.
var fields = map[string]field{
	"feed.title":                     feedTitle,
	"feed.title_detail.value":        feedTitle,
	"feed.link":                      feedLink,
	"feed.language":                  language,
	"encoding":                       docEncoding,
	"len(entries)":                   entryCount,
	"entries.#.title":                entryTitle,
	"entries.#.title_detail.value":   entryTitle,
	"entries.#.link":                 entryLink,
	"entries.#.id":                   entryID,
	"entries.#.guid":                 entryID,
	"entries.#.published_parsed":     entryDate,
	"entries.#.updated_parsed":       entryDate,
	"entries.#.summary":              entrySummary,
	"entries.#.description":          entrySummary,
	"entries.#.summary_detail.value": entrySummary,
	"entries.#.content.#.value":      entryContent,
	"entries.#.author":               entryAuthor,
	"entries.#.author_detail.name":   entryAuthor,
	"entries.#.tags.#.term":          entryCategory,
	"entries.#.language":             language,
}

// expectation is one line of an expect_checks.jsonl file.
type expectation struct {
	File        string  `json:"file"`
	HTTPHeaders *string `json:"http_headers"`
	Checks      []struct {
		Path    []any   `json:"path"`
		Equals  any     `json:"equals"`
		TimeUTC *string `json:"time_utc"`
	} `json:"checks"`
}

// check is one applicable comparison, values normalized for comparing.
type check struct {
	file, path string
	field      field
	want, got  string
}

// difference is a line of differences.tsv: a reviewed reason why newswatch's answer differs.
type difference struct {
	file, path, category, reason string
	used                         bool
}

func TestConformance(t *testing.T) {
	diffs := readDifferences(t)
	var ours, theirs []check
	for _, src := range []struct{ dir, expect string }{
		{"feedparser", "feedparser/_derived/expect_checks.jsonl"},
		{"feedparser", "conformance/expect_extra.jsonl"},
		{"feedparser-x80", "feedparser-x80/_derived/expect_checks.jsonl"},
	} {
		for _, e := range readExpectations(t, filepath.Join(testdata, src.expect)) {
			o, g := runChecks(t, src.dir, e)
			ours, theirs = append(ours, o...), append(theirs, g...)
		}
	}
	if len(ours) < 750 {
		t.Fatalf("only %d applicable checks read; is testdata complete?", len(ours))
	}

	var unexplained []string
	for _, c := range ours {
		if c.want != c.got {
			if findDifference(diffs, c) == nil {
				unexplained = append(unexplained, fmt.Sprintf("%s %s (%s): want %q, got %q", c.file, c.path, c.field.name, c.want, c.got))
			}
		} else if d := findDifference(diffs, c); d != nil && d.path != "*" {
			t.Errorf("%s %s now agrees with feedparser: remove it from differences.tsv (%s)", c.file, c.path, d.category)
		}
	}
	for _, d := range diffs {
		if !d.used {
			t.Errorf("differences.tsv: %s %s matches no difference", d.file, d.path)
		}
	}
	for _, u := range unexplained {
		t.Errorf("differs from feedparser, and differences.tsv does not say why: %s", u)
	}

	isMain := func(c check) bool { return strings.HasPrefix(c.file, "feedparser/") }
	gated := func(c check) bool { return isMain(c) && c.field.gated }
	noEnc := func(c check) bool { return isMain(c) && c.field.gated && c.field != docEncoding }
	share := agreement(ours, gated)
	t.Logf("conformance (feedparser, fields named by issue 7): %s; gofeed alone: %s",
		figure(ours, gated), figure(theirs, gated))
	t.Logf("  without the encoding checks, which gofeed cannot answer: %s; gofeed alone: %s",
		figure(ours, noEnc), figure(theirs, noEnc))
	t.Logf("all fields newswatch uses (adds ids, summaries, content, authors, categories, languages): %s; gofeed alone: %s",
		figure(ours, isMain), figure(theirs, isMain))
	t.Logf("feedparser-x80 (byte 0x80 in 116 legacy encodings): %s; gofeed alone: %s",
		figure(ours, func(c check) bool { return !isMain(c) }), figure(theirs, func(c check) bool { return !isMain(c) }))
	for _, f := range []field{feedTitle, feedLink, entryTitle, entryLink, entryDate, entryCount, docEncoding,
		entryID, entrySummary, entryContent, entryAuthor, entryCategory, language} {
		sel := func(c check) bool { return isMain(c) && c.field == f }
		t.Logf("  %-15s %s; gofeed alone: %s", f.name, figure(ours, sel), figure(theirs, sel))
	}
	if share < conformanceMin {
		t.Errorf("conformance %.1f%% is below %.0f%%", 100*share, 100*conformanceMin)
	}
}

// runChecks parses one corpus document with newswatch and with gofeed alone and returns the
// applicable checks of e for each.
func runChecks(t *testing.T, dir string, e expectation) (ours, theirs []check) {
	t.Helper()
	body, err := os.ReadFile(filepath.Join(testdata, dir, e.File))
	if err != nil {
		t.Fatal(err)
	}
	contentType := ""
	if e.HTTPHeaders != nil {
		if name, value, _ := strings.Cut(*e.HTTPHeaders, ":"); strings.EqualFold(name, "Content-Type") {
			contentType = strings.TrimSpace(value)
		}
	}
	nw := newswatchResult(body, contentType, corpusBase+e.File)
	gf := gofeedResult(body)
	for _, c := range e.Checks {
		key, norm := pathKey(c.Path)
		f, ok := fields[norm]
		if !ok {
			continue
		}
		want := expected(c.Equals, c.TimeUTC, f)
		file := dir + "/" + e.File
		ours = append(ours, check{file: file, path: key, field: f, want: want, got: nw.value(c.Path, norm)})
		theirs = append(theirs, check{file: file, path: key, field: f, want: want, got: gf.value(c.Path, norm)})
	}
	return ours, theirs
}

func agreement(checks []check, sel func(check) bool) float64 {
	n, ok := 0, 0
	for _, c := range checks {
		if sel(c) {
			n++
			if c.want == c.got {
				ok++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return float64(ok) / float64(n)
}

func figure(checks []check, sel func(check) bool) string {
	n, ok := 0, 0
	for _, c := range checks {
		if sel(c) {
			n++
			if c.want == c.got {
				ok++
			}
		}
	}
	return fmt.Sprintf("%d/%d = %.1f%%", ok, n, 100*agreement(checks, sel))
}

func readExpectations(t *testing.T, file string) []expectation {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []expectation
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e expectation
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		out = append(out, e)
	}
	return out
}

// readDifferences reads differences.tsv: file (a path.Match pattern), path ("*" for any),
// category and reason, tab-separated; "#" starts a comment line.
func readDifferences(t *testing.T) []*difference {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(conformanceDir, "differences.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var out []*difference
	for i, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != 4 || cols[2] == "" || cols[3] == "" {
			t.Fatalf("differences.tsv:%d: want file, path, category and reason, tab-separated", i+1)
		}
		if _, err := path.Match(cols[0], ""); err != nil {
			t.Fatalf("differences.tsv:%d: %v", i+1, err)
		}
		out = append(out, &difference{file: cols[0], path: cols[1], category: cols[2], reason: cols[3]})
	}
	return out
}

// findDifference returns the line of differences.tsv that explains c, marking it used when c
// is a difference. A line with path "*" explains only differences, whatever their path.
func findDifference(diffs []*difference, c check) *difference {
	differs := c.want != c.got
	for _, d := range diffs {
		if ok, _ := path.Match(d.file, c.file); !ok || (d.path != c.path && (d.path != "*" || !differs)) {
			continue
		}
		if differs {
			d.used = true
		}
		return d
	}
	return nil
}

var indexRe = regexp.MustCompile(`\.\d+(\.|$)`)

// pathKey returns a feedparser path as written (entries.0.title) and with its indexes
// replaced by "#" (entries.#.title).
func pathKey(p []any) (key, norm string) {
	parts := make([]string, len(p))
	for i, x := range p {
		switch v := x.(type) {
		case string:
			parts[i] = v
		case float64:
			parts[i] = strconv.Itoa(int(v))
		}
	}
	key = strings.Join(parts, ".")
	norm = indexRe.ReplaceAllString(key, ".#$1")
	return key, indexRe.ReplaceAllString(norm, ".#$1")
}

// expected normalizes feedparser's value the way values are compared: text as Text makes
// it (feedparser's values are HTML), times in RFC 3339, encodings by canonicalEncoding.
func expected(equals any, timeUTC *string, f field) string {
	if timeUTC != nil {
		return *timeUTC
	}
	switch v := equals.(type) {
	case nil:
		return ""
	case string:
		switch f {
		case feedTitle, entryTitle, entrySummary, entryContent, entryAuthor:
			return Text(v)
		case docEncoding:
			return canonicalEncoding(v)
		}
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(equals)
}

// canonicalEncoding names an encoding by its WHATWG name, which is also the decoder used: so
// us-ascii, iso-8859-1 and windows-1252 are one, as are gb2312, gbk and gb18030 ("GBK's
// decoder is gb18030's decoder").
func canonicalEncoding(label string) string {
	_, name := charset.Lookup(label)
	switch name {
	case "":
		return strings.ToLower(label)
	case "gbk":
		return "gb18030"
	}
	return name
}
