package alerts

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"

	"github.com/newswatch/newswatch/alerts/notify"
)

// silenced returns the silence holding a topic at now ("" when the silencer cannot name it).
func (e *Engine) silenced(topic string, now time.Time) (string, bool) {
	if e.silences == nil {
		return "", false
	}
	if n, ok := e.silences.(silenceNamer); ok {
		return n.SilencedBy(topic, now)
	}
	return "", e.silences.Silenced(topic, now)
}

// fold is the story decision that folded a match into an earlier article: the point where
// the story model answers "is this the same story?".
type fold struct {
	into, story, by string
	similarity      float64
	pending         bool
}

func (f fold) suppression(s Suppression) Suppression {
	s.Reason, s.FoldedInto, s.Story, s.FoldedBy, s.Similarity, s.InPendingAlert = ReasonFolded, f.into, f.story, f.by, f.similarity, f.pending
	return s
}

// explain fills in how alike the folded article is to the story it joined, as the story
// model measured it when it joined (when the index can say).
func (e *Engine) explain(topic, articleID string, f fold) fold {
	if f.by != FoldedSameStory && f.by != FoldedNearCopy {
		return f
	}
	if j, ok := e.stories.(JoinIndex); ok {
		if sim, ok := j.JoinSimilarity(topic, articleID); ok {
			f.similarity = sim
		}
	}
	return f
}

// alertID is derived from what the alert is about: its topic, its rule kind and the articles
// it reports, so it is the same for the same alert (a retried publish is deduplicated by
// JetStream, a redelivery by receivers' Idempotency-Key) and differs between different
// alerts, also across stores (staging and production, a store rebuilt from scratch), where
// stream sequences repeat. Article ids are themselves derived from the articles' URLs.
// The copies are left out: which copies an alert lists can depend on timing.
func alertID(topic, kind string, arts []notify.Article) string {
	ids := make([]string, len(arts))
	for i, a := range arts {
		ids[i] = a.ID
	}
	slices.Sort(ids)
	h := sha256.New()
	h.Write([]byte(topic + "\x00" + kind))
	for _, id := range ids {
		h.Write([]byte("\x00" + id))
	}
	return "alert-" + hex.EncodeToString(h.Sum(nil)[:12])
}
