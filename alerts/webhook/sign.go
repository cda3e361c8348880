package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a delivery's timestamp may be from the receiver's clock when
// Verify is given no tolerance.
const DefaultTolerance = 5 * time.Minute

// signaturePrefix names the algorithm in the signature header.
const signaturePrefix = "sha256="

// Errors returned by Verify.
var (
	ErrNoSecret          = errors.New("webhook: no secret to verify with")
	ErrMissingSignature  = errors.New("webhook: missing signature")
	ErrInvalidTimestamp  = errors.New("webhook: invalid timestamp")
	ErrStaleTimestamp    = errors.New("webhook: timestamp outside the tolerance")
	ErrSignatureMismatch = errors.New("webhook: signature mismatch")
)

// Sign returns the X-Newswatch-Signature value for a body sent at unix time ts:
// "sha256=" followed by the lower-case hex HMAC-SHA256, keyed with secret, of the decimal
// timestamp, a full stop, and the body bytes exactly as sent.
func Sign(secret string, ts int64, body []byte) string {
	return signaturePrefix + hex.EncodeToString(signature(secret, ts, body))
}

// signature returns the raw HMAC-SHA256 that Sign encodes.
func signature(secret string, ts int64, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(strconv.AppendInt(nil, ts, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return mac.Sum(nil)
}

// Verify checks a delivery as a receiver: tsHeader and sigHeader are the values of
// X-Newswatch-Timestamp and X-Newswatch-Signature, body the raw request body. It rejects a
// timestamp more than tolerance away from now in either direction (DefaultTolerance when
// tolerance is not positive), which bounds how long a captured request can be replayed,
// and compares signatures in constant time. Receivers should still drop repeated
// Idempotency-Key values, since retries are legitimate re-sends.
func Verify(secret string, tsHeader, sigHeader string, body []byte, now time.Time, tolerance time.Duration) error {
	if secret == "" {
		return ErrNoSecret
	}
	if sigHeader == "" {
		return ErrMissingSignature
	}
	ts, err := strconv.ParseInt(strings.TrimSpace(tsHeader), 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q is not unix seconds", ErrInvalidTimestamp, tsHeader)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	sent := time.Unix(ts, 0)
	if age := now.Sub(sent); age > tolerance || age < -tolerance {
		return fmt.Errorf("%w: sent at %s, %s from now", ErrStaleTimestamp, sent.UTC().Format(time.RFC3339), age.Round(time.Second))
	}
	got, ok := strings.CutPrefix(strings.TrimSpace(sigHeader), signaturePrefix)
	if !ok {
		return fmt.Errorf("%w: not a %s signature", ErrSignatureMismatch, strings.TrimSuffix(signaturePrefix, "="))
	}
	gotMAC, err := hex.DecodeString(got)
	if err != nil {
		return fmt.Errorf("%w: not hex", ErrSignatureMismatch)
	}
	if !hmac.Equal(gotMAC, signature(secret, ts, body)) {
		return ErrSignatureMismatch
	}
	return nil
}
