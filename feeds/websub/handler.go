package websub

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Handler serves the callback, CallbackPath + feed id: hubs verify subscriptions with GET
// and push content with POST. It needs no API token: a verification is answered only for a
// request this daemon made, and a push is taken only with the subscription's signature.
func (m *Manager) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		feed, ok := strings.CutPrefix(r.URL.Path, CallbackPath)
		if !ok || feed == "" || strings.Contains(feed, "/") {
			http.NotFound(w, r)
			return
		}
		switch r.Method {
		case http.MethodGet:
			m.verify(w, r, feed)
		case http.MethodPost:
			m.push(w, r, feed)
		default:
			w.Header().Set("Allow", "GET, POST")
			http.Error(w, "use GET (verification) or POST (content)", http.StatusMethodNotAllowed)
		}
	})
}

// verify answers a hub's verification of intent. A subscribe is confirmed (the challenge
// echoed) only while a request of ours for that topic waits for it; anything else is 404.
func (m *Manager) verify(w http.ResponseWriter, r *http.Request, feed string) {
	q := r.URL.Query()
	mode, topic, challenge := q.Get("hub.mode"), q.Get("hub.topic"), q.Get("hub.challenge")
	refuse := func(why string) {
		m.m.verifications.WithLabelValues(modeLabel(mode), "refused").Inc()
		m.log.Info("verification refused", "feed", feed, "mode", mode, "topic", topic, "reason", why)
		http.NotFound(w, r)
	}
	now := m.now()
	switch mode {
	case "subscribe":
		if challenge == "" {
			refuse("no hub.challenge")
			return
		}
		lease, err := strconv.Atoi(q.Get("hub.lease_seconds"))
		if err != nil || lease <= 0 {
			lease = m.o.LeaseSeconds // the hub should say; assume what we asked for
		}
		sub, err := m.update(r.Context(), feed, func(s *Subscription) bool {
			if s.Topic != topic || !s.Pending() || s.State == StateDenied {
				return false
			}
			s.State, s.VerifiedAt, s.LeaseSeconds = StateActive, now, lease
			s.ExpiresAt = now.Add(time.Duration(lease) * time.Second)
			s.Failures, s.RetryAt, s.LastError = 0, time.Time{}, ""
			return true
		})
		if err != nil {
			m.log.Warn("verification not stored; the hub will have to retry", "feed", feed, "error", err)
			http.Error(w, "subscription not stored", http.StatusServiceUnavailable)
			return
		}
		if sub == nil {
			refuse("not a subscription newswatch asked for")
			return
		}
		m.m.verifications.WithLabelValues(modeLabel(mode), "accepted").Inc()
		m.log.Info("subscription verified", "feed", feed, "topic", topic, "lease_seconds", lease, "expires_at", sub.ExpiresAt)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, challenge)
	case "denied":
		reason := q.Get("hub.reason")
		sub, err := m.update(r.Context(), feed, func(s *Subscription) bool {
			if s.Topic != topic {
				return false
			}
			s.State, s.Failures = StateDenied, s.Failures+1
			s.RetryAt = now.Add(m.policy.RetryMax) // a denial is a decision, not a hiccup: ask again much later
			s.LastError = "denied by the hub: " + reason
			return true
		})
		if err != nil {
			m.log.Warn("denial not stored; the hub will have to retry", "feed", feed, "error", err)
			http.Error(w, "subscription not stored", http.StatusServiceUnavailable)
			return
		}
		if sub == nil {
			refuse("not a subscription newswatch has")
			return
		}
		m.m.verifications.WithLabelValues(modeLabel(mode), "accepted").Inc()
		m.log.Warn("subscription denied by the hub", "feed", feed, "topic", topic, "reason", reason, "retry_at", sub.RetryAt)
		w.WriteHeader(http.StatusOK)
	default:
		// newswatch never unsubscribes (leases lapse), so no unsubscribe is its own.
		refuse("newswatch does not ask for hub.mode " + strconv.Quote(mode))
	}
}

func modeLabel(mode string) string {
	switch mode {
	case "subscribe", "unsubscribe", "denied":
		return mode
	}
	return "other"
}

// push takes content a hub pushes: within the body limit, signed with the subscription's
// secret, then stored through the ingest pipeline before it is acknowledged. A body that
// fails the signature is refused with 403 and not stored.
func (m *Manager) push(w http.ResponseWriter, r *http.Request, feed string) {
	count := func(result string) { m.m.pushes.WithLabelValues(result).Inc() }
	select {
	case m.pushes <- struct{}{}:
		defer func() { <-m.pushes }()
	default:
		count(PushBusy)
		w.Header().Set("Retry-After", "5")
		http.Error(w, "too many pushes at once; retry", http.StatusServiceUnavailable)
		return
	}
	// A slow body must not hold a slot for long: the whole push gets PushTimeout to arrive.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(m.o.PushTimeout)) // wall clock: a network deadline
	body, err := io.ReadAll(io.LimitReader(r.Body, m.o.MaxBodyBytes+1))
	if err != nil {
		http.Error(w, "body not read", http.StatusBadRequest)
		return
	}
	if int64(len(body)) > m.o.MaxBodyBytes {
		count(PushTooLarge)
		m.log.Warn("push refused: body over fetch.max_body_bytes", "feed", feed, "limit", m.o.MaxBodyBytes)
		http.Error(w, "body over the limit", http.StatusRequestEntityTooLarge)
		return
	}
	sub, _, err := m.o.Store.Get(r.Context(), feed)
	if err != nil {
		m.log.Warn("push not checked: subscription not read", "feed", feed, "error", err)
		http.Error(w, "try again", http.StatusServiceUnavailable)
		return
	}
	if sub == nil {
		count(PushUnknown)
		m.log.Info("push for a feed without a subscription: 410 Gone", "feed", feed)
		http.Error(w, "no subscription", http.StatusGone)
		return
	}
	// The key is the secret as sent in hub.secret: its characters, not the bytes they encode.
	if err := Verify([]byte(sub.Secret), body, r.Header.Get("X-Hub-Signature")); err != nil {
		result := PushBadSignature
		if errors.Is(err, ErrNoSignature) {
			result = PushNoSignature
		}
		count(result)
		m.log.Warn("push refused: signature does not verify; not stored", "feed", feed, "error", err, "bytes", len(body))
		http.Error(w, "signature does not verify", http.StatusForbidden)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), m.o.PushTimeout)
	defer cancel()
	res, err := m.o.Ingest.Push(ctx, feed, body, r.Header.Get("Content-Type"), sub.Topic)
	switch {
	case errors.Is(err, ErrUnknownFeed):
		count(PushUnknown)
		http.Error(w, "feed not polled", http.StatusGone)
	case err != nil:
		count(PushStoreError)
		m.log.Warn("push not stored", "feed", feed, "error", err)
		http.Error(w, "not stored; retry", http.StatusServiceUnavailable)
	case res.Result == PushParseError:
		count(PushParseError)
		m.log.Warn("pushed document not parsed", "feed", feed, "error", res.Error)
		http.Error(w, "document not parsed", http.StatusBadRequest)
	case res.Result != PushOK:
		count(PushStoreError)
		m.log.Warn("push not stored", "feed", feed, "result", res.Result, "error", res.Error)
		http.Error(w, "not stored; retry", http.StatusServiceUnavailable)
	default:
		count(PushOK)
		m.log.Debug("push stored", "feed", feed, "new", res.New, "duplicates", res.Duplicates)
		w.WriteHeader(http.StatusNoContent)
	}
}
