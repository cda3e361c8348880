package events

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// PartedProjection is a Projection whose state is saved in parts, so that a save writes only
// the parts that changed since the last one: a busy topic's stories are tens of MB, of which
// a second of events touches a few stories. The projector saves such a projection as a
// manifest under its key (the sequence, and for each part the object holding it) and one
// object per part, in the snapshot object store. A rebuilt version (Rebuild) is still written
// whole, with Snapshot, and Restore reads it.
type PartedProjection interface {
	Projection
	// SnapshotParts returns the names of every part of the state, sorted, and the encoded
	// parts that changed after the event at stream sequence since was applied: every part
	// when since is 0. Part names are few and come back (a part per topic and age, say), since
	// every name ever used leaves a delete marker in the object store.
	SnapshotParts(since uint64) (names []string, changed map[string][]byte, err error)
	// RestoreParts replaces the state with the parts of a snapshot, every part named.
	RestoreParts(parts map[string][]byte) error
}

// partedSnapshot is what the key of a parted projection holds. The manifest sits under a
// field of its own: a newswatch from before parts reads the value as a snapshot without a
// sequence or a state, and rebuilds from the start rather than resume with an empty state.
type partedSnapshot struct {
	Parted *manifest `json:"parted"`
}

type manifest struct {
	Seq     uint64             `json:"seq"`
	Version string             `json:"version,omitempty"`
	Saved   time.Time          `json:"saved"`
	Parts   map[string]partRef `json:"parts"`
}

// partRef is where a part is: its object (one of the part's two slots, written in turn, so a
// save never overwrites an object the saved manifest points at), its size and digest.
type partRef struct {
	Object string `json:"object"`
	Size   int    `json:"size"`
	SHA256 string `json:"sha256"`
}

// partSlots are the two object names of a part of key.
func partSlots(key, part string) [2]string {
	return [2]string{key + "/p/" + part + "/a", key + "/p/" + part + "/b"}
}

// decodeManifest returns the manifest a key's value holds; nil when the value is a whole
// snapshot.
func decodeManifest(key string, b []byte) (*manifest, error) {
	var ps partedSnapshot
	if err := json.Unmarshal(b, &ps); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", key, err)
	}
	return ps.Parted, nil
}

// readParts fetches every part of a manifest, checked against it.
func (c *Conn) readParts(ctx context.Context, key string, m *manifest) (map[string][]byte, error) {
	obs, err := c.objects(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(m.Parts))
	for name, ref := range m.Parts {
		slots := partSlots(key, name)
		if ref.Object != slots[0] && ref.Object != slots[1] {
			return nil, fmt.Errorf("%s: part %s names object %s: %w", key, name, ref.Object, errObjectLost)
		}
		octx, cancel := context.WithTimeout(ctx, objectTimeout)
		data, err := obs.GetBytes(octx, ref.Object)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%s: part %s: %w: %w", key, name, errObjectLost, err)
		}
		if sum := sha256.Sum256(data); len(data) != ref.Size || hex.EncodeToString(sum[:]) != ref.SHA256 {
			return nil, fmt.Errorf("%s: part %s: %w: size or digest differ", key, name, errObjectLost)
		}
		out[name] = data
	}
	return out, nil
}

// saveParts saves a parted projection's state at sequence seq: the parts that changed since
// the saved manifest prev (the one this projector saved or restored, at sequence since) each
// to the slot the stored manifest does not use, then the new manifest under key, and only then
// deletes the objects no manifest needs any more. A save that dies half-way leaves the stored
// manifest and every object it names intact. When the key holds another manifest than prev
// (another instance saved meanwhile, in cluster mode) or none, every part is written. It
// returns the manifest saved.
func (c *Conn) saveParts(ctx context.Context, kv jetstream.KeyValue, key string, proj PartedProjection, prev *manifest,
	seq, since uint64, version string) (*manifest, error) {
	cur, err := c.getLarge(ctx, kv, key)
	if err != nil {
		return nil, err
	}
	var stored *manifest
	if cur.value != nil {
		if stored, err = decodeManifest(key, cur.value); err != nil {
			stored = nil // a damaged value: overwritten whole
		}
	}
	if stored == nil || prev == nil || stored.Seq != prev.Seq || !stored.Saved.Equal(prev.Saved) {
		since = 0
	}
	prev = stored
	names, changed, err := proj.SnapshotParts(since)
	if err != nil {
		return nil, err
	}
	next := &manifest{Seq: seq, Version: version, Saved: time.Now().UTC(), Parts: make(map[string]partRef, len(names))}
	var stale []string // objects to delete once the manifest is saved
	var obs jetstream.ObjectStore
	for _, name := range names {
		old, had := partRef{}, false
		if prev != nil {
			old, had = prev.Parts[name]
		}
		data, ok := changed[name]
		if !ok && had {
			next.Parts[name] = old
			continue
		}
		if !ok {
			return nil, fmt.Errorf("snapshot %s: part %s is neither saved nor given", key, name)
		}
		if obs == nil {
			if obs, err = c.objects(ctx); err != nil {
				return nil, err
			}
		}
		slots := partSlots(key, name)
		object := slots[0]
		if had && old.Object == object {
			object = slots[1]
		}
		octx, cancel := context.WithTimeout(ctx, objectTimeout)
		_, err := obs.PutBytes(octx, object, data)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("store %s part %s: %w", key, name, err)
		}
		sum := sha256.Sum256(data)
		next.Parts[name] = partRef{Object: object, Size: len(data), SHA256: hex.EncodeToString(sum[:])}
		if had {
			stale = append(stale, old.Object)
		}
	}
	if prev != nil {
		for name, ref := range prev.Parts {
			if _, kept := next.Parts[name]; !kept {
				stale = append(stale, ref.Object)
			}
		}
	}
	b, err := json.Marshal(partedSnapshot{Parted: next})
	if err != nil {
		return nil, err
	}
	// The key was read above: the object its manifest may be stored in is known, as the parts'
	// slots are (a key has one writer at a time).
	if _, err := c.putLargeOver(ctx, kv, key, b, nil, cur.object, nil); err != nil {
		return nil, err
	}
	slices.Sort(stale)
	c.deleteNamed(ctx, key, stale)
	return next, nil
}

// deleteNamed deletes objects of key, best effort: an object left behind takes space until
// its slot is written again.
func (c *Conn) deleteNamed(ctx context.Context, key string, names []string) {
	if len(names) == 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	obs, err := c.objects(ctx)
	if err != nil {
		c.log.Warn("old part not deleted", "key", key, "error", err)
		return
	}
	for _, name := range names {
		cctx, cancel := context.WithTimeout(ctx, apiTimeout)
		err := obs.Delete(cctx, name)
		cancel()
		if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			c.log.Warn("old part not deleted", "key", key, "object", name, "error", err)
		}
	}
}
