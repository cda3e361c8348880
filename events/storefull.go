package events

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// ErrStoreFull is matched (errors.Is) by a write that failed because the event store has no
// room: the disk is full, or JetStream's storage limit (nats.max_store, an account limit) is
// reached.
var ErrStoreFull = errors.New("events: event store full")

// storeFullError says why a write failed in the store's terms, keeping the server's error.
type storeFullError struct {
	reason string
	err    error
}

func (e *storeFullError) Error() string {
	return fmt.Sprintf("event store full (%s): %v", e.reason, e.err)
}

func (e *storeFullError) Unwrap() []error { return []error{ErrStoreFull, e.err} }

// writeHealth remembers whether the last write failed for lack of room.
type writeHealth struct {
	mu  sync.Mutex
	err error
}

// storeFullHeadroom is how close to its limit a store counts as full when a write fails
// without saying why: less room than a poll's batch of long articles.
const storeFullHeadroom = 1 << 20

// checkWrite classifies a write's outcome. A success clears the store-full state; a failure
// caused by a full store comes back saying so (and matching ErrStoreFull), and WriteError
// reports it until a write succeeds. Other errors are returned as they are.
func (c *Conn) checkWrite(ctx context.Context, err error) error {
	if err == nil {
		c.writes.mu.Lock()
		c.writes.err = nil
		c.writes.mu.Unlock()
		return nil
	}
	if errors.Is(err, ErrStoreFull) {
		return err
	}
	reason := c.fullReason(ctx, err)
	if reason == "" {
		return err
	}
	err = &storeFullError{reason: reason, err: err}
	c.writes.mu.Lock()
	c.writes.err = err
	c.writes.mu.Unlock()
	return err
}

// WriteError is the last write's failure for lack of room, or nil when the last write that
// reached the store succeeded: readiness reports it, since nothing new can be stored.
func (c *Conn) WriteError() error {
	c.writes.mu.Lock()
	defer c.writes.mu.Unlock()
	return c.writes.err
}

// fullReason says why err means the store is full, or "" when it does not. The server's own
// words come first; an atomic batch that was abandoned or never answered does not say why, so
// then the store is asked how full it is.
func (c *Conn) fullReason(ctx context.Context, err error) string {
	if strings.Contains(err.Error(), "no space left") {
		return "disk full"
	}
	if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
		return "JetStream is disabled on the server, as it does when the disk is full"
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode {
		case 10023, 10047: // insufficient resources, insufficient storage resources available
			return "no storage left: " + apiErr.Description
		case 10039: // JetStream not enabled for account
			return "JetStream is disabled on the server, as it does when the disk is full"
		}
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	used, limit, serr := c.Storage(pctx)
	switch {
	case errors.Is(serr, jetstream.ErrJetStreamNotEnabled) || errors.Is(serr, jetstream.ErrJetStreamNotEnabledForAccount):
		return "JetStream is disabled on the server, as it does when the disk is full"
	case serr != nil || limit <= 0:
		return ""
	case used+storeFullHeadroom >= uint64(limit) || used >= uint64(limit)/100*99:
		return fmt.Sprintf("%d of %d bytes of JetStream storage used", used, limit)
	}
	return ""
}
