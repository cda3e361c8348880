package websub

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // WebSub allows sha1 signatures; hubs still send them.
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
)

// Signature errors; each is a different result label in newswatch_websub_pushes_total.
var (
	ErrNoSignature     = errors.New("websub: push has no X-Hub-Signature")
	ErrUnknownMethod   = errors.New("websub: X-Hub-Signature names a method other than sha1, sha256, sha384 or sha512")
	ErrSignatureFailed = errors.New("websub: X-Hub-Signature does not match the body")
)

var methods = map[string]func() hash.Hash{
	"sha1": sha1.New, "sha256": sha256.New, "sha384": sha512.New384, "sha512": sha512.New,
}

// Verify checks an X-Hub-Signature header (`method=hex`) against the HMAC of body with
// secret, in constant time.
func Verify(secret, body []byte, header string) error {
	if header == "" {
		return ErrNoSignature
	}
	method, sig, ok := strings.Cut(strings.TrimSpace(header), "=")
	newHash := methods[strings.ToLower(method)]
	if !ok || newHash == nil {
		return ErrUnknownMethod
	}
	want, err := hex.DecodeString(sig)
	if err != nil {
		return ErrSignatureFailed
	}
	mac := hmac.New(newHash, secret)
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), want) {
		return ErrSignatureFailed
	}
	return nil
}

// Sign returns the X-Hub-Signature of body with secret by method (sha1, sha256, sha384 or
// sha512), as a hub sends it. Tests and tools use it.
func Sign(method string, secret, body []byte) string {
	newHash := methods[method]
	if newHash == nil {
		newHash, method = sha256.New, "sha256"
	}
	mac := hmac.New(newHash, secret)
	mac.Write(body)
	return method + "=" + hex.EncodeToString(mac.Sum(nil))
}
