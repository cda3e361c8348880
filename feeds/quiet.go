package feeds

import (
	"sync"
	"time"

	"github.com/newswatch/newswatch/events"
)

// DefaultQuietFlush is how long the outcome event of a poll that changed nothing may wait to
// be stored (docs/architecture.md, "Poll events").
const DefaultQuietFlush = 5 * time.Second

// quietPolls holds the outcome events of polls that changed nothing: a 304, or a 200 whose
// body is byte-identical to the last stored one, with the same validators, after a success.
// Each atomic batch costs the embedded server a temporary store of its own (files, fsyncs), so
// one batch per poll would make a 304 cost a millisecond; held, they share a batch with the
// next polls that must be stored, or are stored together after at most the flush delay.
// Losing them (kill -9) loses only their timestamps: the last stored event of the feed has the
// same validators and failure count, which is what a restart reads. At most max are held.
type quietPolls struct {
	mu    sync.Mutex
	polls []events.Poll
	max   int
	// added is signalled (without blocking) when the held events go from none to some, so the
	// writer arms its flush timer.
	added chan struct{}
}

func newQuietPolls(maxHeld int) *quietPolls {
	return &quietPolls{max: maxHeld, added: make(chan struct{}, 1)}
}

// hold keeps a quiet poll's event; it reports false when the buffer is full, and the event
// must be stored with the polls at hand. complete, when not nil, is called first, only when
// the event is held, to settle the poll and fill in its event.
func (q *quietPolls) hold(poll events.Poll, complete func(*events.Poll)) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.polls) >= q.max {
		return false
	}
	if complete != nil {
		complete(&poll)
	}
	q.polls = append(q.polls, poll)
	if len(q.polls) == 1 {
		select {
		case q.added <- struct{}{}:
		default:
		}
	}
	return true
}

// take returns the held events, oldest first, and empties the buffer.
func (q *quietPolls) take() []events.Poll {
	q.mu.Lock()
	defer q.mu.Unlock()
	polls := q.polls
	q.polls = nil
	return polls
}

// changesNothing reports whether a finished scheduled poll, before settle updates the feed's
// state, would store an event that says nothing new: a success without new articles, errors or
// cuts, with the validators already stored, after a success (no failure count to reset).
func changesNothing(j *job) bool {
	st, poll := &j.r.state, &j.poll
	if st.slot.IsZero() || poll.Failed() || poll.Error != "" || poll.New > 0 || j.oversize > 0 ||
		st.failures > 0 || st.lastSuccess == nil || poll.ETag != st.etag || poll.LastModified != st.lastModified {
		return false
	}
	switch poll.Result {
	case events.ResultNotModified:
		return true
	case events.ResultOK:
		return st.bodyHash != 0 && j.bodyHash == st.bodyHash
	}
	return false
}
