package stories

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Limits of a page of stories.
const (
	// DefaultPageLimit is how many stories a page has when the request names no limit.
	DefaultPageLimit = 50
	// MaxPageLimit is the most stories one page has.
	MaxPageLimit = 500
)

// ErrCursor is returned by Page for a cursor it did not write.
var ErrCursor = errors.New("stories: malformed cursor")

// Page is one page of a topic's stories, newest first (by first report, then by id).
// NextCursor, when set, asks for the page after it.
type Page struct {
	Stories    []Story `json:"stories"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

// Page returns up to limit stories of a topic (DefaultPageLimit when limit ≤ 0, at most
// MaxPageLimit) with all their articles, newest first, after the story the cursor names
// ("" for the first page). A cursor holds the position of the last story of its page, not a
// reference to it, so paging goes on where it stopped even when that story has since been
// pruned; a story founded while paging shows on the first page, not in the middle.
func (p *Projection) Page(topic, cursor string, limit int) (Page, error) {
	if limit <= 0 {
		limit = DefaultPageLimit
	}
	limit = min(limit, MaxPageLimit)
	after, hasAfter, err := parseCursor(cursor)
	if err != nil {
		return Page{}, err
	}
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := Page{Stories: []Story{}}
	t := p.topics[topic]
	if t == nil {
		return out, nil
	}
	list := make([]*story, 0, len(t.stories))
	for _, s := range t.stories {
		if !hasAfter || comparePosition(position{s.First, s.ID}, after) > 0 {
			list = append(list, s)
		}
	}
	slices.SortFunc(list, func(a, b *story) int {
		return comparePosition(position{a.First, a.ID}, position{b.First, b.ID})
	})
	if len(list) > limit {
		list = list[:limit]
		last := list[limit-1]
		out.NextCursor = position{last.First, last.ID}.String()
	}
	for _, s := range list {
		out.Stories = append(out.Stories, s.public(0))
	}
	return out, nil
}

// Story returns one story of a topic with all its articles, while it is retained.
func (p *Projection) Story(topic, id string) (Story, bool) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	t := p.topics[topic]
	if t == nil {
		return Story{}, false
	}
	for _, s := range t.stories {
		if s.ID == id {
			return s.public(0), true
		}
	}
	return Story{}, false
}

// position is where a story sorts in a page: newest first report first, then by id.
type position struct {
	first int64
	id    string
}

func comparePosition(a, b position) int {
	if c := cmp.Compare(b.first, a.first); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

func (p position) String() string { return strconv.FormatInt(p.first, 10) + "." + p.id }

func parseCursor(s string) (position, bool, error) {
	if s == "" {
		return position{}, false, nil
	}
	sec, id, ok := strings.Cut(s, ".")
	first, err := strconv.ParseInt(sec, 10, 64)
	if !ok || err != nil || !strings.HasPrefix(id, "story-") {
		return position{}, false, fmt.Errorf("%w %q: use the next_cursor of a page", ErrCursor, s)
	}
	return position{first, id}, true, nil
}
