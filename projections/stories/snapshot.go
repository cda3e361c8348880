package stories

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/newswatch/newswatch/events"
)

// snapshotVersion is the format of Snapshot. A snapshot of another version is refused, and
// the projector then rebuilds the projection from the stream. Version 2: members' terms
// leave out those of the query terms that matched (version 1 kept them). Version 3: a story
// keeps all its articles (version 2 kept the earliest 50). Version 4: Cyrillic stems lose
// the vowels they end with (terms.go), so members saved before have other terms.
const snapshotVersion = 4

// ErrSnapshotVersion is returned by Restore for a snapshot this build cannot read.
var ErrSnapshotVersion = errors.New("stories: unknown snapshot version")

type snapshot struct {
	Version int                  `json:"version"`
	Topics  map[string]topicSnap `json:"topics"`
}

type topicSnap struct {
	Next    uint64      `json:"next"`
	Horizon int64       `json:"horizon"`
	Pruned  int64       `json:"pruned"`
	Stories []storySnap `json:"stories"`
}

type storySnap struct {
	Key      uint64    `json:"key"`
	ID       string    `json:"id"`
	First    int64     `json:"first"`
	Last     int64     `json:"last"`
	Count    int       `json:"count"`
	Articles []Article `json:"articles"`
	IDs      []string  `json:"ids"`
	Joins    []join    `json:"joins"`
	Outlets  []Outlet  `json:"outlets"`
	// Members are the story's distinct reports while it can still be joined. Term weights
	// and the inverted index are rebuilt from them.
	Members []memberSnap `json:"members,omitempty"`
}

type memberSnap struct {
	At      int64  `json:"at"`
	Article string `json:"article"`
	// Terms are little-endian 64-bit words (base64 in JSON).
	Terms []byte `json:"terms"`
}

// Snapshot implements events.Projection. The same state always gives the same bytes.
func (p *Projection) Snapshot() ([]byte, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	s := snapshot{Version: snapshotVersion, Topics: make(map[string]topicSnap, len(p.topics))}
	for name, t := range p.topics {
		ts := topicSnap{Next: t.next, Horizon: t.horizon, Pruned: t.pruned, Stories: make([]storySnap, 0, len(t.stories))}
		for _, st := range t.stories {
			ts.Stories = append(ts.Stories, t.snapOf(st))
		}
		slices.SortFunc(ts.Stories, func(a, b storySnap) int { return cmp.Compare(a.Key, b.Key) })
		s.Topics[name] = ts
	}
	return json.Marshal(s)
}

// snapOf returns a story as snapshots hold it.
func (t *topicState) snapOf(st *story) storySnap {
	ss := storySnap{
		Key: st.Key, ID: st.ID, First: st.First, Last: st.Last, Count: st.Count,
		Articles: st.Articles, IDs: st.IDs, Joins: st.Joins, Outlets: st.Outlets,
	}
	if e := t.index.live[st.Key]; e != nil {
		for _, m := range e.members {
			ss.Members = append(ss.Members, memberSnap{At: m.at, Article: m.article, Terms: encodeTerms(t.index.termsOfMember(m))})
		}
	}
	return ss
}

// Restore implements events.Projection.
func (p *Projection) Restore(data []byte) error {
	topics := map[string]*topicState{}
	if len(data) > 0 {
		var s snapshot
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("restore %s: %w", Name, err)
		}
		if s.Version != snapshotVersion {
			return fmt.Errorf("restore %s: %w %d", Name, ErrSnapshotVersion, s.Version)
		}
		for name, ts := range s.Topics {
			t, err := p.restoreTopic(ts)
			if err != nil {
				return fmt.Errorf("restore %s topic %s: %w", Name, name, err)
			}
			topics[name] = t
		}
	}
	p.mu.Lock()
	p.topics = topics
	p.metaChanged = 0
	p.mu.Unlock()
	return nil
}

func (p *Projection) restoreTopic(ts topicSnap) (*topicState, error) {
	t := newTopicState(p.p)
	t.next, t.horizon, t.pruned = ts.Next, ts.Horizon, ts.Pruned
	for _, ss := range ts.Stories {
		if len(ss.Articles) == 0 || len(ss.Joins) != len(ss.IDs) {
			return nil, fmt.Errorf("story %s has no articles, or not one join per article", ss.ID)
		}
		if t.stories[ss.Key] != nil {
			return nil, fmt.Errorf("story %s is there twice", ss.ID)
		}
		st := &story{
			ID: ss.ID, Key: ss.Key, First: ss.First, Last: ss.Last, Count: ss.Count,
			Articles: ss.Articles, IDs: ss.IDs, Joins: ss.Joins, Outlets: ss.Outlets,
		}
		t.stories[st.Key] = st
		t.expiry.push(st.Last, st.Key)
		for i, id := range st.IDs {
			t.byArticle[id] = articleRef{st.Key, int32(i)}
		}
		if len(ss.Members) == 0 {
			continue
		}
		e := t.index.enter(st.Key, ss.First, ss.Last)
		for _, ms := range ss.Members {
			ts, err := decodeTerms(ms.Terms)
			if err != nil {
				return nil, fmt.Errorf("story %s: %w", ss.ID, err)
			}
			t.index.addMember(st.Key, e, ms.Article, ts, ms.At)
		}
	}
	return t, nil
}

func encodeTerms(ts termSet) []byte {
	b := make([]byte, 0, 8*len(ts))
	for _, t := range ts {
		b = binary.LittleEndian.AppendUint64(b, uint64(t))
	}
	return b
}

