package alerts_test

import (
	"testing"
	"time"

	"github.com/newswatch/newswatch/alerts"
	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/events"
	"github.com/newswatch/newswatch/projections/stories"
	"github.com/prometheus/client_golang/prometheus"
)

// foldStory adds one article, first seen at seen, to a stories projection.
func foldStory(t *testing.T, p *stories.Projection, topic, id, source, title string, seen time.Time) {
	t.Helper()
	m := storyMatch(topic, id, source, title, seen)
	out, err := events.MatchMessage(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Apply(out.Data, 0); err != nil {
		t.Fatal(err)
	}
}

// Digests chain across restarts: each is sent once on its schedule with the stories that
// arrived in its period; a period missed while the daemon was down is sent once at the next
// start; a lost state does not resend; an empty period is skipped unless send_empty.
func TestDigestRunnerAcrossRestarts(t *testing.T) {
	c := connect(t, t.TempDir())
	day := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, time.UTC) }
	clk := newClock(day(20, 7, 30))
	p := stories.New()
	rules := []alerts.DigestRule{
		{Topic: "k", TopicName: "Kursk", Schedule: "0 8 * * *"},
		{Topic: "q", Schedule: "0 8 * * *", SendEmpty: true},
	}
	start := func() *bg {
		r, err := alerts.NewDigestRunner(c, p, func() bool { return true }, rules, nil,
			alerts.NewMetrics(prometheus.NewRegistry()), quiet(), clk.now)
		if err != nil {
			t.Fatal(err)
		}
		r.Poll = 5 * time.Millisecond
		b := background(t, r.Run)
		// The chains start at the clock of the restore: move the clock only after it.
		deadline := time.Now().Add(30 * time.Second)
		for !r.Restored() {
			if time.Now().After(deadline) {
				t.Fatal("digest runner never restored its chains")
			}
			time.Sleep(5 * time.Millisecond)
		}
		return b
	}
	w := words{rngFor(3)}
	b := start()
	foldStory(t, p, "k", "a1", "wire", "Kursk front: North Korean troops seen near Sudzha", day(20, 7, 40))
	foldStory(t, p, "k", "a2", "herald", "Kursk front: North Korean troops seen near Sudzha", day(20, 7, 50))
	foldStory(t, p, "k", "b1", "wire", w.title(), day(20, 8, 10)) // after the first period
	time.Sleep(100 * time.Millisecond)
	if got := storedKind(t, c, notify.KindDigest); len(got) != 0 {
		t.Fatalf("digest before its time: %+v", got)
	}
	clk.set(day(20, 8, 0).Add(alerts.DigestGrace + time.Second))
	got := waitKind(t, c, notify.KindDigest, 2)
	if len(got) != 2 {
		t.Fatalf("%d digests at 08:00, want 2 (k, and q's empty one)", len(got))
	}
	byTopic := map[string]notify.Alert{}
	for _, a := range got {
		byTopic[a.Topic] = a
	}
	k := byTopic["k"]
	if k.Digest == nil || !k.Digest.Since.Equal(day(19, 8, 0)) || !k.Digest.Until.Equal(day(20, 8, 0)) ||
		k.Digest.TotalStories != 1 || k.Digest.Outlets != 2 || len(k.Articles) != 1 || k.Articles[0].ID != "a1" ||
		len(k.Articles[0].Copies) != 1 {
		t.Fatalf("first digest %+v, details %+v", k, k.Digest)
	}
	if q := byTopic["q"]; q.Digest == nil || q.Digest.TotalStories != 0 {
		t.Fatalf("send_empty digest %+v", q)
	}
	b.stop()

	// Down over two scheduled times: one digest covers both days, once.
	foldStory(t, p, "k", "c1", "courier", w.title(), day(21, 10, 0))
	clk.set(day(22, 9, 0))
	b = start()
	got = waitKind(t, c, notify.KindDigest, 4)
	b.stop()
	if len(got) != 4 {
		t.Fatalf("%d digests after a downtime, want 4", len(got))
	}
	for _, a := range got[2:] {
		if a.Topic != "k" {
			continue
		}
		if !a.Digest.Since.Equal(day(20, 8, 0)) || !a.Digest.Until.Equal(day(22, 8, 0)) || a.Digest.TotalStories != 2 {
			t.Fatalf("catch-up digest %+v", a.Digest)
		}
	}

	// The saved state is lost (a crash before saving) and the next scheduled time passes
	// meanwhile: the alert stream says where the chain ended, so the day is not skipped. It
	// had no story for k: only q's empty digest is sent.
	if err := c.PutState(t.Context(), "digests", []byte("{}")); err != nil {
		t.Fatal(err)
	}
	clk.set(day(23, 8, 0).Add(alerts.DigestGrace + time.Second))
	b = start()
	waitKind(t, c, notify.KindDigest, 5)
	time.Sleep(200 * time.Millisecond)
	b.stop()
	got = storedKind(t, c, notify.KindDigest)
	if len(got) != 5 || got[4].Topic != "q" || !got[4].Digest.Since.Equal(day(22, 8, 0)) {
		t.Fatalf("digests after a restart without state: %d, last %+v", len(got), got[len(got)-1].Digest)
	}
	for i, a := range got {
		for _, b := range got[:i] {
			if a.ID == b.ID {
				t.Errorf("digest %s sent twice", a.ID)
			}
		}
	}
}
