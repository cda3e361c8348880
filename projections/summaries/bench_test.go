package summaries

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/newswatch/newswatch/events"
	"github.com/synadia-io/orbit.go/jetstreamext"
)

// named gives each benchmark run its own snapshot key, so every run rebuilds from the start.
type named struct {
	*Projection
	name string
}

func (n named) Name() string { return n.name }

// BenchmarkProjectFromJetStream measures how fast topic summaries fold match events read from
// a real (embedded, fsynced) JetStream: the rate at which a restart or rebuild catches up.
//
// NEWSWATCH_BENCH_EVENTS sets the number of events (default 200,000), e.g. 1000000 for the
// replay goal; events are ten seconds apart, so the state stays bounded however many there are.
func BenchmarkProjectFromJetStream(b *testing.B) {
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("NEWSWATCH_BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := events.Connect(ctx, events.ConnConfig{DataDir: b.TempDir()}, log)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.EnsureStreams(ctx); err != nil {
		b.Fatal(err)
	}
	var batch []*nats.Msg
	for i := range n {
		m := match(fmt.Sprintf("topic-%d", i%100), fmt.Sprintf("%032x", i), fmt.Sprintf("feed-%d", i%40), t0.Add(time.Duration(i)*10*time.Second))
		out, err := events.MatchMessage(m)
		if err != nil {
			b.Fatal(err)
		}
		msg := nats.NewMsg(out.Subject)
		msg.Data = out.Data
		batch = append(batch, msg)
		if len(batch) == 900 || i == n-1 {
			if _, err := jetstreamext.PublishMsgBatch(ctx, c.JS, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	b.Run("bare_read", func(b *testing.B) {
		for b.Loop() {
			count := 0
			err := c.Read(ctx, events.MatchStream, []string{events.MatchSubjectPrefix + "*"}, 0, func([]byte, uint64) error {
				count++
				return nil
			})
			if err != nil || count != n {
				b.Fatal(count, err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
	})
	b.Run("project", func(b *testing.B) { benchProject(b, c, n) })
	b.Run("rebuild", func(b *testing.B) {
		var peak uint64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() { // sample the heap: it must track the state, not the stream
			defer close(done)
			var ms runtime.MemStats
			for {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
				}
			}
		}()
		var snapBytes int
		for b.Loop() {
			p := New()
			st, err := c.Rebuild(ctx, p, events.MatchStream, []string{events.MatchSubjectPrefix + "*"}, events.Range{}, nil)
			if err != nil || st.Applied != uint64(n) {
				b.Fatal(st, err)
			}
			snap, _ := p.Snapshot()
			snapBytes = len(snap)
		}
		close(stop)
		<-done
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(peak)/(1<<20), "peak_heap_MiB")
		b.ReportMetric(float64(snapBytes)/(1<<20), "state_MiB")
	})
}

func benchProject(b *testing.B, c *events.Conn, n int) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	run := 0
	for b.Loop() {
		run++
		p := c.NewProjector(named{New(), fmt.Sprintf("bench-%d", run)}, events.MatchStream, []string{events.MatchSubjectPrefix + "*"}, log)
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- p.Run(rctx) }()
		for p.Applied() < uint64(n) {
			time.Sleep(time.Millisecond)
		}
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*run)/b.Elapsed().Seconds(), "events/s")
}
