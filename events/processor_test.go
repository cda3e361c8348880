package events_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
)

// TestProcessorTakesOwnWritesFromMemory: once it has caught up, a processor of the article
// stream takes the articles its process appends from memory instead of reading them back (a
// reader of the newest blocks makes the server keep ten seconds of them cached); an article
// another writer appends in between is read from the stream. Every article is handled once,
// in stream order, with its stream sequence and the bytes the stream holds.
func TestProcessorTakesOwnWritesFromMemory(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	store := events.NewStore(c)
	type handled struct {
		seq  uint64
		data string
	}
	var mu sync.Mutex
	var seen []handled
	p := c.NewProcessor(events.ProcessorConfig{
		Name: "memory-test", In: events.ArticleStream, InSubjects: []string{events.ArticleSubjectPrefix + "*"},
		Out: events.MatchStream, OutSubjects: []string{events.MatchSubjectPrefix + "*"},
		Handle: func(data []byte, seq uint64) ([]events.Outgoing, error) {
			mu.Lock()
			seen = append(seen, handled{seq, string(data)})
			mu.Unlock()
			return nil, nil
		},
	}, quietLog())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(seen) }
	publish := func(from, n int) {
		t.Helper()
		var arts []events.Article
		for i := range n {
			arts = append(arts, article("mem", from+i))
		}
		for _, r := range store.PublishArticleGroups(t.Context(), []events.ArticleGroup{{FeedID: "mem", Articles: arts}}) {
			if r.Err != nil || len(r.Published) != n {
				t.Fatalf("published %d of %d: %v", len(r.Published), n, r.Err)
			}
		}
	}

	publish(0, 10) // from the stream or the log, as the processor finds them
	waitFor(t, "the first articles handled", func() bool { return count() == 10 })
	waitFor(t, "the processor following the log", func() bool { _, on := events.FromMemory(p); return on })
	before, _ := events.FromMemory(p)
	publish(10, 10)
	waitFor(t, "the second articles handled", func() bool { return count() == 20 })
	if n, _ := events.FromMemory(p); n-before != 10 {
		t.Errorf("%d of the 10 articles written while the processor followed the log were taken from memory", n-before)
	}
	// What the processor has done is not kept.
	waitFor(t, "the log emptied by the processor", func() bool { return events.RecentBytes(c) == 0 })
	// Another writer's article, then ours again: the gap sends the processor to the stream.
	body, err := events.EncodeArticle(article("other", 100))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.JS.Publish(t.Context(), events.ArticleSubjectPrefix+"other", body); err != nil {
		t.Fatal(err)
	}
	publish(20, 10)
	waitFor(t, "the articles after the other writer's handled", func() bool { return count() == 31 })
	waitFor(t, "the processor following the log again", func() bool { _, on := events.FromMemory(p); return on })
	// Another writer's article with nothing of ours after it: found at the next look.
	if body, err = events.EncodeArticle(article("other", 101)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.JS.Publish(t.Context(), events.ArticleSubjectPrefix+"other", body); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every article handled", func() bool { return count() == 32 })
	time.Sleep(100 * time.Millisecond) // a second delivery of any of them would show now

	st, err := c.JS.Stream(t.Context(), events.ArticleStream)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 32 {
		t.Fatalf("%d articles handled, want 32", len(seen))
	}
	for i, h := range seen {
		if i > 0 && h.seq <= seen[i-1].seq {
			t.Fatalf("handled out of order: seq %d after %d", h.seq, seen[i-1].seq)
		}
		m, err := st.GetMsg(t.Context(), h.seq)
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Data) != h.data {
			t.Errorf("seq %d: handled bytes differ from the stream's (%s)", h.seq, m.Subject)
		}
	}
}
