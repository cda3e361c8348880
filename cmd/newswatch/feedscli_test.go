package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/newswatch/newswatch/feeds/opml"
)

// TestFeedsCLI drives a running daemon with `newswatch feeds ...`.
func TestFeedsCLI(t *testing.T) {
	fs := newFeedServer(t)
	for _, p := range []string{"/wire.xml", "/paper.xml", "/blog.xml", "/extra.xml"} {
		fs.set(p, rss(p, item{"Story " + p, "https://news.example.com" + strings.TrimSuffix(p, ".xml"), "Text."}))
	}
	fs.docs["/"] = `<html><head><link rel="alternate" type="application/rss+xml" href="/extra.xml"></head></html>`
	dataDir := t.TempDir()
	r := startApp(t, testConfig(t, dataDir, fs.srv.URL, ""))
	cfgFile := writeFile(t, "cli.yaml", fmt.Sprintf("data_dir: %s\nhttp: {listen: %q}\nfeeds: []\n", t.TempDir(), r.app.HTTPAddr()))

	code, out, errOut := run(t, "feeds", "add", "--config", cfgFile, "extra", fs.srv.URL+"/", "--tag", "world", "--schedule", "@every 1h")
	if code != exitOK || !strings.Contains(out, `"url": "`+fs.srv.URL+`/extra.xml"`) {
		t.Fatalf("feeds add: exit %d\n%s%s", code, out, errOut)
	}
	r.waitPolled(t, 1, "extra")
	if code, _, errOut := run(t, "feeds", "pause", "--config", cfgFile, "extra"); code != exitOK {
		t.Fatalf("feeds pause: %s", errOut)
	}
	if !r.listed(t)["extra"].Paused {
		t.Error("feeds pause did not pause")
	}
	if code, out, errOut := run(t, "feeds", "poll", "--config", cfgFile, "wire"); code != exitOK || !strings.Contains(out, `"Result"`) && !strings.Contains(out, `"result"`) {
		t.Errorf("feeds poll: exit %d %s%s", code, out, errOut)
	}
	if code, _, errOut := run(t, "feeds", "rm", "--config", cfgFile, "wire"); code != exitRuntime || !strings.Contains(errOut, "config file") {
		t.Errorf("feeds rm of a file feed: exit %d %s, want a refusal naming the config file", code, errOut)
	}

	opmlFile := filepath.Join(t.TempDir(), "in.opml")
	os.WriteFile(opmlFile, []byte(fmt.Sprintf(`<opml version="2.0"><body><outline text="Paper copy" xmlUrl="%s/paper.xml"/><outline text="Bad" xmlUrl="gopher://x"/></body></opml>`, fs.srv.URL)), 0o600)
	code, out, errOut = run(t, "feeds", "import", "--config", cfgFile, opmlFile)
	var rep importReport
	if code != exitOK || json.Unmarshal([]byte(out), &rep) != nil || len(rep.Added) != 0 || len(rep.Problems) != 2 {
		t.Errorf("feeds import: exit %d %s%s", code, out, errOut)
	}

	exported := filepath.Join(t.TempDir(), "out.opml")
	if code, _, errOut := run(t, "feeds", "export", "--config", cfgFile, "--output", exported); code != exitOK {
		t.Fatalf("feeds export: %s", errOut)
	}
	f, err := os.Open(exported)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := opml.Parse(f, opml.Limits{})
	if err != nil || len(doc.Outlines) != 4 {
		t.Fatalf("exported %+v, %v", doc.Outlines, err)
	}
	for _, o := range doc.Outlines {
		if o.XMLURL == fs.srv.URL+"/extra.xml" && (len(o.Categories) != 1 || o.Categories[0] != "world") {
			t.Errorf("extra exported with categories %v, want [world]", o.Categories)
		}
	}
	if code, _, _ := run(t, "feeds", "add", "--config", cfgFile, "only-id"); code != exitUsage {
		t.Errorf("feeds add without a URL: exit %d, want usage", code)
	}
}

// TestTopicsTestSiteURL: topics test given a site's address tests the feed it announces.
func TestTopicsTestSiteURL(t *testing.T) {
	fs := newFeedServer(t)
	fs.docs["/"] = `<!doctype html><html><head><link rel="alternate" type="application/atom+xml" href="/news.xml"></head><body>home</body></html>`
	fs.set("/news.xml", rss("News", item{"Café owners protest", "https://example.org/cafe", "Cafe prices."}))
	cfgFile := writeFile(t, "t.yaml", `data_dir: `+t.TempDir()+`
fetch: {allow_networks: ["127.0.0.1/32"]}
feeds: []
topics:
  - {id: cafe, query: cafe}
`)
	code, out, errOut := run(t, "topics", "test", "--config", cfgFile, "--json", fs.srv.URL+"/")
	if code != exitOK || !strings.Contains(out, `"topics":["cafe"]`) {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}

// TestTopicsTestTags: topics test reads tag: as the daemon does, for the feed the items are
// said to come from (--feed, with its tags in the file) and the tags given (--tag).
func TestTopicsTestTags(t *testing.T) {
	fs := newFeedServer(t)
	fs.set("/news.xml", rss("News", item{"Korea talks", "https://example.org/korea", "Envoys met."}))
	cfgFile := writeFile(t, "t.yaml", `data_dir: `+t.TempDir()+`
fetch: {allow_networks: ["127.0.0.1/32"]}
feeds:
  - {id: wire, url: "https://wire.example/rss", tags: [world]}
topics:
  - {id: world-korea, query: 'tag:world AND korea'}
  - {id: korea, query: 'korea NOT tag:sport'}
`)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, exitOK, `"topics":["korea"]`},
		{[]string{"--feed", "wire"}, exitOK, `"topics":["korea","world-korea"]`},
		{[]string{"--tag", "world", "--tag", "sport"}, exitOK, `"topics":["world-korea"]`},
		{[]string{"--feed", "nope"}, exitUsage, "--feed nope: no such feed"},
		{[]string{"--tag", "World"}, exitUsage, `--tag "World": use 1 to 64 characters`},
	} {
		args := append([]string{"topics", "test", "--config", cfgFile, "--json"}, tc.args...)
		code, out, errOut := run(t, append(args, fs.srv.URL+"/news.xml")...)
		if code != tc.code || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("%v: exit %d, want %d with %s\n%s%s", tc.args, code, tc.code, tc.want, out, errOut)
		}
	}
}
