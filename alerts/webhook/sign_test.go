package webhook

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSignKnownVector pins the recipe to the example in docs/alerts-delivery.md, which was
// checked against openssl and Python's hmac module.
func TestSignKnownVector(t *testing.T) {
	got := Sign("s3cr3t", 1795600805, []byte(`{"id":"alert-1","topic":"dprk-russia"}`))
	const want = "sha256=254dd7082bb34dcdf5d0897c2f37998dac58e78d1207da243ef4003530ee2325"
	if got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	body := []byte(`{"id":"alert-1"}`)
	now := time.Unix(1795600805, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := Sign(testSecret, now.Unix(), body)
	tests := []struct {
		name          string
		secret        string
		ts, sig, body string
		now           time.Time
		tolerance     time.Duration
		want          error
	}{
		{name: "valid", ts: ts, sig: sig},
		{name: "upper-case hex", ts: ts, sig: "sha256=" + strings.ToUpper(strings.TrimPrefix(sig, "sha256="))},
		{name: "spaces around values", ts: " " + ts + " ", sig: " " + sig},
		{name: "within default tolerance", ts: ts, sig: sig, now: now.Add(4 * time.Minute), tolerance: -1},
		{name: "stale", ts: ts, sig: sig, now: now.Add(2 * time.Minute), want: ErrStaleTimestamp},
		{name: "from the future", ts: ts, sig: sig, now: now.Add(-2 * time.Minute), want: ErrStaleTimestamp},
		{name: "stale by default tolerance", ts: ts, sig: sig, now: now.Add(6 * time.Minute), tolerance: -1, want: ErrStaleTimestamp},
		{name: "wrong secret", secret: "other", ts: ts, sig: sig, want: ErrSignatureMismatch},
		{name: "tampered body", ts: ts, sig: sig, body: `{"id":"alert-2"}`, want: ErrSignatureMismatch},
		{name: "timestamp swapped", ts: strconv.FormatInt(now.Unix()+1, 10), sig: sig, want: ErrSignatureMismatch},
		{name: "other algorithm", ts: ts, sig: "sha1=abcd", want: ErrSignatureMismatch},
		{name: "not hex", ts: ts, sig: "sha256=zz", want: ErrSignatureMismatch},
		{name: "truncated", ts: ts, sig: sig[:len(sig)-2], want: ErrSignatureMismatch},
		{name: "missing signature", ts: ts, want: ErrMissingSignature},
		{name: "bad timestamp", ts: "yesterday", sig: sig, want: ErrInvalidTimestamp},
		{name: "milliseconds timestamp", ts: ts + "000", sig: sig, want: ErrStaleTimestamp},
		{name: "no secret", secret: "-", ts: ts, sig: sig, want: ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			secret := testSecret
			switch tt.secret {
			case "":
			case "-":
				secret = ""
			default:
				secret = tt.secret
			}
			b := body
			if tt.body != "" {
				b = []byte(tt.body)
			}
			at := now
			if !tt.now.IsZero() {
				at = tt.now
			}
			tol := time.Minute
			if tt.tolerance != 0 {
				tol = tt.tolerance
			}
			err := Verify(secret, tt.ts, tt.sig, b, at, tol)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), testSecret) {
				t.Errorf("error %q reveals the secret", err)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	f.Add("1795600805", "sha256=00", []byte(`{}`))
	f.Add("-1", "sha256=", []byte(nil))
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		now := time.Unix(1795600805, 0)
		if err := Verify(testSecret, ts, sig, body, now, time.Hour); err == nil {
			// Only a genuine signature may pass.
			n, _ := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
			if !strings.EqualFold(strings.TrimSpace(sig), Sign(testSecret, n, body)) {
				t.Fatalf("Verify accepted %q %q", ts, sig)
			}
		}
	})
}

func BenchmarkSign(b *testing.B) {
	body := []byte(strings.Repeat(`{"id":"alert-1","title":"North Korea"}`, 50))
	for b.Loop() {
		_ = Sign(testSecret, 1795600805, body)
	}
}