func decodeTerms(b []byte) (termSet, error) {
	if len(b)%8 != 0 {
		return nil, errors.New("member terms are not a whole number of words")
	}
	ts := make(termSet, len(b)/8)
	for i := range ts {
		ts[i] = term(binary.LittleEndian.Uint64(b[8*i:]))
	}
	if !slices.IsSorted(ts) {
		return nil, errors.New("member terms are not sorted")
	}
	return ts, nil
}

// The projection is saved in parts (events.PartedProjection), so that a save writes only what
// changed: part "meta" holds every topic's counters, and each topic's stories are in parts by
// the time of their first article, six hours a part. New articles join stories of the last
// two days, so a save between two events rewrites a part or two, not the week of stories a
// busy topic lists. Part names come back after partBuckets parts (16 days, longer than a
// story is kept unless it keeps getting articles), so the object store sees a bounded set of
// names.
const (
	partSpan    = 6 * 3600 // seconds
	partBuckets = 64
	metaPart    = "meta"
)

// partOf returns the part of a topic's stories that holds a story first seen at first (unix
// seconds).
func partOf(first int64) int {
	b := (first / partSpan) % partBuckets
	if first < 0 && first%partSpan != 0 {
		b-- // floor, not truncation
	}
	return int((b + partBuckets) % partBuckets)
}

func partName(topic string, part int) string { return fmt.Sprintf("t.%d.%s", part, topic) }

type metaSnap struct {
	Version int                 `json:"version"`
	Topics  map[string]topicRow `json:"topics"`
}

type topicRow struct {
	Next    uint64 `json:"next"`
	Horizon int64  `json:"horizon"`
	Pruned  int64  `json:"pruned"`
}

type partSnap struct {
	Version int         `json:"version"`
	Topic   string      `json:"topic"`
	Stories []storySnap `json:"stories"`
}

var _ events.PartedProjection = (*Projection)(nil)

// SnapshotParts implements events.PartedProjection: the parts are those of Snapshot's state,
// and the same state always gives the same bytes.
func (p *Projection) SnapshotParts(since uint64) (names []string, changed map[string][]byte, err error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	changed = map[string][]byte{}
	names = append(names, metaPart)
	if since == 0 || p.metaChanged > since {
		m := metaSnap{Version: snapshotVersion, Topics: make(map[string]topicRow, len(p.topics))}
		for name, t := range p.topics {
			m.Topics[name] = topicRow{Next: t.next, Horizon: t.horizon, Pruned: t.pruned}
		}
		if changed[metaPart], err = json.Marshal(m); err != nil {
			return nil, nil, err
		}
	}
	for topic, t := range p.topics {
		seen := map[int]bool{}
		dirty := map[int][]*story{}
		for _, st := range t.stories {
			part := partOf(st.First)
			if !seen[part] {
				seen[part] = true
				names = append(names, partName(topic, part))
			}
			if since == 0 || t.changed[part] > since {
				dirty[part] = append(dirty[part], st)
			}
		}
		for part, list := range dirty {
			slices.SortFunc(list, func(a, b *story) int { return cmp.Compare(a.Key, b.Key) })
			ps := partSnap{Version: snapshotVersion, Topic: topic, Stories: make([]storySnap, 0, len(list))}
			for _, st := range list {
				ps.Stories = append(ps.Stories, t.snapOf(st))
			}
			b, err := json.Marshal(ps)
			if err != nil {
				return nil, nil, err
			}
			changed[partName(topic, part)] = b
		}
	}
	slices.Sort(names)
	return names, changed, nil
}

// RestoreParts implements events.PartedProjection.
func (p *Projection) RestoreParts(parts map[string][]byte) error {
	var m metaSnap
	if err := json.Unmarshal(parts[metaPart], &m); err != nil {
		return fmt.Errorf("restore %s: part %s: %w", Name, metaPart, err)
	}
	if m.Version != snapshotVersion {
		return fmt.Errorf("restore %s: %w %d", Name, ErrSnapshotVersion, m.Version)
	}
	snaps := make(map[string]*topicSnap, len(m.Topics))
	for name, row := range m.Topics {
		snaps[name] = &topicSnap{Next: row.Next, Horizon: row.Horizon, Pruned: row.Pruned}
	}
	for name, b := range parts {
		if name == metaPart {
			continue
		}
		var ps partSnap
		if err := json.Unmarshal(b, &ps); err != nil {
			return fmt.Errorf("restore %s: part %s: %w", Name, name, err)
		}
		ts := snaps[ps.Topic]
		if ps.Version != snapshotVersion || ts == nil {
			return fmt.Errorf("restore %s: part %s: version %d of topic %q, not in the meta part", Name, name, ps.Version, ps.Topic)
		}
		ts.Stories = append(ts.Stories, ps.Stories...)
	}
	topics := make(map[string]*topicState, len(snaps))
	for name, ts := range snaps {
		// In key order, as Snapshot writes them: the index is rebuilt in the same order.
		slices.SortFunc(ts.Stories, func(a, b storySnap) int { return cmp.Compare(a.Key, b.Key) })
		t, err := p.restoreTopic(*ts)
		if err != nil {
			return fmt.Errorf("restore %s topic %s: %w", Name, name, err)
		}
		topics[name] = t
	}
	p.mu.Lock()
	p.topics = topics
	p.metaChanged = 0
	p.mu.Unlock()
	return nil
}
