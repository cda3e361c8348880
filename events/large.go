package events

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// SnapshotObjectBucket is the object store for values too large to keep in ProjectionBucket
// itself; the key there holds a pointer to the object.
const SnapshotObjectBucket = "newswatch_snapshots"

const (
	// inlineLimit is the largest value a key holds itself, well under the 1 MiB max_payload of
	// a server with default settings. Objects travel in 128 KiB chunks, so their size has no
	// such limit.
	inlineLimit = 512 << 10
	// objectTimeout bounds one object transfer: megabytes take longer than an API call, but a
	// cluster without a leader must not stall a save forever.
	objectTimeout = time.Minute
)

// errObjectLost means a key points at an object that is gone or is not the value the pointer
// describes: the value is lost for good, and retrying cannot help.
var errObjectLost = errors.New("events: the object a key points at is missing or damaged")

// objectPointer is what a key holds in place of a value stored as an object. It has no seq on
// purpose: a newswatch from before objects reads it as an empty snapshot at sequence 0 and
// rebuilds, where a seq would make it resume with an empty state.
type objectPointer struct {
	// Object is the first field so that a pointer is recognized without decoding every value.
	Object string    `json:"object"`
	Size   int       `json:"size"`
	SHA256 string    `json:"sha256"`
	Saved  time.Time `json:"saved"`
}

var pointerPrefix = []byte(`{"object":`)

// objectSlots are the two object names of a key, written in turn: the slot a save writes is
// never the one the key points at, so a save that dies half-way leaves the key's value intact.
// Reusing two names, rather than a new one per save, keeps the bucket from growing: the object
// store keeps a delete marker for every name it ever deleted.
func objectSlots(key string) [2]string { return [2]string{key + "/a", key + "/b"} }

// parsePointer reports whether value is a pointer written for key. Naming one of the key's own
// slots is what no inline document does.
func parsePointer(key string, value []byte) (objectPointer, bool) {
	var p objectPointer
	if !bytes.HasPrefix(value, pointerPrefix) || json.Unmarshal(value, &p) != nil {
		return p, false
	}
	slots := objectSlots(key)
	return p, p.Object == slots[0] || p.Object == slots[1]
}

// putLarge stores value under key: inline when it is small, else as an object first and a
// pointer to it second, so the key never points at a partial object. Then it deletes the
// key's other object, the one the key pointed at before or a crash left behind. A key has one
// writer at a time (its projector, its runner, one rebuild).
func (c *Conn) putLarge(ctx context.Context, kv jetstream.KeyValue, key string, value []byte) error {
	_, err := c.putLargeRev(ctx, kv, key, value, nil)
	return err
}

// putLargeRev is putLarge returning the key's revision after the write. With expect set, the
// write happens only while the key is at that revision (0: absent), else ErrStateChanged; a
// large value is then checked before its object is written, and again by its pointer's write.
func (c *Conn) putLargeRev(ctx context.Context, kv jetstream.KeyValue, key string, value []byte, expect *uint64) (uint64, error) {
	prev, prevErr := c.pointedAt(ctx, kv, key)
	return c.putLargeOver(ctx, kv, key, value, expect, prev, prevErr)
}

// putLargeOver is putLargeRev for a writer that read the key already: prev is the object it
// pointed at ("" for none), prevErr the error that read met, if any.
func (c *Conn) putLargeOver(ctx context.Context, kv jetstream.KeyValue, key string, value []byte, expect *uint64,
	prev string, prevErr error) (uint64, error) {
	if len(value) <= inlineLimit {
		rev, err := kvPut(ctx, kv, key, value, expect)
		if err != nil {
			return 0, err
		}
		if prev != "" {
			c.deleteObjects(ctx, key, "")
		}
		return rev, nil
	}
	if prevErr != nil {
		// Without knowing the slot in use, a write could overwrite the only good copy.
		return 0, prevErr
	}
	if expect != nil {
		if err := revisionIs(ctx, kv, key, *expect); err != nil {
			return 0, err
		}
	}
	obs, err := c.objects(ctx)
	if err != nil {
		return 0, err
	}
	slots := objectSlots(key)
	name := slots[0]
	if prev == name {
		name = slots[1]
	}
	octx, cancel := context.WithTimeout(ctx, objectTimeout)
	_, err = obs.PutBytes(octx, name, value)
	cancel()
	if err != nil {
		return 0, fmt.Errorf("store %s as object %s: %w", key, name, err)
	}
	sum := sha256.Sum256(value)
	ptr, err := json.Marshal(objectPointer{Object: name, Size: len(value), SHA256: hex.EncodeToString(sum[:]), Saved: time.Now().UTC()})
	if err != nil {
		return 0, err
	}
	rev, err := kvPut(ctx, kv, key, ptr, expect)
	if err != nil {
		return 0, err
	}
	c.deleteObjects(ctx, key, name)
	return rev, nil
}

