package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// mode is how the feed server answers a poll.
type mode int32

const (
	// modeConditional answers 304 when the request's validators match the current version.
	modeConditional mode = iota
	// modeIgnoreConditional answers 200 with the full current document whatever the request
	// says, like servers that ignore conditional GET.
	modeIgnoreConditional
	// modeNewItem moves the feed to its next version (one new item) on every request.
	modeNewItem
)

// counts are the requests the feed server answered.
type counts struct{ ok, notModified, other int64 }

func (c counts) total() int64 { return c.ok + c.notModified + c.other }

func (c counts) sub(d counts) counts {
	return counts{c.ok - d.ok, c.notModified - d.notModified, c.other - d.other}
}

// feedServer serves the corpus on loopback, on several addresses (127.0.1.x) so the daemon's
// per-host limit sees several publishers, one HTTP server behind them all.
type feedServer struct {
	c        corpus
	feeds    int
	urls     []string
	srv      *http.Server
	mode     atomic.Int32
	versions []atomic.Int64
	ok       atomic.Int64
	notMod   atomic.Int64
	other    atomic.Int64
	files    string // first versions on disk; "" renders every request
	first    sync.Once
	onFirst  func()
	wg       sync.WaitGroup
}

func startFeedServer(c corpus, feeds, hosts int, onFirst func()) (*feedServer, error) {
	s := &feedServer{c: c, feeds: feeds, versions: make([]atomic.Int64, feeds), onFirst: onFirst}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 5 * time.Minute}
	hosts = max(1, min(hosts, feeds))
	addrs := make([]string, hosts)
	for h := range hosts {
		ip := fmt.Sprintf("127.0.%d.%d", 1+h/250, 1+h%250)
		ln, err := net.Listen("tcp", ip+":0")
		if err != nil {
			s.close()
			return nil, fmt.Errorf("listen on loopback address %s (nwbench needs 127.0.0.0/8 routed to lo, as Linux does): %w", ip, err)
		}
		addrs[h] = ln.Addr().String()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fmt.Printf("nwbench: feed server on %s: %v\n", ln.Addr(), err)
			}
		}()
	}
	for f := range feeds {
		s.urls = append(s.urls, fmt.Sprintf("http://%s/feeds/%d.xml", addrs[f%hosts], f))
	}
	return s, nil
}

func (s *feedServer) setMode(m mode) { s.mode.Store(int32(m)) }

func (s *feedServer) counts() counts {
	return counts{s.ok.Load(), s.notMod.Load(), s.other.Load()}
}

// newItems is how many items the feeds gained after their first version.
func (s *feedServer) newItems() int64 {
	var n int64
	for i := range s.versions {
		n += s.versions[i].Load()
	}
	return n
}

func (s *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.first.Do(func() {
		if s.onFirst != nil {
			s.onFirst()
		}
	})
	name, ok := strings.CutPrefix(r.URL.Path, "/feeds/")
	f, err := strconv.Atoi(strings.TrimSuffix(name, ".xml"))
	if !ok || err != nil || f < 0 || f >= s.feeds {
		s.other.Add(1)
		http.NotFound(w, r)
		return
	}
	m := mode(s.mode.Load())
	var v int
	if m == modeNewItem {
		v = int(s.versions[f].Add(1))
	} else {
		v = int(s.versions[f].Load())
	}
	s.c.header(w.Header(), f, v)
	if m == modeConditional && notModified(r, s.c.etag(f, v), s.c.lastModified(v)) {
		s.notMod.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.ok.Add(1)
	if v == 0 && s.files != "" {
		// The first version is a file on disk, written before the run: serving it costs the
		// server next to nothing, as a static file server's would.
		if fh, err := os.Open(s.path(f)); err == nil {
			defer fh.Close()
			if st, err := fh.Stat(); err == nil {
				w.Header().Set("Content-Length", strconv.FormatInt(st.Size(), 10))
				io.Copy(w, fh)
				return
			}
		}
	}
	body := s.c.doc(f, v)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

func (s *feedServer) path(f int) string { return filepath.Join(s.files, fmt.Sprintf("%d.xml", f)) }

// writeFiles renders the first version of every feed into dir, on every core, and serves
// them from there.
func (s *feedServer) writeFiles(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	s.files = dir
	var next atomic.Int64
	errs := make(chan error, runtime.GOMAXPROCS(0))
	for range cap(errs) {
		go func() {
			for {
				f := int(next.Add(1) - 1)
				if f >= s.feeds {
					errs <- nil
					return
				}
				if err := os.WriteFile(s.path(f), s.c.doc(f, 0), 0o644); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var err error
	for range cap(errs) {
		err = cmpErr(err, <-errs)
	}
	return err
}

// notModified applies If-None-Match, else If-Modified-Since.
func notModified(r *http.Request, etag string, modified time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for t := range strings.SplitSeq(inm, ",") {
			if t = strings.TrimSpace(t); t == etag || t == "W/"+etag || t == "*" {
				return true
			}
		}
		return false
	}
	ims, err := http.ParseTime(r.Header.Get("If-Modified-Since"))
	return err == nil && !modified.After(ims)
}

func (s *feedServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.srv.Shutdown(ctx)
	s.wg.Wait()
}
