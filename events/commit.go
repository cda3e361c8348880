package events

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"
)

// maxBatchBytes bounds the payload of one atomic batch, so a group of large articles is split
// into several commits rather than one the server must buffer whole. The embedded server
// writes each batch into a temporary store and reads it back at commit, each time into a
// block buffer from a pool sized by the batch: 1 MiB for a batch under 1 MiB, 8 MiB above
// 4 MiB. Buffers go back to the pool only when a collection finds them unreachable, so
// several are alive at once; at 8 MiB batches they were the largest part of the heap. 960 KiB
// leaves room for the headers and markers of the batch's articles.
const maxBatchBytes = 960 << 10

// ArticleGroup is the articles of one poll, for a group commit.
type ArticleGroup struct {
	FeedID   string
	Articles []Article
}

// GroupResult is what happened to one group's articles.
type GroupResult struct {
	PublishResult
	// TooLarge counts articles skipped because their event exceeded max_payload; the rest of
	// the group is stored all the same.
	TooLarge int
	// Err is set when some of the group's new articles were not stored; Published still
	// lists those that were.
	Err error
}

// pending is one fresh article on its way into a batch.
type pending struct {
	group int
	art   Article
	msgs  [2]*nats.Msg
	size  int
}

// PublishArticleGroups appends the never-seen articles of many polls with one id lookup and
// as few atomic batches as the server's limits allow (maxBatchArticles articles with their
// markers, maxBatchBytes of payload). Each article commits together with its marker; an id
// that appears in two groups is stored once, for the first. Results are in group order.
func (s *Store) PublishArticleGroups(ctx context.Context, groups []ArticleGroup) []GroupResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	res := make([]GroupResult, len(groups))
	var all []Article
	owner := make([]int, 0)
	for gi, g := range groups {
		for _, a := range g.Articles {
			all = append(all, a)
			owner = append(owner, gi)
		}
	}
	fresh, err := s.freshIndexes(ctx, all)
	if err != nil {
		for i := range res {
			res[i].Err = err
		}
		return res
	}
	isFresh := make([]bool, len(all))
	for _, i := range fresh {
		isFresh[i] = true
	}
	for i := range all {
		if !isFresh[i] {
			res[owner[i]].Duplicates++
		}
	}
	batch := make([]pending, 0, min(len(fresh), maxBatchArticles))
	size := 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.publishPending(ctx, batch)
		for _, p := range batch {
			if err != nil {
				res[p.group].Err = err
				continue
			}
			s.seen.add(p.art.ID)
			res[p.group].Published = append(res[p.group].Published, p.art)
		}
		batch, size = batch[:0], 0
		return err
	}
	maxPayload := int(s.conn.NC.MaxPayload())
	for n, i := range fresh {
		p, err := articleMsgs(groups[owner[i]].FeedID, all[i])
		p.group = owner[i]
		switch {
		case err != nil:
			res[p.group].Err = err
			continue
		case p.size > maxPayload:
			res[p.group].TooLarge++
			continue
		}
		if len(batch) == maxBatchArticles || (len(batch) > 0 && size+p.size > maxBatchBytes) {
			if err := flush(); err != nil {
				failRest(res, owner, fresh[n:], err)
				return res
			}
		}
		batch = append(batch, p)
		size += p.size
	}
	if err := flush(); err != nil {
		return res
	}
	return res
}

// failRest marks the groups of articles that were never tried as failed.
func failRest(res []GroupResult, owner []int, rest []int, err error) {
	for _, i := range rest {
		res[owner[i]].Err = err
	}
}

// freshIndexes returns the indexes of the articles whose ids are neither in the log nor
// earlier in arts.
func (s *Store) freshIndexes(ctx context.Context, arts []Article) ([]int, error) {
	inBatch := make(map[string]bool, len(arts))
	var candidates []Article
	var idx []int
	for i, a := range arts {
		if inBatch[a.ID] || s.seen.has(a.ID) {
			continue
		}
		inBatch[a.ID] = true
		candidates = append(candidates, a)
		idx = append(idx, i)
	}
	known, err := s.knownIDs(ctx, candidates)
	if err != nil {
		return nil, err
	}
	fresh := idx[:0]
	for n, a := range candidates {
		if known[a.ID] {
			s.seen.add(a.ID)
			continue
		}
		fresh = append(fresh, idx[n])
	}
	return fresh, nil
}

