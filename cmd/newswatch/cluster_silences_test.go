package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/newswatch/newswatch/config"
)

// A silence made through any instance's API holds on the instance running the alerts role,
// and one expired through that instance is gone from the others, within seconds.
func TestClusterSilencesFollow(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test")
	}
	nc := startNATSCluster(t)
	feeds := newGrowingFeeds(t, 1, 1, time.Hour)
	defer feeds.halt()
	hook := newHookReceiver(t)
	cfg := func(name string) *config.Config { return chaosConfig(t, nc.URL(), name, feeds, hook) }
	live := []*member{startMember(t, cfg("a")), startMember(t, cfg("b"))}
	defer func() {
		for _, m := range live {
			m.stop()
		}
	}()
	waitTakeover(t, live, time.Now(), "start")
	holder, other := live[0], live[1]
	if other.app.holds(roleAlerts) {
		holder, other = other, holder
	}

	body, _ := json.Marshal(map[string]string{"topic": "kursk", "duration": "1h", "comment": "cluster"})
	resp, err := http.Post("http://"+other.app.HTTPAddr()+"/api/v1/silences", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var made struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&made); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST silence on the standby: %s, %v", resp.Status, err)
	}
	resp.Body.Close()
	waitUntil(t, "the alerts holder to hold the standby's silence", 30*time.Second, func() bool {
		id, ok := holder.app.silences.SilencedBy("kursk", time.Now())
		return ok && id == made.ID
	})

	req, _ := http.NewRequest(http.MethodDelete, "http://"+holder.app.HTTPAddr()+"/api/v1/silences/"+made.ID, nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("DELETE silence on the holder: %s", resp.Status)
	}
	waitUntil(t, "the standby to drop the expired silence", 30*time.Second, func() bool {
		return !other.app.silences.Silenced("kursk", time.Now())
	})

	// Silences made through both instances at once: none is lost (a write over a set another
	// instance changed meanwhile is made again on the stored set).
	const n = 20
	ids := make(chan string, n)
	for i := range n {
		m := live[i%2]
		body, _ := json.Marshal(map[string]string{"topic": "kursk", "duration": "1h", "comment": fmt.Sprintf("race %d", i)})
		go func() {
			var made struct{ ID string }
			defer func() { ids <- made.ID }()
			resp, err := http.Post("http://"+m.app.HTTPAddr()+"/api/v1/silences", "application/json", bytes.NewReader(body))
			if err != nil {
				t.Errorf("concurrent silence %d through %s: %v", i, m.name, err)
				return
			}
			defer resp.Body.Close()
			if err := json.NewDecoder(resp.Body).Decode(&made); err != nil || resp.StatusCode != http.StatusCreated {
				t.Errorf("concurrent silence %d through %s: %s, %v", i, m.name, resp.Status, err)
			}
		}()
	}
	var want []string
	for range n {
		want = append(want, <-ids)
	}
	slices.Sort(want)
	if got := storedSilenceIDs(t, holder.app); !slices.Equal(got, want) {
		t.Fatalf("%d silences made at once through two instances, %d stored: %v", n, len(got), got)
	}
	for _, m := range live {
		waitUntil(t, m.name+" to hold every silence made at once", 30*time.Second, func() bool {
			var held []string
			for _, x := range m.app.silences.Active() {
				held = append(held, x.ID)
			}
			slices.Sort(held)
			return slices.Equal(held, want)
		})
	}
}
