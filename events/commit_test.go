package events_test

import (
	"testing"
	"time"

	"github.com/newswatch/newswatch/events"
)

// TestGroupCommitStoresEachArticleOnce commits the articles of several polls at once: an id
// that two feeds carry, or that is in the log already, is stored once; a group larger than
// one atomic batch is split; and the results say what each poll got.
func TestGroupCommitStoresEachArticleOnce(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	s := events.NewStore(c)
	ctx := t.Context()
	if _, err := s.PublishArticles(ctx, "old", []events.Article{article("old", 1)}); err != nil {
		t.Fatal(err)
	}
	var big []events.Article
	for i := 1000; i < 1700; i++ { // more than one batch of articles and markers
		big = append(big, article("big", i))
	}
	groups := []events.ArticleGroup{
		{FeedID: "a", Articles: []events.Article{article("a", 1), article("a", 2), article("a", 3)}},
		{FeedID: "b", Articles: []events.Article{article("b", 3), article("b", 4), article("b", 4)}},
		{FeedID: "big", Articles: big},
	}
	res := s.PublishArticleGroups(ctx, groups)
	want := []struct{ published, dups int }{{2, 1}, {1, 2}, {700, 0}}
	for i, w := range want {
		if res[i].Err != nil || len(res[i].Published) != w.published || res[i].Duplicates != w.dups {
			t.Errorf("group %s: published %d, duplicates %d, err %v; want %d, %d", groups[i].FeedID,
				len(res[i].Published), res[i].Duplicates, res[i].Err, w.published, w.dups)
		}
	}
	if n := streamMsgs(t, c, events.ArticleSubjectPrefix+"*"); n != 1+2+1+700 {
		t.Errorf("article stream holds %d articles, want %d", n, 704)
	}
	// The same groups again, from a fresh store (no id cache): nothing new.
	res = events.NewStore(c).PublishArticleGroups(ctx, groups)
	for i := range res {
		if len(res[i].Published) != 0 || res[i].Err != nil {
			t.Errorf("group %s republished %d articles (err %v)", groups[i].FeedID, len(res[i].Published), res[i].Err)
		}
	}
}

// TestPublishPollsInOneCommit appends many poll events at once and reads the last of a feed.
func TestPublishPollsInOneCommit(t *testing.T) {
	c := connect(t, t.TempDir())
	defer c.Close()
	s := events.NewStore(c)
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var polls []events.Poll
	for i := range 1200 { // over one batch
		polls = append(polls, events.Poll{FeedID: "f", URL: "https://example.org/f",
			StartedAt: start.Add(time.Duration(i) * time.Second), FinishedAt: start.Add(time.Duration(i) * time.Second),
			Result: events.ResultNotModified, ETag: `"e"`})
	}
	if err := s.PublishPolls(t.Context(), polls); err != nil {
		t.Fatal(err)
	}
	// Again: the poll ids make a retried commit a no-op.
	if err := s.PublishPolls(t.Context(), polls); err != nil {
		t.Fatal(err)
	}
	info, err := c.StreamInfo(t.Context(), events.PollStream)
	if err != nil {
		t.Fatal(err)
	}
	if info.Msgs != 1200 {
		t.Errorf("poll stream holds %d events, want 1200", info.Msgs)
	}
	last, err := s.LastPoll(t.Context(), "f")
	if err != nil || last == nil || !last.StartedAt.Equal(polls[1199].StartedAt) {
		t.Errorf("last poll = %+v, %v; want the 1200th", last, err)
	}
}
