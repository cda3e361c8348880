package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
)

// buildDaemon builds ./cmd/newswatch of the module nwbench belongs to into dir.
func buildDaemon(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	mod := strings.TrimSpace(string(out))
	if err != nil || mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("find the newswatch module (run nwbench inside the repository, or pass -daemon): %v", err)
	}
	bin := filepath.Join(dir, "newswatch")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/newswatch")
	cmd.Dir = filepath.Dir(mod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/newswatch: %w\n%s", err, out)
	}
	return bin, nil
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// writeConfig writes the daemon's config: its own data dir, no NATS client port, the API on
// httpAddr, private networks allowed (the feeds are on loopback), every feed on one schedule.
func writeConfig(path, dataDir, httpAddr string, urls []string, interval time.Duration) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "data_dir: %q\nnats:\n  listen: \"\"\nhttp:\n  listen: %q\nfetch:\n  allow_private_networks: true\nlog:\n  level: warn\n  format: json\nfeeds:\n",
		dataDir, httpAddr)
	for i, u := range urls {
		fmt.Fprintf(&b, "  - {id: bench-%05d, url: %q, schedule: \"@every %s\"}\n", i, u, interval)
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// daemon is the running newswatch process.
type daemon struct {
	cmd     *exec.Cmd
	api     string
	done    chan struct{}
	waitErr error
	peak    atomic.Int64 // VmHWM seen last, bytes
	killed  atomic.Bool  // by the memory limit
}

func startDaemon(bin, configPath, httpAddr, logPath string, maxRSS int64) (*daemon, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "--config", configPath)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	d := &daemon{cmd: cmd, api: "http://" + httpAddr, done: make(chan struct{})}
	go func() {
		d.waitErr = cmd.Wait()
		logf.Close()
		close(d.done)
	}()
	go d.watchMemory(maxRSS)
	return d, nil
}

// watchMemory records the peak RSS and kills the daemon when its RSS passes maxRSS.
func (d *daemon) watchMemory(maxRSS int64) {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-d.done:
			return
		case <-t.C:
		}
		rss, hwm, err := procMemory(d.cmd.Process.Pid)
		if err != nil {
			continue
		}
		d.peak.Store(hwm)
		if maxRSS > 0 && rss > maxRSS {
			d.killed.Store(true)
			d.cmd.Process.Kill()
		}
	}
}

// procMemory reads VmRSS and VmHWM (peak RSS) of a process, in bytes.
func procMemory(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = kb << 10
		case "VmHWM":
			hwm = kb << 10
		}
	}
	return rss, hwm, sc.Err()
}

// clockTick is USER_HZ, the unit of utime and stime in /proc/<pid>/stat: 100 on Linux.
const clockTick = 100

// cpu returns the daemon's user plus system CPU time so far.
func (d *daemon) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", d.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("read daemon CPU: %w", err)
	}
	// Fields after the parenthesised command name, which may hold spaces: state is field 3,
	// utime 14 and stime 15.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("read daemon CPU: short /proc stat %q", b)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("read daemon CPU: %w", err)
	}
	return time.Duration(ut+st) * time.Second / clockTick, nil
}

func (d *daemon) alive() error {
	select {
	case <-d.done:
		if d.killed.Load() {
			return errors.New("daemon killed: its RSS passed -max-rss")
		}
		return fmt.Errorf("daemon exited: %v", d.waitErr)
	default:
		return nil
	}
}

// waitReady waits until GET /healthz answers.
func (d *daemon) waitReady(ctx context.Context) error {
	for {
		if err := d.alive(); err != nil {
			return err
		}
		if resp, err := http.Get(d.api + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("daemon never answered /healthz: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitCaughtUp waits until GET /readyz answers 200: every projection has applied its stream,
// so the work of the phase before is done and does not count in the next one.
func (d *daemon) waitCaughtUp(ctx context.Context) error {
	for {
		if err := d.alive(); err != nil {
			return err
		}
		if resp, err := http.Get(d.api + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("daemon projections never caught up (/readyz): %w", ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// scrape is one GET /metrics: its size, wall time, and the sums of the metrics nwbench follows.
type scrape struct {
	bytes     int
	took      time.Duration
	published float64 // newswatch_articles_published_total, all series
	// duplicates is newswatch_articles_duplicate_total: in this corpus every item is new once,
	// so a duplicate is a retried poll whose articles had been stored without an answer.
	duplicates float64
	polls      float64 // newswatch_feed_polls_total, all series
	// memoryWaits is newswatch_ingest_memory_waits_total: polls held at the memory gate.
	memoryWaits float64
}

func (d *daemon) scrape() (scrape, error) {
	start := time.Now()
	resp, err := http.Get(d.api + "/metrics")
	if err != nil {
		return scrape{}, fmt.Errorf("scrape /metrics: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		return scrape{}, fmt.Errorf("scrape /metrics: %s %v", resp.Status, err)
	}
	s := scrape{bytes: len(body), took: time.Since(start)}
	dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.NewFormat(expfmt.TypeTextPlain))
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return s, fmt.Errorf("parse /metrics: %w", err)
		}
		var sum float64
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
		switch mf.GetName() {
		case "newswatch_articles_published_total":
			s.published = sum
		case "newswatch_articles_duplicate_total":
			s.duplicates = sum
		case "newswatch_feed_polls_total":
			s.polls = sum
		case "newswatch_ingest_memory_waits_total":
			s.memoryWaits = sum
		}
	}
	return s, nil
}

// stop sends SIGTERM and waits for the daemon to save its state and exit.
func (d *daemon) stop(grace time.Duration) error {
	if d.alive() != nil {
		return nil
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		return nil
	case <-time.After(grace):
		d.cmd.Process.Kill()
		<-d.done
		return fmt.Errorf("daemon did not stop within %v of SIGTERM; killed", grace)
	}
}
