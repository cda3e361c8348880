package web

import (
	"time"

	"github.com/newswatch/newswatch/projections/stories"
)

// This file is the page's one coupling to the stories projection: its types become the
// page's own here, so a change of the story model changes this file only.

// StoryReader reads stories and trending terms (*stories.Projection).
type StoryReader interface {
	Stories(topic string, limit int) []stories.Story
	Trending(topic string, now time.Time, limit int) []stories.Trend
	Membership(topic, articleID string) (stories.Membership, bool)
}

// isCopy reports whether the story model took an article for a copy of an earlier one of its
// story (the same text, or nearly) rather than a rewrite.
func (s *server) isCopy(topic, articleID string) bool {
	m, _ := s.o.Stories.Membership(topic, articleID)
	return m.Copy
}

// storyView is a story as the pages show it.
type storyView struct {
	Topic        string
	ID           string
	Title        string
	FirstSeen    time.Time
	LastSeen     time.Time
	FirstReport  articleRef
	ArticleCount int
	Articles     []articleRef // oldest first
	Outlets      []outletView
}

type articleRef struct {
	ID, URL, Title, Source string
	At                     time.Time
}

type outletView struct {
	Source   string
	FirstAt  time.Time
	Lag      int64 // seconds after the first report
	Articles int
}

type trendView struct {
	Term            string
	Stories         int
	Sources         int
	BaselineStories int
	Ratio           float64
}

func storyOf(topic string, s stories.Story) storyView {
	v := storyView{Topic: topic, ID: s.ID, Title: s.Title, FirstSeen: s.FirstSeen, LastSeen: s.LastSeen,
		FirstReport: refOf(s.FirstReport), ArticleCount: s.ArticleCount}
	for _, a := range s.Articles {
		v.Articles = append(v.Articles, refOf(a))
	}
	for _, o := range s.Outlets {
		v.Outlets = append(v.Outlets, outletView{Source: o.Source, FirstAt: o.FirstAt, Lag: o.LagSeconds, Articles: o.Articles})
	}
	return v
}

func refOf(a stories.Article) articleRef {
	return articleRef{ID: a.ID, URL: a.URL, Title: a.Title, Source: a.Source, At: a.PublishedAt}
}

// storiesOf returns up to limit stories of a topic, the most recently active first.
func (s *server) storiesOf(topic string, limit int) []storyView {
	list := s.o.Stories.Stories(topic, limit)
	out := make([]storyView, len(list))
	for i, st := range list {
		out[i] = storyOf(topic, st)
	}
	return out
}

// storyByID finds a retained story of a topic.
func (s *server) storyByID(topic, id string) (storyView, bool) {
	for _, st := range s.o.Stories.Stories(topic, 0) {
		if st.ID == id {
			return storyOf(topic, st), true
		}
	}
	return storyView{}, false
}

func (s *server) trending(topic string, now time.Time, limit int) []trendView {
	var out []trendView
	for _, t := range s.o.Stories.Trending(topic, now, limit) {
		out = append(out, trendView{Term: t.Term, Stories: t.Stories, Sources: t.Sources, BaselineStories: t.BaselineStories, Ratio: t.Ratio})
	}
	return out
}
