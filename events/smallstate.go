package events

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// Small state documents with compare-and-set: one key per item (a feed's WebSub
// subscription), written by whichever instance handles it, so every write names the revision
// it read. They are inline values only (at most MaxSmallState bytes), never objects.

// MaxSmallState is the largest value PutSmallState stores.
const MaxSmallState = 64 << 10

// ErrStateConflict is returned by PutSmallState when the key's revision is not the one given.
var ErrStateConflict = errors.New("events: state key changed since it was read")

// GetSmallState reads state.<key> and its revision; nil and 0 when absent.
func (c *Conn) GetSmallState(ctx context.Context, key string) ([]byte, uint64, error) {
	kv, err := c.bucket(ctx)
	if err != nil {
		return nil, 0, err
	}
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	e, err := kv.Get(cctx, "state."+key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("read state.%s: %w", key, err)
	}
	return e.Value(), e.Revision(), nil
}

// PutSmallState stores data under state.<key> if its revision is still rev (0: the key is
// absent or deleted) and returns the new revision.
func (c *Conn) PutSmallState(ctx context.Context, key string, data []byte, rev uint64) (uint64, error) {
	if len(data) > MaxSmallState {
		return 0, fmt.Errorf("store state.%s: %d bytes, more than %d", key, len(data), MaxSmallState)
	}
	kv, err := c.bucket(ctx)
	if err != nil {
		return 0, err
	}
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	var n uint64
	if rev == 0 {
		n, err = kv.Create(cctx, "state."+key, data)
	} else {
		n, err = kv.Update(cctx, "state."+key, data, rev)
	}
	switch {
	case errors.Is(err, jetstream.ErrKeyExists), errors.Is(err, jetstream.ErrKeyRevisionMismatch):
		return 0, fmt.Errorf("store state.%s: %w", key, ErrStateConflict)
	case err != nil:
		return 0, c.checkWrite(ctx, fmt.Errorf("store state.%s: %w", key, err))
	}
	return n, nil
}

// DeleteState deletes state.<key>; an absent key is not an error.
func (c *Conn) DeleteState(ctx context.Context, key string) error {
	kv, err := c.bucket(ctx)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if err := kv.Delete(cctx, "state."+key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("delete state.%s: %w", key, err)
	}
	return nil
}

// ListSmallState calls fn with every key under state.<prefix>. (its part after the prefix)
// and its value.
func (c *Conn) ListSmallState(ctx context.Context, prefix string, fn func(key string, data []byte) error) error {
	kv, err := c.bucket(ctx)
	if err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	full := "state." + prefix + "."
	lister, err := kv.ListKeysFiltered(cctx, full+">")
	if err != nil {
		return fmt.Errorf("list state.%s: %w", prefix, err)
	}
	var keys []string
	for k := range lister.Keys() {
		keys = append(keys, k)
	}
	for _, k := range keys {
		data, _, err := c.GetSmallState(ctx, strings.TrimPrefix(k, "state."))
		if err != nil {
			return err
		}
		if data == nil {
			continue // deleted meanwhile
		}
		if err := fn(strings.TrimPrefix(k, full), data); err != nil {
			return err
		}
	}
	return nil
}
