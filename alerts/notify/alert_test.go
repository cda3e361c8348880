package notify

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sampleAlert is an alert with every field set, shared by the tests of this package.
func sampleAlert() Alert {
	pub := time.Date(2026, 11, 25, 9, 58, 0, 0, time.UTC)
	return Alert{
		ID:        "alert-dprk-russia-match-000042",
		Topic:     "dprk-russia",
		TopicName: "DPRK–Russia military cooperation",
		Kind:      KindMatch,
		FiredAt:   time.Date(2026, 11, 25, 10, 0, 5, 0, time.UTC),
		Summary:   "1 new story for DPRK–Russia military cooperation",
		Articles: []Article{{
			ID:          "3f1c0d6a9b2e4c7d8e9f0a1b2c3d4e5f",
			URL:         "https://www.example.org/world/2026/nov/25/north-korea-troops",
			Title:       "North Korean troops deployed to Kursk, Seoul says",
			Source:      "guardian-world",
			PublishedAt: pub,
			FirstSeenAt: pub.Add(2 * time.Minute),
			Matched:     []string{"north korea", "troops", "russia"},
			Snippet:     "South Korea's intelligence service says <more> troops & officers arrived.",
			Copies: []Copy{{
				ID:          "9a8b7c6d5e4f30211203f4e5d6c7b8a9",
				URL:         "https://news.example.com/a/123",
				Source:      "wire-feed",
				PublishedAt: pub.Add(-time.Minute),
			}},
		}},
	}
}

func TestAlertJSONGolden(t *testing.T) {
	got, err := json.MarshalIndent(sampleAlert(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "alert.golden.json", append(got, '\n'))

	var back Alert
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, sampleAlert()) {
		t.Errorf("round trip changed the alert:\n got %+v\nwant %+v", back, sampleAlert())
	}
}

func TestAlertJSONEmptyListsAreArrays(t *testing.T) {
	tests := []struct {
		name string
		in   Alert
		want string
	}{
		{"no articles", Alert{ID: "a", Topic: "t", Kind: KindDigest},
			`{"id":"a","topic":"t","kind":"digest","fired_at":"0001-01-01T00:00:00Z","articles":[]}`},
		{"article without terms", Alert{ID: "a", Topic: "t", Kind: KindSpike, Articles: []Article{{ID: "x"}}},
			`{"id":"a","topic":"t","kind":"spike","fired_at":"0001-01-01T00:00:00Z","articles":[{"id":"x","url":"","title":"","source":"","published_at":"0001-01-01T00:00:00Z","first_seen_at":"0001-01-01T00:00:00Z","matched":[]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update if the change is intended):\n got %s\nwant %s", path, got, want)
	}
}
