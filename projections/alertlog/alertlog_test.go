package alertlog

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

func alert(id, topic string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"topic":%q,"kind":"match","fired_at":"2026-11-25T12:00:00Z","articles":[]}`, id, topic)
}

func ids(list []json.RawMessage) []string {
	var out []string
	for _, raw := range list {
		var a struct{ ID string }
		_ = json.Unmarshal(raw, &a)
		out = append(out, a.ID)
	}
	return out
}

func TestAlertLog(t *testing.T) {
	p := New()
	ch, stop := p.Subscribe()
	defer stop()
	for i := range Kept + 5 {
		topic := "a"
		if i%2 == 1 {
			topic = "b"
		}
		if err := p.Apply(alert(fmt.Sprintf("x%d", i), topic), uint64(i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if got := ids(p.List("", 3)); fmt.Sprint(got) != fmt.Sprint([]string{"x1004", "x1003", "x1002"}) {
		t.Errorf("List newest first = %v", got)
	}
	if got := ids(p.List("b", 2)); fmt.Sprint(got) != fmt.Sprint([]string{"x1003", "x1001"}) {
		t.Errorf("List(b) = %v", got)
	}
	if n := len(p.List("", 5000)); n != Kept {
		t.Errorf("kept %d alerts, want %d", n, Kept)
	}
	select {
	case raw := <-ch:
		if ids([]json.RawMessage{raw})[0] != "x0" {
			t.Errorf("first live alert = %s", raw)
		}
	case <-time.After(time.Second):
		t.Error("subscriber got nothing")
	}
	snap, err := p.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	q := New()
	if err := q.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids(q.List("a", 10))) != fmt.Sprint(ids(p.List("a", 10))) {
		t.Error("restore changed the log")
	}
	if err := p.Apply([]byte("not json"), 9999); err == nil {
		t.Error("Apply accepted garbage")
	}
}
