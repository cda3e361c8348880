package stories

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// snapshotVersion is the format of Snapshot. A snapshot of another version is refused, and
// the projector then rebuilds the projection from the stream. Version 2: members' terms
// leave out those of the query terms that matched (version 1 kept them). Version 3: a story
// keeps all its articles (version 2 kept the earliest 50).
const snapshotVersion = 3

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
			ss := storySnap{
				Key: st.Key, ID: st.ID, First: st.First, Last: st.Last, Count: st.Count,
				Articles: st.Articles, IDs: st.IDs, Joins: st.Joins, Outlets: st.Outlets,
			}
			if e := t.index.live[st.Key]; e != nil {
				for _, m := range e.members {
					ss.Members = append(ss.Members, memberSnap{At: m.at, Article: m.article, Terms: encodeTerms(t.index.termsOfMember(m))})
				}
			}
			ts.Stories = append(ts.Stories, ss)
		}
		slices.SortFunc(ts.Stories, func(a, b storySnap) int { return cmp.Compare(a.Key, b.Key) })
		s.Topics[name] = ts
	}
	return json.Marshal(s)
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
		st := &story{
			ID: ss.ID, Key: ss.Key, First: ss.First, Last: ss.Last, Count: ss.Count,
			Articles: ss.Articles, IDs: ss.IDs, Joins: ss.Joins, Outlets: ss.Outlets,
		}
		t.stories[st.Key] = st
		for i, id := range st.IDs {
			t.byArticle[id] = articleRef{st.Key, int32(i)}
		}
		if len(ss.Members) == 0 {
			continue
		}
		e := &entry{first: ss.First, last: ss.Last}
		t.index.live[st.Key] = e
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
