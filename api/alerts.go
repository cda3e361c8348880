package api

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/newswatch/newswatch/alerts"
)

// Alerts reads recent alerts and follows new ones.
type Alerts interface {
	List(topic string, limit int) []json.RawMessage
	Subscribe() (<-chan json.RawMessage, func())
}

// ErrSilenceTopic is what Silences.Add returns (wrapped) for a topic the config does not
// define: the request's fault (400). Any other error of Add is the store's (500).
var ErrSilenceTopic = errors.New("unknown topic")

// Silences manages alert silences.
type Silences interface {
	List() []alerts.Silence
	Add(ctx context.Context, topic string, until time.Time, comment string) (alerts.Silence, error)
	Remove(ctx context.Context, id string) error
}

func (s *server) alertRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/alerts", s.listAlerts)
	mux.HandleFunc("GET /api/v1/alerts/stream", s.streamAlerts)
	mux.HandleFunc("GET /api/v1/silences", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, s.o.Silences.List())
	})
	mux.HandleFunc("POST /api/v1/silences", s.authorized(s.addSilence))
	mux.HandleFunc("DELETE /api/v1/silences/{id}", s.authorized(func(w http.ResponseWriter, r *http.Request) {
		if err := s.o.Silences.Remove(r.Context(), r.PathValue("id")); err != nil {
			status := http.StatusInternalServerError
			if errors.Is(err, alerts.ErrSilenceNotFound) {
				status = http.StatusNotFound
			}
			Error(w, status, err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
}

// authorized guards a state-changing handler: with a token configured the request must carry
// it; without one, only loopback clients may change state.
func (s *server) authorized(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.o.Token != "" {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(s.o.Token)) != 1 {
				w.Header().Set("WWW-Authenticate", `Bearer realm="newswatch"`)
				Error(w, http.StatusUnauthorized, "this request changes state: send Authorization: Bearer <http.token>")
				return
			}
		} else if !fromLoopback(r) {
			Error(w, http.StatusForbidden, "state changes are accepted from loopback only unless http.token is set")
			return
		}
		h(w, r)
	}
}

func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

func (s *server) listAlerts(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			Error(w, http.StatusBadRequest, "limit must be a number from 1 to 1000")
			return
		}
		limit = n
	}
	writeJSON(w, http.StatusOK, s.o.Alerts.List(r.URL.Query().Get("topic"), limit))
}

// streamAlerts sends each new alert as a Server-Sent Event (event: alert, id: the alert id).
func (s *server) streamAlerts(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		Error(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	topic := r.URL.Query().Get("topic")
	ch, stop := s.o.Alerts.Subscribe()
	defer stop()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, ": newswatch alerts\n\n")
	flusher.Flush()
	keepalive := time.NewTicker(25 * time.Second)
	defer keepalive.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keepalive.C:
			fmt.Fprint(w, ": keepalive\n\n")
		case raw := <-ch:
			var head struct{ ID, Topic string }
			if json.Unmarshal(raw, &head) != nil || (topic != "" && head.Topic != topic) {
				continue
			}
			fmt.Fprintf(w, "event: alert\nid: %s\ndata: %s\n\n", head.ID, compact(raw))
		}
		flusher.Flush()
	}
}

// compact puts an alert on one line, as an SSE data field must be.
func compact(raw json.RawMessage) []byte {
	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		return raw
	}
	return out.Bytes()
}

type silenceRequest struct {
	Topic    string    `json:"topic"`
	Until    time.Time `json:"until"`
	Duration string    `json:"duration"`
	Comment  string    `json:"comment"`
}

func (s *server) addSilence(w http.ResponseWriter, r *http.Request) {
	var req silenceRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		Error(w, http.StatusRequestEntityTooLarge, "bad silence: "+err.Error())
		return
	}
	if err := strictJSON(body, &req); err != nil {
		Error(w, http.StatusBadRequest, "bad silence: "+err.Error())
		return
	}
	if !req.Until.IsZero() && req.Duration != "" {
		Error(w, http.StatusBadRequest, `bad silence: give "until" or "duration", not both`)
		return
	}
	until := req.Until
	if req.Duration != "" {
		d, err := time.ParseDuration(req.Duration)
		if err != nil || d <= 0 {
			Error(w, http.StatusBadRequest, "duration must be a positive Go duration such as 2h")
			return
		}
		until = s.now().Add(d)
	}
	if req.Topic == "" || !until.After(s.now()) {
		Error(w, http.StatusBadRequest, `a silence needs "topic" and a future "until" (RFC 3339) or "duration"`)
		return
	}
	x, err := s.o.Silences.Add(r.Context(), req.Topic, until, req.Comment)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, ErrSilenceTopic) {
			status = http.StatusBadRequest
		}
		Error(w, status, err.Error())
		return
	}
	writeJSON(w, http.StatusCreated, x)
}