// revisionIs returns ErrStateChanged unless key is at revision rev (0: absent).
func revisionIs(ctx context.Context, kv jetstream.KeyValue, key string, rev uint64) error {
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	e, err := kv.Get(cctx, key)
	var now uint64
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
	case err != nil:
		return fmt.Errorf("store %s: %w", key, err)
	default:
		now = e.Revision()
	}
	if now != rev {
		return fmt.Errorf("store %s: at revision %d, not %d: %w", key, now, rev, ErrStateChanged)
	}
	return nil
}

// largeEntry is a key's value as read: the value itself, from its object when the key holds a
// pointer; the key's revision; and the object it points at ("" when the value is inline).
type largeEntry struct {
	value  []byte
	rev    uint64
	object string
}

// getLarge reads key: a zero entry when the key is absent. When the key points at an object
// that cannot be read, the entry still has the revision and the object.
func (c *Conn) getLarge(ctx context.Context, kv jetstream.KeyValue, key string) (largeEntry, error) {
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	e, err := kv.Get(cctx, key)
	cancel()
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return largeEntry{}, nil
	}
	if err != nil {
		return largeEntry{}, err
	}
	ent := largeEntry{rev: e.Revision()}
	ptr, ok := parsePointer(key, e.Value())
	if !ok {
		ent.value = e.Value()
		return ent, nil
	}
	ent.object = ptr.Object
	ent.value, err = c.fetchObject(ctx, key, ptr)
	return ent, err
}

// resolve returns a value read from key: itself when inline, else the object it points at,
// checked against the pointer.
func (c *Conn) resolve(ctx context.Context, key string, value []byte) ([]byte, error) {
	ptr, ok := parsePointer(key, value)
	if !ok {
		return value, nil
	}
	return c.fetchObject(ctx, key, ptr)
}

// fetchObject returns the object a pointer read from key names, checked against the pointer.
func (c *Conn) fetchObject(ctx context.Context, key string, ptr objectPointer) ([]byte, error) {
	obs, err := c.objects(ctx)
	var data []byte
	if err == nil {
		octx, cancel := context.WithTimeout(ctx, objectTimeout)
		data, err = obs.GetBytes(octx, ptr.Object)
		cancel()
	}
	switch {
	case errors.Is(err, jetstream.ErrObjectNotFound), errors.Is(err, jetstream.ErrBucketNotFound),
		errors.Is(err, jetstream.ErrDigestMismatch):
		return nil, fmt.Errorf("%s: object %s: %w: %w", key, ptr.Object, errObjectLost, err)
	case err != nil:
		return nil, fmt.Errorf("%s: object %s: %w", key, ptr.Object, err)
	}
	if sum := sha256.Sum256(data); len(data) != ptr.Size || hex.EncodeToString(sum[:]) != ptr.SHA256 {
		return nil, fmt.Errorf("%s: object %s: %w: size or digest differ", key, ptr.Object, errObjectLost)
	}
	return data, nil
}

// pointedAt returns the object key points at, "" when it holds an inline value or nothing.
func (c *Conn) pointedAt(ctx context.Context, kv jetstream.KeyValue, key string) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	e, err := kv.Get(cctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	ptr, _ := parsePointer(key, e.Value())
	return ptr.Object, nil
}

// deleteObjects deletes the objects of key but keep. It is best effort: an object left behind
// is deleted by the key's next save.
func (c *Conn) deleteObjects(ctx context.Context, key, keep string) {
	// The save is done; a shutdown beginning now should not leave its old copy behind.
	ctx = context.WithoutCancel(ctx)
	obs, err := c.objects(ctx)
	if err != nil {
		c.log.Warn("old object not deleted", "key", key, "error", err)
		return
	}
	for _, name := range objectSlots(key) {
		if name == keep {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, apiTimeout)
		// Deleting a deleted object writes its marker again; look first.
		_, err := obs.GetInfo(cctx, name)
		if err == nil {
			err = obs.Delete(cctx, name)
		}
		cancel()
		if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			c.log.Warn("old object not deleted", "key", key, "object", name, "error", err)
		}
	}
}

func (c *Conn) objects(ctx context.Context) (jetstream.ObjectStore, error) {
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	obs, err := c.JS.ObjectStore(cctx, SnapshotObjectBucket)
	if err != nil {
		return nil, fmt.Errorf("object store %s: %w", SnapshotObjectBucket, err)
	}
	return obs, nil
}

func kvPut(ctx context.Context, kv jetstream.KeyValue, key string, value []byte, expect *uint64) (uint64, error) {
	cctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	var rev uint64
	var err error
	switch {
	case expect == nil:
		rev, err = kv.Put(cctx, key, value)
	case *expect == 0:
		rev, err = kv.Create(cctx, key, value)
	default:
		rev, err = kv.Update(cctx, key, value, *expect)
	}
	if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return 0, fmt.Errorf("store %s: %w: %w", key, ErrStateChanged, err)
	}
	if err != nil {
		return 0, fmt.Errorf("store %s: %w", key, err)
	}
	return rev, nil
}
