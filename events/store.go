package events

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"
)

// Headers set on every event message, so tools can filter without decoding the body.
const (
	HeaderType   = "Newswatch-Type"
	HeaderSchema = "Newswatch-Schema"
)

// maxBatchArticles keeps an atomic batch (two messages per article) under the server's default
// limit of 1,000 messages.
const maxBatchArticles = 450

// lookupChunk bounds the subjects of one multi-subject direct get.
const lookupChunk = 256

// PublishResult says what happened to a poll's articles.
type PublishResult struct {
	// Published are the articles appended to the log, in feed order.
	Published []Article
	// Duplicates is how many were already in the log (ever), or repeated within the poll.
	Duplicates int
}

// Store appends events to JetStream. Article publishing is serialized so the check for an
// article id and the append of its marker cannot interleave with another feed's poll.
type Store struct {
	conn *Conn
	mu   sync.Mutex
	seen *idCache
}

// idCacheSize is how many confirmed article ids a Store remembers: about 100 bytes each. Known
// items are cut out of a document before parsing (feeds/itemscan), so the cache mostly serves
// stories carried by several feeds and the first full parse of each feed after a restart; at
// 200,000 it held 22 MB of a 10,000-feed daemon's heap.
const idCacheSize = 50_000

// NewStore returns a Store on an established connection whose streams exist.
func NewStore(c *Conn) *Store {
	return &Store{conn: c, seen: newIDCache(idCacheSize)}
}

// PublishArticles appends the articles never seen before, in atomic batches: each article and
// its id marker commit together, so after a crash an article is either fully recorded (and
// never published again) or not at all (and published on the next poll).
func (s *Store) PublishArticles(ctx context.Context, feedID string, arts []Article) (PublishResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var res PublishResult
	fresh, dups, err := s.unseen(ctx, arts)
	res.Duplicates = dups
	if err != nil {
		return res, err
	}
	for start := 0; start < len(fresh); start += maxBatchArticles {
		chunk := fresh[start:min(start+maxBatchArticles, len(fresh))]
		if err := s.publishBatch(ctx, feedID, chunk); err != nil {
			return res, err
		}
		for _, a := range chunk {
			s.seen.add(a.ID)
		}
		res.Published = append(res.Published, chunk...)
	}
	return res, nil
}

// unseen drops articles whose id is in the log already or repeats within arts.
func (s *Store) unseen(ctx context.Context, arts []Article) ([]Article, int, error) {
	inBatch := make(map[string]bool, len(arts))
	var candidates []Article
	dups := 0
	for _, a := range arts {
		if inBatch[a.ID] || s.seen.has(a.ID) {
			dups++
			continue
		}
		inBatch[a.ID] = true
		candidates = append(candidates, a)
	}
	known, err := s.knownIDs(ctx, candidates)
	if err != nil {
		return nil, dups, err
	}
	fresh := candidates[:0:0]
	for _, a := range candidates {
		if known[a.ID] {
			s.seen.add(a.ID)
			dups++
			continue
		}
		fresh = append(fresh, a)
	}
	return fresh, dups, nil
}

// knownIDs asks the article stream which of the articles' id markers exist, many per request.
func (s *Store) knownIDs(ctx context.Context, arts []Article) (map[string]bool, error) {
	known := make(map[string]bool)
	for start := 0; start < len(arts); start += lookupChunk {
		chunk := arts[start:min(start+lookupChunk, len(arts))]
		subjects := make([]string, len(chunk))
		for i, a := range chunk {
			subjects[i] = articleIDSubjectPrefix + a.ID
		}
		cctx, cancel := context.WithTimeout(ctx, apiTimeout)
		msgs, err := jetstreamext.GetLastMsgsFor(cctx, s.conn.JS, ArticleStream, subjects)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("look up article ids: %w", err)
		}
		for m, err := range msgs {
			if errors.Is(err, jetstreamext.ErrNoMessages) {
				break
			}
			if err != nil {
				cancel()
				return nil, fmt.Errorf("look up article ids: %w", err)
			}
			known[strings.TrimPrefix(m.Subject, articleIDSubjectPrefix)] = true
		}
		cancel()
	}
	return known, nil
}

func (s *Store) publishBatch(ctx context.Context, feedID string, arts []Article) error {
	msgs := make([]*nats.Msg, 0, 2*len(arts))
	for _, a := range arts {
		body, err := EncodeArticle(a)
		if err != nil {
			return err
		}
		m := nats.NewMsg(ArticleSubjectPrefix + feedID)
		m.Data = body
		m.Header.Set(jetstream.MsgIDHeader, "article-"+a.ID)
		m.Header.Set(HeaderType, TypeArticle)
		m.Header.Set(HeaderSchema, "1")
		marker := nats.NewMsg(articleIDSubjectPrefix + a.ID)
		msgs = append(msgs, m, marker)
	}
	_, err := s.publishAtomic(ctx, msgs)
	if err := s.conn.checkWrite(ctx, err); err != nil {
		return fmt.Errorf("append %d articles of %s: %w", len(arts), feedID, err)
	}
	return nil
}

// PublishPoll appends a poll outcome event.
func (s *Store) PublishPoll(ctx context.Context, p Poll) error {
	body, err := EncodePoll(p)
	if err != nil {
		return err
	}
	m := nats.NewMsg(PollSubjectPrefix + p.FeedID)
	m.Data = body
	m.Header.Set(jetstream.MsgIDHeader, p.ID())
	m.Header.Set(HeaderType, TypePoll)
	m.Header.Set(HeaderSchema, "1")
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	_, err = s.conn.JS.PublishMsg(cctx, m)
	if err := s.conn.checkWrite(ctx, err); err != nil {
		return fmt.Errorf("append poll of %s: %w", p.FeedID, err)
	}
	return nil
}

// LastPoll returns the most recent poll event of a feed, or nil when it has none.
func (s *Store) LastPoll(ctx context.Context, feedID string) (*Poll, error) {
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	stream, err := s.conn.JS.Stream(cctx, PollStream)
	if err != nil {
		return nil, fmt.Errorf("last poll of %s: %w", feedID, err)
	}
	raw, err := stream.GetLastMsgForSubject(cctx, PollSubjectPrefix+feedID)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("last poll of %s: %w", feedID, err)
	}
	p, err := ParsePoll(raw.Data)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// StreamState is what the metrics of a stream show.
type StreamState struct {
	Msgs, Bytes, LastSeq uint64
	FirstTime            time.Time
}

// StreamInfo reads a stream's message count and size.
func (c *Conn) StreamInfo(ctx context.Context, name string) (StreamState, error) {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st, err := c.JS.Stream(cctx, name)
	if err != nil {
		return StreamState{}, err
	}
	info := st.CachedInfo()
	return StreamState{Msgs: info.State.Msgs, Bytes: info.State.Bytes, LastSeq: info.State.LastSeq, FirstTime: info.State.FirstTime}, nil
}
