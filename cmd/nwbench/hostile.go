package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/newswatch/newswatch/feeds/parse"
)

// The three hostile shapes of issue 12, each close to the daemon's default 10 MiB body limit.
const (
	hostileMany  = iota // 100,000+ items of a guid each: the daemon reads parse.MaxItems of them
	hostileTitle        // three items, one with a 9 MB title (cut to the field cap)
	hostilePage         // an HTML page of 10 MiB that is no feed and links none
	hostileKinds
)

// hostileBody is the size the many-items and HTML shapes fill.
const hostileBody = 10<<20 - 200

// hostileDoc renders hostile feed f, whose shape is f % hostileKinds. Its items' guids and
// links name the feed, so no two hostile feeds share an article.
func hostileDoc(f int) []byte {
	var b strings.Builder
	switch f % hostileKinds {
	case hostileMany:
		fmt.Fprintf(&b, `<?xml version="1.0"?><rss version="2.0"><channel><title>many %d</title>`, f)
		for i := 0; b.Len() < hostileBody; i++ {
			fmt.Fprintf(&b, `<item><guid>h%d-%d</guid></item>`, f, i)
		}
		b.WriteString(`</channel></rss>`)
	case hostileTitle:
		fmt.Fprintf(&b, `<?xml version="1.0"?><rss version="2.0"><channel><title>title %d</title><link>https://hostile.example/%d</link>`, f, f)
		for i, title := range []string{"one", strings.Repeat("t", 9<<20), "three"} {
			fmt.Fprintf(&b, `<item><title>%s</title><link>https://hostile.example/%d/%d</link><guid>h%d-%d</guid></item>`, title, f, i, f, i)
		}
		b.WriteString(`</channel></rss>`)
	default:
		b.WriteString("<html><body>")
		for b.Len() < hostileBody {
			b.WriteString("<p>not a feed</p>")
		}
		b.WriteString("</body></html>")
	}
	return []byte(b.String())
}

// hostileArticles is how many articles the daemon stores of hostile feeds 0..n-1: the first
// parse.MaxItems of each many-items feed and the three items of each 9 MB-title feed.
func hostileArticles(n int) int64 {
	var total int64
	for f := range n {
		switch f % hostileKinds {
		case hostileMany:
			total += parse.MaxItems
		case hostileTitle:
			total += 3
		}
	}
	return total
}

// hostileServer serves hostile feeds, each on a loopback address of its own (127.0.3.x, so the
// daemon's per-host limit does not queue them behind each other), with an ETag it honours like
// the normal feeds: a feed stored once answers 304 afterwards; the HTML page, never a stored
// feed, is fetched again at every poll.
type hostileServer struct {
	srv      *http.Server
	urls     []string
	docs     [][]byte
	requests atomic.Int64
	wg       sync.WaitGroup
}

func startHostileServer(n int) (*hostileServer, error) {
	h := &hostileServer{}
	h.srv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 5 * time.Minute}
	for f := range n {
		h.docs = append(h.docs, hostileDoc(f))
		ip := fmt.Sprintf("127.0.%d.%d", 3+f/250, 1+f%250)
		ln, err := net.Listen("tcp", ip+":0")
		if err != nil {
			h.close()
			return nil, fmt.Errorf("listen on loopback address %s: %w", ip, err)
		}
		h.urls = append(h.urls, fmt.Sprintf("http://%s/hostile/%d.xml", ln.Addr(), f))
		h.wg.Add(1)
		go func() {
			defer h.wg.Done()
			if err := h.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				fmt.Printf("nwbench: hostile server on %s: %v\n", ln.Addr(), err)
			}
		}()
	}
	return h, nil
}

func (h *hostileServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.requests.Add(1)
	name, _ := strings.CutPrefix(r.URL.Path, "/hostile/")
	f, err := strconv.Atoi(strings.TrimSuffix(name, ".xml"))
	if err != nil || f < 0 || f >= len(h.docs) {
		http.NotFound(w, r)
		return
	}
	etag := fmt.Sprintf(`"hostile-%d"`, f)
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(h.docs[f])))
	w.Write(h.docs[f])
}

func (h *hostileServer) close() {
	h.srv.Close()
	h.wg.Wait()
}
