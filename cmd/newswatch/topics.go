package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/newswatch/newswatch/config"
	"github.com/newswatch/newswatch/feeds/discover"
	"github.com/newswatch/newswatch/feeds/fetch"
	"github.com/newswatch/newswatch/feeds/normalize"
	"github.com/newswatch/newswatch/feeds/parse"
	"github.com/newswatch/newswatch/matching"
	"github.com/newswatch/newswatch/topics"
)

// topicList is the matcher's view of the configured topics.
func topicList(cfg *config.Config) []topics.Topic {
	out := make([]topics.Topic, len(cfg.Topics))
	for i, t := range cfg.Topics {
		out[i] = topics.Topic{ID: t.ID, Query: t.Query}
	}
	return out
}

// checkTopics parses every topic's query and runs its examples. Errors point into the config
// file: a syntax error at the query's own column, a failing example at the example.
func checkTopics(cfg *config.Config) error {
	var errs config.Errors
	var good []topics.Topic
	seen := map[string]bool{}
	for i, t := range cfg.Topics {
		path := fmt.Sprintf("topics[%d].query", i)
		if t.Query == "" || seen[t.ID] {
			continue // config validation reports a missing query and a duplicate id
		}
		seen[t.ID] = true
		if _, err := topics.Parse(t.Query); err != nil {
			errs = append(errs, queryError(cfg, path, t.ID, t.Query, err))
			continue
		}
		good = append(good, topics.Topic{ID: t.ID, Query: t.Query})
	}
	m, err := topics.Compile(good)
	if err != nil {
		return append(errs, cfg.Errorf("topics", "%v", err))
	}
	for i, t := range cfg.Topics {
		if !slices.ContainsFunc(good, func(g topics.Topic) bool { return g.ID == t.ID }) {
			continue
		}
		errs = append(errs, checkExamples(cfg, m, i, t)...)
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// queryError places a query syntax error at its column inside the YAML value when the query
// sits on one line of the file; for a multi-line (folded or block) query it points at the
// value and the message keeps the column within the query.
func queryError(cfg *config.Config, path, id string, query string, err error) *config.Error {
	e := cfg.Errorf(path, "topic %q: %v", id, err)
	var se *topics.SyntaxError
	if !errors.As(err, &se) || e.Line == 0 {
		return e
	}
	line, ok := fileLine(cfg.File(), e.Line)
	if !ok {
		return e
	}
	runes := []rune(line)
	start := e.Col - 1 // 0-based rune index of the value
	if start < len(runes) && (runes[start] == '\'' || runes[start] == '"') {
		start++
	}
	if start+len([]rune(query)) <= len(runes) && string(runes[start:start+len([]rune(query))]) == query {
		e.Col = start + se.Col
	}
	return e
}

// fileLine returns line n (1-based) of a file.
func fileLine(file string, n int) (string, bool) {
	data, err := os.ReadFile(file)
	if err != nil {
		return "", false
	}
	lines := strings.Split(string(data), "\n")
	if n-1 >= len(lines) {
		return "", false
	}
	return lines[n-1], true
}

func checkExamples(cfg *config.Config, m *topics.Matcher, i int, t config.Topic) config.Errors {
	var errs config.Errors
	run := func(kind string, list []config.Example, want bool) {
		for j, ex := range list {
			if !exampleUsable(cfg, ex) {
				continue // config validation reports it
			}
			path := fmt.Sprintf("topics[%d].examples.%s[%d]", i, kind, j)
			doc, name, err := exampleDoc(cfg, ex)
			if err != nil {
				errs = append(errs, cfg.Errorf(path, "topic %q: example %s: %v", t.ID, name, err))
				continue
			}
			got := slices.ContainsFunc(m.Match(doc), func(h topics.Hit) bool { return h.Topic == t.ID })
			switch {
			case want && !got:
				errs = append(errs, cfg.Errorf(path, "topic %q: example %s must match the query but does not", t.ID, name))
			case !want && got:
				errs = append(errs, cfg.Errorf(path, "topic %q: example %s must not match the query but does", t.ID, name))
			}
		}
	}
	run("match", t.Examples.Match, true)
	run("no_match", t.Examples.NoMatch, false)
	return errs
}

// exampleUsable reports whether config validation accepts the example: one of file and text,
// and a file that exists.
func exampleUsable(cfg *config.Config, ex config.Example) bool {
	if (ex.File == "") == (ex.Text == "") {
		return false
	}
	if ex.File != "" {
		if _, err := os.Stat(cfg.Resolve(ex.File)); err != nil {
			return false
		}
	}
	return true
}

// exampleDoc reads an example article (a file, or inline title and text) and names it.
func exampleDoc(cfg *config.Config, ex config.Example) (topics.Doc, string, error) {
	if ex.File != "" {
		name := fmt.Sprintf("%q", ex.File)
		if ex.Name != "" {
			name = fmt.Sprintf("%q (%s)", ex.Name, ex.File)
		}
		data, err := os.ReadFile(cfg.Resolve(ex.File))
		if err != nil {
			return topics.Doc{}, name, err
		}
		a := articleFromFile(ex.File, data)
		return topics.Doc{Title: a.title, Content: a.text}, name, nil
	}
	name := fmt.Sprintf("%q", firstNonEmpty(ex.Name, ex.Title, truncate(ex.Text, 40)))
	return topics.Doc{Title: ex.Title, Content: normalize.Text(ex.Text)}, name, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// plainArticle is an article given as a text or HTML file.
type plainArticle struct{ title, text string }

// articleFromFile reads a plain-text or HTML article: for text, the first non-empty line is the
// title and the rest the body; for HTML, <title> (or the first heading) and the visible text.
func articleFromFile(name string, data []byte) plainArticle {
	s := string(data)
	ext := strings.ToLower(filepath.Ext(name))
	lower := strings.ToLower(s[:min(len(s), 512)])
	if ext == ".html" || ext == ".htm" || strings.Contains(lower, "<html") || strings.Contains(lower, "<!doctype html") {
		return plainArticle{title: htmlTitle(s), text: normalize.Text(s)}
	}
	s = strings.TrimLeft(s, "\ufeff \t\r\n")
	title, body, _ := strings.Cut(s, "\n")
	return plainArticle{title: strings.TrimSpace(title), text: normalize.Text(body)}
}

func htmlTitle(s string) string {
	for _, tag := range []string{"title", "h1"} {
		lower := strings.ToLower(s)
		i := strings.Index(lower, "<"+tag)
		if i < 0 {
			continue
		}
		j := strings.Index(lower[i:], ">")
		k := strings.Index(lower[i:], "</"+tag)
		if j > 0 && k > j {
			return normalize.Text(s[i+j+1 : i+k])
		}
	}
	return ""
}

// testItem is one line of `topics test --json` (PRODUCT §2).
type testItem struct {
	URL     string              `json:"url"`
	Title   string              `json:"title"`
	Topics  []string            `json:"topics"`
	Explain map[string][]string `json:"explain"`
	fields  map[string][]topics.MatchedTerm
}

func cmdTopics(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "test" {
		fmt.Fprintln(stderr, "Usage: newswatch topics test [--config FILE] [--json] [--feed ID] [--tag TAG]... FILE|URL...")
		return exitUsage
	}
	fs := newFlags("topics test", "topics test [--config FILE] [--json] [--feed ID] [--tag TAG]... FILE|URL...", stderr)
	path := fs.String("config", "", "config file (default $NEWSWATCH_CONFIG, else the built-in default)")
	asJSON := fs.Bool("json", false, "one JSON object per item and line")
	feedID := fs.String("feed", "", "match the items as articles of this feed: its id for source:, and its tags in the config file for tag:")
	var tags stringList
	fs.Var(&tags, "tag", "match the items as articles of a feed with this tag, for tag: (repeatable)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flagHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "newswatch topics test: name at least one feed or article file or URL")
		return exitUsage
	}
	cfg, err := loadConfig(*path, true)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	m, err := topics.Compile(topicList(cfg))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	as, err := testFeedOf(cfg, *feedID, tags)
	if err != nil {
		fmt.Fprintln(stderr, "newswatch topics test:", err)
		return exitUsage
	}
	fetcher, err := newFetcher(cfg, buildVersion())
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	code := exitOK
	for _, src := range fs.Args() {
		items, err := testSource(ctx, fetcher, m, as, src)
		if err != nil {
			fmt.Fprintf(stderr, "newswatch topics test: %s: %v\n", src, err)
			code = exitRuntime
			continue
		}
		for _, it := range items {
			printItem(stdout, it, *asJSON)
		}
	}
	return code
}

// testFeed is the feed that tested items are taken to come from: by default "test", with no
// tags.
type testFeed struct {
	id   string
	tags []string
}

// testFeedOf reads --feed and --tag: a feed of the config file lends its id and tags, and
// each --tag (checked like a feed's tags) is added.
func testFeedOf(cfg *config.Config, id string, tags []string) (testFeed, error) {
	as := testFeed{id: "test"}
	if id != "" {
		i := slices.IndexFunc(cfg.Feeds, func(f config.Feed) bool { return f.ID == id })
		if i < 0 {
			return as, fmt.Errorf("--feed %s: no such feed in the config file", id)
		}
		as = testFeed{id: id, tags: slices.Clone(cfg.Feeds[i].Tags)}
	}
	for _, t := range tags {
		if !topics.ValidTag(t) {
			return as, fmt.Errorf("--tag %q: use 1 to %d characters from a-z, 0-9 and -", t, topics.MaxTagLen)
		}
		if !slices.Contains(as.tags, t) {
			as.tags = append(as.tags, t)
		}
	}
	return as, nil
}

// lookup is the matcher's tag lookup for items of the tested feed.
func (as testFeed) lookup(feedID string) []string {
	if feedID == as.id {
		return as.tags
	}
	return nil
}

// testSource reads a feed or article from a file or URL and matches every item.
func testSource(ctx context.Context, f *fetch.Fetcher, m *topics.Matcher, as testFeed, src string) ([]testItem, error) {
	if isSiteRoot(src) {
		// A site's address: test the feed it leads to (see feeds/discover).
		if found, err := discover.Find(ctx, f, src); err == nil {
			return feedItems(m, as, found.Feed), nil
		}
	}
	data, contentType, base, err := readSource(ctx, f, src)
	if err != nil {
		return nil, err
	}
	feed, perr := parse.Parse(data, contentType, base)
	if perr != nil {
		if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
			if !errors.Is(perr, parse.ErrNotAFeed) {
				return nil, perr
			}
		}
		a := articleFromFile(src, data)
		return []testItem{matchItem(m, base, a.title, topics.Doc{Title: a.title, Content: a.text, Source: as.id, Tags: as.tags})}, nil
	}
	return feedItems(m, as, feed), nil
}

// isSiteRoot reports whether src is the address of a site's home page (an http(s) URL with no
// path beyond "/" and no query), which topics test resolves to the site's feed.
func isSiteRoot(src string) bool {
	u, err := url.Parse(src)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && (u.Path == "" || u.Path == "/") && u.RawQuery == ""
}

// feedItems matches every item of a feed.
func feedItems(m *topics.Matcher, as testFeed, feed *parse.Feed) []testItem {
	now := time.Now()
	var out []testItem
	for _, it := range feed.Items {
		a, err := normalize.Article(as.id, feed.Language, it, now)
		if err != nil {
			continue
		}
		out = append(out, matchItem(m, a.URL, a.Title, matching.DocOf(a, as.lookup)))
	}
	return out
}

func readSource(ctx context.Context, f *fetch.Fetcher, src string) (data []byte, contentType, base string, err error) {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		resp, err := f.Fetch(ctx, fetch.Request{URL: src})
		if err != nil {
			return nil, "", "", err
		}
		return resp.Body, resp.ContentType, firstNonEmpty(resp.FinalURL, src), nil
	}
	path := strings.TrimPrefix(src, "file://")
	data, err = os.ReadFile(path)
	if err != nil {
		return nil, "", "", err
	}
	abs, _ := filepath.Abs(path)
	return data, "", "file://" + filepath.ToSlash(abs), nil
}

func matchItem(m *topics.Matcher, url, title string, doc topics.Doc) testItem {
	it := testItem{URL: url, Title: title, Topics: []string{}, Explain: map[string][]string{}, fields: map[string][]topics.MatchedTerm{}}
	for _, h := range m.Match(doc) {
		it.Topics = append(it.Topics, h.Topic)
		it.Explain[h.Topic] = h.TermStrings()
		it.fields[h.Topic] = h.Terms
	}
	slices.Sort(it.Topics)
	return it
}

func printItem(w io.Writer, it testItem, asJSON bool) {
	if asJSON {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(it)
		_, _ = w.Write(buf.Bytes())
		return
	}
	fmt.Fprintf(w, "%s\n  %s\n", firstNonEmpty(it.Title, "(untitled)"), it.URL)
	if len(it.Topics) == 0 {
		fmt.Fprintln(w, "  no topic matches")
	}
	for _, id := range it.Topics {
		var terms []string
		for _, t := range it.fields[id] {
			terms = append(terms, fmt.Sprintf("%s (%s)", t.Term, t.Field))
		}
		fmt.Fprintf(w, "  ✓ %s: %s\n", id, strings.Join(terms, ", "))
	}
	fmt.Fprintln(w)
}
