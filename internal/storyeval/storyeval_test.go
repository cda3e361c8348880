package storyeval

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestScore(t *testing.T) {
	s := Score([]string{"a", "a", "b", "b"}, []string{"x", "x", "x", "y"})
	if s.N != 4 || s.Stories != 2 || s.Predicted != 2 || !near(s.BPrec, 2.0/3) || !near(s.BRec, 0.75) ||
		!near(s.PPrec, 1.0/3) || !near(s.PRec, 0.5) || !near(s.FoldedShare, 0.25) || !near(s.Singletons, 0.5) {
		t.Fatalf("%+v", s)
	}
	if p := Score([]string{"a", "b"}, []string{"x", "y"}); p.BPrec != 1 || p.BRec != 1 || p.BF1() != 1 {
		t.Fatalf("%+v", p)
	}
}

func TestLoadUCI(t *testing.T) {
	dir := t.TempDir()
	csv := "ID,TITLE,URL,PUBLISHER,CATEGORY,STORY,HOSTNAME,TIMESTAMP\n" +
		"1,Second,http://a.example/2,A,b,s1,a.example,2000\n" +
		"2,\"First, with a comma\",http://b.example/1,B,b,s1,b.example,1000\n" +
		"3,Other,http://a.example/3,A,b,s2,a.example,1500\n"
	if err := os.WriteFile(filepath.Join(dir, UCIFile), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	tune, test, err := LoadUCI(dir)
	if err != nil {
		t.Fatal(err)
	}
	all := append(append([]Row{}, tune...), test...)
	if len(all) != 3 {
		t.Fatalf("%d rows", len(all))
	}
	for _, half := range []struct {
		rows []Row
		tune bool
	}{{tune, true}, {test, false}} {
		for i, r := range half.rows {
			if i > 0 && half.rows[i-1].At.After(r.At) {
				t.Errorf("not in time order: %+v", half.rows)
			}
			if Tune(r.Story) != half.tune {
				t.Errorf("%s in the wrong half", r.Story)
			}
		}
	}
	for _, r := range all {
		if r.ID == "uci2" && (r.Title != "First, with a comma" || r.Source != "b.example" || r.Story != "en-s1" || r.At.UnixMilli() != 1000) {
			t.Errorf("row 2: %+v", r)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, UCIFile), []byte("ID,TITLE\n1,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadUCI(dir); err == nil || !strings.Contains(err.Error(), "no column") {
		t.Errorf("a file without the columns: %v", err)
	}
}
