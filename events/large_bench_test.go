package events

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// BenchmarkSnapshotObject measures what a projector does to save and to restore a snapshot
// beyond the projection's own Snapshot and Restore: encode the envelope, store it (inline or as
// an object, fsynced), fetch and check it, decode the envelope. 21 MB is the topic_stories
// snapshot of one busy topic.
func BenchmarkSnapshotObject(b *testing.B) {
	c, err := Connect(b.Context(), ConnConfig{DataDir: b.TempDir()}, slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.EnsureStreams(b.Context()); err != nil {
		b.Fatal(err)
	}
	kv, err := c.bucket(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{256 << 10, 21_000_000} {
		state := storiesLike(size)
		b.Run(fmt.Sprintf("save/%dKB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(state)))
			for b.Loop() {
				v, err := json.Marshal(snapshot{Seq: 1, Saved: time.Now().UTC(), State: state})
				if err != nil {
					b.Fatal(err)
				}
				if err := c.putLarge(b.Context(), kv, "bench", v); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("restore/%dKB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(state)))
			for b.Loop() {
				snap, err := c.getSnapshot(b.Context(), kv, "bench")
				if err != nil || snap == nil || len(snap.State) != len(state) {
					b.Fatalf("restored %v, %v", snap != nil, err)
				}
			}
		})
	}
}

// storiesLike returns a JSON document of about size bytes shaped like a stories snapshot: many
// small objects of ids, titles and numbers, which cost more to scan than one long string.
func storiesLike(size int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("russia ukraine drone strike port grain talks ceasefire minister summit eu sanctions oil price navy")
	var sb strings.Builder
	sb.WriteString(`{"topics":{"busy":{"stories":[`)
	for i := 0; sb.Len() < size-64; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"id":"%016x","title":"%s %s %s","members":[%d,%d,%d],"first":%d,"score":%.3f}`,
			r.Uint64(), words[r.IntN(len(words))], words[r.IntN(len(words))], words[r.IntN(len(words))],
			r.Uint32(), r.Uint32(), r.Uint32(), 1_780_000_000+r.IntN(1_000_000), r.Float64())
	}
	sb.WriteString(`]}}}`)
	return []byte(sb.String())
}
