package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// identityKey is the key of the store's identity in the projection bucket.
const identityKey = "store.identity"

// StoreIdentity records which configuration created a store, so that a tool started without
// --config can tell that the store it reached belongs to another configuration.
type StoreIdentity struct {
	// Config is the configuration file's absolute path, or "" for the built-in default.
	Config string `json:"config"`
	// Builtin is true when the built-in default configuration created the store.
	Builtin bool     `json:"builtin"`
	Feeds   []string `json:"feeds"`
	Topics  []string `json:"topics"`
	// Created is when the identity was recorded; ArticlesCreated is when the article stream was.
	Created         time.Time `json:"created"`
	ArticlesCreated time.Time `json:"articles_created"`
}

// ClaimIdentity records id as the store's identity unless the store already has one, and
// returns the identity on record: the first configuration to use a store names it.
func (c *Conn) ClaimIdentity(ctx context.Context, id StoreIdentity) (StoreIdentity, error) {
	kv, err := c.bucket(ctx)
	if err != nil {
		return StoreIdentity{}, err
	}
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	if st, err := c.JS.Stream(cctx, ArticleStream); err == nil {
		id.ArticlesCreated = st.CachedInfo().Created.UTC()
	}
	data, err := json.Marshal(id)
	if err != nil {
		return StoreIdentity{}, err
	}
	if _, err := kv.Create(cctx, identityKey, data); err == nil {
		return id, nil
	} else if !errors.Is(err, jetstream.ErrKeyExists) {
		return StoreIdentity{}, fmt.Errorf("record store identity: %w", err)
	}
	e, err := kv.Get(cctx, identityKey)
	if err != nil {
		return StoreIdentity{}, fmt.Errorf("read store identity: %w", err)
	}
	var got StoreIdentity
	if err := json.Unmarshal(e.Value(), &got); err != nil {
		return StoreIdentity{}, fmt.Errorf("read store identity: %w", err)
	}
	return got, nil
}

// Where says which store the connection reaches: the embedded server's data directory, or the
// NATS server's URL (credentials left out).
func (c *Conn) Where() string {
	if c.srv != nil {
		if url := c.ClientURL(); url != "" {
			return fmt.Sprintf("embedded NATS server (%s) on data dir %s", url, c.srv.StoreDir())
		}
		return "embedded NATS server on data dir " + c.srv.StoreDir()
	}
	return "NATS server " + c.NC.ConnectedUrlRedacted()
}

// String names the configuration that created the store.
func (id StoreIdentity) String() string {
	name := id.Config
	if id.Builtin || name == "" {
		name = "the built-in default config"
	}
	return fmt.Sprintf("%s (%d feeds, %d topics; streams created %s)", name, len(id.Feeds), len(id.Topics),
		id.ArticlesCreated.Format(time.RFC3339))
}
