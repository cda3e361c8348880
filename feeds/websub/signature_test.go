package websub

import (
	"errors"
	"strings"
	"testing"
)

func TestVerify(t *testing.T) {
	secret, body := []byte("s3cret"), []byte(`<feed xmlns="http://www.w3.org/2005/Atom"/>`)
	for _, m := range []string{"sha1", "sha256", "sha384", "sha512"} {
		sig := Sign(m, secret, body)
		if !strings.HasPrefix(sig, m+"=") {
			t.Fatalf("Sign(%s) = %s", m, sig)
		}
		if err := Verify(secret, body, sig); err != nil {
			t.Errorf("%s: a good signature fails: %v", m, err)
		}
		if err := Verify(secret, body, strings.ToUpper(m)+sig[len(m):]); err != nil {
			t.Errorf("%s: method names are case-insensitive: %v", m, err)
		}
	}
	good := Sign("sha256", secret, body)
	tests := []struct {
		name, header string
		secret, body []byte
		want         error
	}{
		{"missing", "", secret, body, ErrNoSignature},
		{"other secret", good, []byte("other"), body, ErrSignatureFailed},
		{"body changed", good, secret, append([]byte(" "), body...), ErrSignatureFailed},
		{"one digit changed", good[:len(good)-1] + flip(good[len(good)-1]), secret, body, ErrSignatureFailed},
		{"truncated", good[:20], secret, body, ErrSignatureFailed},
		{"not hex", "sha256=zz", secret, body, ErrSignatureFailed},
		{"md5", "md5=" + good[7:], secret, body, ErrUnknownMethod},
		{"no method", good[7:], secret, body, ErrUnknownMethod},
		{"method of another length", "sha512=" + good[7:], secret, body, ErrSignatureFailed},
	}
	for _, tt := range tests {
		if err := Verify(tt.secret, tt.body, tt.header); !errors.Is(err, tt.want) {
			t.Errorf("%s: Verify = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func flip(c byte) string {
	if c == '0' {
		return "1"
	}
	return "0"
}

func FuzzVerify(f *testing.F) {
	f.Add([]byte("k"), []byte("body"), "sha256=00")
	f.Add([]byte("k"), []byte("body"), Sign("sha1", []byte("k"), []byte("body")))
	f.Fuzz(func(t *testing.T, secret, body []byte, header string) {
		if Verify(secret, body, header) != nil {
			return
		}
		method, sig, _ := strings.Cut(strings.TrimSpace(header), "=")
		method = strings.ToLower(method)
		if Sign(method, secret, body) != method+"="+strings.ToLower(sig) {
			t.Fatalf("Verify accepted %q", header)
		}
	})
}

// BenchmarkVerify checks the signature of a 64 KiB push, as the callback does for each one.
func BenchmarkVerify(b *testing.B) {
	secret, body := []byte(strings.Repeat("ab", 32)), []byte(strings.Repeat("<item>x</item>", 64<<10/14))
	sig := Sign("sha256", secret, body)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := Verify(secret, body, sig); err != nil {
			b.Fatal(err)
		}
	}
}
