package events_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// connect starts (or restarts) an embedded JetStream storing in dir.
func connect(t testing.TB, dir string) *events.Conn {
	t.Helper()
	c, err := events.Connect(context.Background(), events.ConnConfig{DataDir: dir}, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EnsureStreams(context.Background()); err != nil {
		c.Close()
		t.Fatal(err)
	}
	return c
}

func article(feed string, n int) events.Article {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	return events.Article{
		ID: fmt.Sprintf("%032x", n), FeedID: feed, URL: fmt.Sprintf("https://example.org/a/%d", n),
		Title: fmt.Sprintf("Article %d", n), PublishedAt: now, FirstSeenAt: now,
	}
}

func streamMsgs(t *testing.T, c *events.Conn, subject string) int {
	t.Helper()
	n := 0
	for range readAll(t, c, subject) {
		n++
	}
	return n
}

func readAll(t *testing.T, c *events.Conn, subject string) []events.Envelope {
	t.Helper()
	var out []events.Envelope
	err := c.Read(t.Context(), events.ArticleStream, []string{subject}, 0, func(data []byte, _ uint64) error {
		env, err := events.DecodeEnvelope(data)
		out = append(out, env)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPublishArticlesDedupForever(t *testing.T) {
	dir := t.TempDir()
	c := connect(t, dir)
	s := events.NewStore(c)
	ctx := t.Context()

	first := []events.Article{article("a", 1), article("a", 2), article("a", 2), article("a", 3)}
	res, err := s.PublishArticles(ctx, "a", first)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Published) != 3 || res.Duplicates != 1 {
		t.Fatalf("first poll: published %d, duplicates %d; want 3, 1", len(res.Published), res.Duplicates)
	}
	// The same article in another feed is a duplicate too.
	res, err = s.PublishArticles(ctx, "b", []events.Article{article("b", 2), article("b", 4)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Published) != 1 || res.Published[0].ID != article("b", 4).ID || res.Duplicates != 1 {
		t.Fatalf("second poll: %+v", res)
	}
	c.Close()

	// After a restart the in-memory cache is gone; the markers in the stream still know.
	c = connect(t, dir)
	defer c.Close()
	s = events.NewStore(c)
	res, err = s.PublishArticles(ctx, "a", []events.Article{article("a", 1), article("a", 3), article("a", 5)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Published) != 1 || res.Duplicates != 2 {
		t.Fatalf("after restart: published %d, duplicates %d; want 1, 2", len(res.Published), res.Duplicates)
	}
	if got := streamMsgs(t, c, events.ArticleSubjectPrefix+"*"); got != 5 {
		t.Fatalf("article stream holds %d articles, want 5", got)
	}
	envs := readAll(t, c, events.ArticleSubjectPrefix+"a")
	a, err := events.ParseArticle(mustMarshal(t, envs[0]))
	if err != nil {
		t.Fatal(err)
	}
	if envs[0].SpecVersion != "1.0" || envs[0].Type != events.TypeArticle || a.Title != "Article 1" {
		t.Fatalf("first event = %+v / %+v", envs[0], a)
	}
}

func TestPublishArticlesManyBatches(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	s := events.NewStore(c)
	var arts []events.Article
	for i := range 2000 {
		arts = append(arts, article("big", i))
	}
	res, err := s.PublishArticles(t.Context(), "big", arts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Published) != 2000 {
		t.Fatalf("published %d, want 2000", len(res.Published))
	}
	res, err = events.NewStore(c).PublishArticles(t.Context(), "big", arts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Published) != 0 || res.Duplicates != 2000 {
		t.Fatalf("republish: %d new, %d dups", len(res.Published), res.Duplicates)
	}
}

func TestStreamsRefuseDeleteAndPurge(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	ctx := t.Context()
	if _, err := events.NewStore(c).PublishArticles(ctx, "a", []events.Article{article("a", 1)}); err != nil {
		t.Fatal(err)
	}
	st, err := c.JS.Stream(ctx, events.ArticleStream)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Purge(ctx); err == nil {
		t.Fatal("purge of the article stream succeeded")
	}
	if err := st.DeleteMsg(ctx, 1); err == nil {
		t.Fatal("delete from the article stream succeeded")
	}
	info := st.CachedInfo()
	if info.Config.MaxAge != 0 || !info.Config.DenyDelete || !info.Config.DenyPurge {
		t.Fatalf("article stream config = %+v", info.Config)
	}
}

func TestLastPoll(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	s := events.NewStore(c)
	ctx := t.Context()
	if p, err := s.LastPoll(ctx, "x"); err != nil || p != nil {
		t.Fatalf("LastPoll of unpolled feed = %v, %v", p, err)
	}
	start := time.Now().UTC()
	for i, etag := range []string{`"v1"`, `"v2"`} {
		p := events.Poll{FeedID: "x", URL: "https://x/feed", StartedAt: start.Add(time.Duration(i) * time.Second),
			FinishedAt: start.Add(time.Duration(i) * time.Second), Result: events.ResultOK, ETag: etag}
		if err := s.PublishPoll(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	p, err := s.LastPoll(ctx, "x")
	if err != nil || p == nil || p.ETag != `"v2"` {
		t.Fatalf("LastPoll = %+v, %v", p, err)
	}
}

// BenchmarkPublishArticles measures appending articles as production does: atomic batches of a
// poll's new articles, fsynced (SyncAlways) once per batch.
func BenchmarkPublishArticles(b *testing.B) {
	for _, perPoll := range []int{1, 20, 200} {
		b.Run(fmt.Sprintf("per_poll=%d", perPoll), func(b *testing.B) {
			c := connect(b, b.TempDir())
			defer c.Close()
			s := events.NewStore(c)
			ctx := context.Background()
			n := 0
			body := string(make([]byte, 600))
			for b.Loop() {
				arts := make([]events.Article, perPoll)
				for i := range arts {
					arts[i] = article("bench", n)
					arts[i].Content = body
					n++
				}
				if _, err := s.PublishArticles(ctx, "bench", arts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/article")
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "articles/s")
		})
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The server holds every message id of a stream's duplicate window in memory; the poll and
// article streams' windows are short (an hour of polls at 10,000 feeds is a million ids, an
// hour of a cold ingest every article), and a store created with the old hour-long windows
// gets the short ones at start.
func TestDuplicateWindowsAreShort(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	ctx := t.Context()
	for _, w := range []struct {
		stream string
		window time.Duration
	}{{events.PollStream, events.PollDuplicates}, {events.ArticleStream, events.ArticleDuplicates}} {
		st, err := c.JS.Stream(ctx, w.stream)
		if err != nil {
			t.Fatal(err)
		}
		cfg := st.CachedInfo().Config
		if cfg.Duplicates != w.window || w.window > 5*time.Minute {
			t.Fatalf("%s duplicate window = %v, want %v (at most 5m)", w.stream, cfg.Duplicates, w.window)
		}
		cfg.Duplicates = time.Hour
		if _, err := c.JS.UpdateStream(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		if err := c.EnsureStreams(ctx); err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.Config.Duplicates != w.window {
			t.Errorf("after EnsureStreams on an old store the %s window is %v, want %v", w.stream, info.Config.Duplicates, w.window)
		}
	}
}