func articleMsgs(feedID string, a Article) (pending, error) {
	body, err := EncodeArticle(a)
	if err != nil {
		return pending{art: a}, err
	}
	m := nats.NewMsg(ArticleSubjectPrefix + feedID)
	m.Data = body
	m.Header.Set(jetstream.MsgIDHeader, "article-"+a.ID)
	m.Header.Set(HeaderType, TypeArticle)
	m.Header.Set(HeaderSchema, "1")
	marker := nats.NewMsg(articleIDSubjectPrefix + a.ID)
	return pending{art: a, msgs: [2]*nats.Msg{m, marker}, size: len(body)}, nil
}

func (s *Store) publishPending(ctx context.Context, batch []pending) error {
	msgs := make([]*nats.Msg, 0, 2*len(batch))
	for _, p := range batch {
		msgs = append(msgs, p.msgs[0], p.msgs[1])
	}
	ack, err := s.publishAtomic(ctx, msgs)
	if err := s.conn.checkWrite(ctx, err); err != nil {
		return fmt.Errorf("append %d articles: %w", len(batch), err)
	}
	if n := uint64(len(msgs)); ack != nil && ack.Stream == ArticleStream && ack.BatchSize == n && ack.Sequence >= n {
		s.conn.recent.add(ack.Sequence-n+1, msgs)
	}
	return nil
}

// publishAtomic appends msgs as one atomic batch and returns the server's acknowledgement of
// it. When the server refuses it because one of them is stored already (a batch cut short by a
// full store, or a retried commit, whose answer the batch helper cannot read), it appends them
// one by one: the server acknowledges the stored ones as duplicates and adds the rest; then
// there is no batch acknowledgement.
func (s *Store) publishAtomic(ctx context.Context, msgs []*nats.Msg) (*jetstreamext.BatchAck, error) {
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	ack, err := jetstreamext.PublishMsgBatch(cctx, s.conn.JS, msgs)
	if isDuplicateBatch(err) || errors.Is(err, jetstream.ErrInvalidJSAck) {
		for _, m := range msgs {
			// The batch helper marked the messages; unmarked, each is an ordinary publish.
			m.Header.Del(jetstreamext.BatchIDHeader)
			m.Header.Del(jetstreamext.BatchSeqHeader)
			m.Header.Del(jetstreamext.BatchCommitHeader)
			if _, perr := s.conn.JS.PublishMsg(cctx, m); perr != nil {
				return nil, perr
			}
		}
		return nil, nil
	}
	return ack, err
}

// PublishPolls appends poll outcome events in as few atomic batches as the server allows: one
// commit (one fsync) for a whole group of polls instead of one each.
func (s *Store) PublishPolls(ctx context.Context, polls []Poll) error {
	msgs := make([]*nats.Msg, 0, min(len(polls), maxBatchMsgs))
	size := 0
	for _, p := range polls {
		body, err := EncodePoll(p)
		if err != nil {
			return err
		}
		if len(msgs) == maxBatchMsgs || (len(msgs) > 0 && size+len(body) > maxBatchBytes) {
			if _, err := s.publishAtomic(ctx, msgs); err != nil {
				return fmt.Errorf("append %d polls: %w", len(msgs), err)
			}
			msgs, size = msgs[:0], 0
		}
		m := nats.NewMsg(PollSubjectPrefix + p.FeedID)
		m.Data = body
		m.Header.Set(jetstream.MsgIDHeader, p.ID())
		m.Header.Set(HeaderType, TypePoll)
		m.Header.Set(HeaderSchema, "1")
		msgs = append(msgs, m)
		size += len(body)
	}
	if len(msgs) == 0 {
		return nil
	}
	if _, err := s.publishAtomic(ctx, msgs); err != nil {
		return fmt.Errorf("append %d polls: %w", len(msgs), err)
	}
	return nil
}
