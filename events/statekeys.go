package events

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// State documents one per item (a feed's WebSub subscription, state.websub.<feed>): written
// with PutStateIf over the revision read with GetStateRev, deleted and listed here.

// DeleteState deletes state.<key> (and its object, when it was large); an absent key is not an
// error.
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
	c.deleteObjects(ctx, "state."+key, "")
	return nil
}

// ListState calls fn with every key under state.<prefix>. (its part after the prefix) and its
// value.
func (c *Conn) ListState(ctx context.Context, prefix string, fn func(key string, data []byte) error) error {
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
		data, _, err := c.GetStateRev(ctx, strings.TrimPrefix(k, "state."))
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
