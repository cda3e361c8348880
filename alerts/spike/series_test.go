package spike

import (
	"fmt"
	"testing"
	"time"
)

// Series counts stories per hour (copies merged) and gives each hour the usual of the same
// hour on earlier days.
func TestSeries(t *testing.T) {
	d, err := NewDetector([]Rule{{Topic: "t", LearnOnly: true}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 2, 12, 30, 0, 0, time.UTC)
	// Two stories at 10:xx on each of the six days before, and three today at 10:xx and
	// 11:xx, one of them with a copy.
	for day := 1; day <= 6; day++ {
		for i := range 2 {
			d.Observe(Observation{Topic: "t", ArticleID: fmt.Sprintf("d%d-%d", day, i), Source: "s",
				At: now.AddDate(0, 0, -day).Add(-2 * time.Hour).Add(time.Duration(i) * time.Minute), Title: fmt.Sprintf("story %d %d apart words here", day, i)})
		}
	}
	d.Observe(Observation{Topic: "t", ArticleID: "a", Source: "s", At: now.Add(-2 * time.Hour), Title: "Ships leave the port of Rajin at dawn with cargo"})
	d.Observe(Observation{Topic: "t", ArticleID: "a-copy", Source: "s2", At: now.Add(-2*time.Hour + time.Minute), Title: "Ships leave the port of Rajin at dawn with cargo"})
	d.Observe(Observation{Topic: "t", ArticleID: "b", Source: "s", At: now.Add(-time.Hour), Title: "Another story entirely about the harbour cranes"})

	s := d.Series("t", now, 4) // hours ending 10:00, 11:00, 12:00, 13:00
	if want := time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC); !s.End.Equal(want) {
		t.Errorf("End = %v, want %v", s.End, want)
	}
	if got, want := fmt.Sprint(s.Counts), "[0 1 1 0]"; got != want {
		t.Errorf("Counts = %s, want %s (the copy is not a story)", got, want)
	}
	if s.Usual[1] < 1.9 || s.Usual[1] > 2.1 || s.Usual[0] != 0 || s.Usual[2] != 0 {
		t.Errorf("Usual = %v, want 2 for the 10:00–11:00 hour and 0 around it", s.Usual)
	}
	if s.Active {
		t.Error("a LearnOnly topic is never active")
	}
	if empty := d.Series("unknown", now, 3); len(empty.Counts) != 3 || empty.Counts[0] != 0 {
		t.Errorf("unknown topic: %+v", empty)
	}
}
