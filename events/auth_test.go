package events_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
	"github.com/newswatch/newswatch/events"
)

func runServer(t *testing.T, opts *server.Options) string {
	t.Helper()
	opts.Host, opts.Port, opts.JetStream, opts.StoreDir, opts.NoSigs, opts.NoLog = "127.0.0.1", server.RANDOM_PORT, true, t.TempDir(), true, true
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("server did not start")
	}
	t.Cleanup(s.Shutdown)
	return s.Addr().(*net.TCPAddr).String()
}

func dial(t *testing.T, cfg events.ConnConfig) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c, err := events.Connect(ctx, cfg, quietLog())
	if err == nil {
		c.Close()
	}
	return err
}

func TestExternalNATSWithTokenAndPassword(t *testing.T) {
	tokenAddr := runServer(t, &server.Options{Authorization: "s3cret-token"})
	if err := dial(t, events.ConnConfig{URL: "nats://" + tokenAddr, Token: "s3cret-token"}); err != nil {
		t.Errorf("with the token: %v", err)
	}
	err := dial(t, events.ConnConfig{URL: "nats://" + tokenAddr, Token: "wrong"})
	if err == nil || strings.Contains(err.Error(), "wrong") {
		t.Errorf("with a wrong token: %v (must fail, and not echo the token)", err)
	}
	userAddr := runServer(t, &server.Options{Username: "nw", Password: "s3cret-pass"})
	if err := dial(t, events.ConnConfig{URL: "nats://" + userAddr, User: "nw", Password: "s3cret-pass"}); err != nil {
		t.Errorf("with user and password: %v", err)
	}
	err = dial(t, events.ConnConfig{URL: "nats://nw:wrong-in-url@" + userAddr})
	if err == nil || strings.Contains(err.Error(), "wrong-in-url") {
		t.Errorf("error must not show the password from the URL: %v", err)
	}
}

// writeCert makes a CA and a server certificate for 127.0.0.1 and returns the file paths.
func writeCert(t *testing.T) (caFile, certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "nats"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	write := func(name, typ string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("cert.pem", "CERTIFICATE", der), write("key.pem", "EC PRIVATE KEY", keyDER)
}

func TestExternalNATSWithTLS(t *testing.T) {
	caFile, certFile, keyFile := writeCert(t)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	addr := runServer(t, &server.Options{TLS: true, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}})
	if err := dial(t, events.ConnConfig{URL: "tls://" + addr, TLSCA: caFile}); err != nil {
		t.Errorf("with the CA: %v", err)
	}
	if err := dial(t, events.ConnConfig{URL: "tls://" + addr}); err == nil {
		t.Error("a server certificate from an unknown CA was accepted")
	}
	if err := dial(t, events.ConnConfig{URL: "tls://" + addr, TLSCA: filepath.Join(t.TempDir(), "missing.pem")}); err == nil ||
		!strings.Contains(err.Error(), "nats.tls.ca") {
		t.Errorf("missing CA file: %v", err)
	}
}

// A credentials file (user JWT + nkey seed) against a server in operator mode.
func TestExternalNATSWithCreds(t *testing.T) {
	okp, _ := nkeys.CreateOperator()
	opub, _ := okp.PublicKey()
	oc := jwt.NewOperatorClaims(opub)
	akp, _ := nkeys.CreateAccount()
	apub, _ := akp.PublicKey()
	ac := jwt.NewAccountClaims(apub)
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: -1, DiskStorage: -1, Streams: -1, Consumer: -1}
	ajwt, err := ac.Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	ukp, _ := nkeys.CreateUser()
	upub, _ := ukp.PublicKey()
	ujwt, err := jwt.NewUserClaims(upub).Encode(akp)
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := ukp.Seed()
	creds, err := jwt.FormatUserConfig(ujwt, seed)
	if err != nil {
		t.Fatal(err)
	}
	credsFile := filepath.Join(t.TempDir(), "nw.creds")
	if err := os.WriteFile(credsFile, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	skp, _ := nkeys.CreateAccount()
	spub, _ := skp.PublicKey()
	sjwt, err := jwt.NewAccountClaims(spub).Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	resolver := &server.MemAccResolver{}
	for pub, j := range map[string]string{apub: ajwt, spub: sjwt} {
		if err := resolver.Store(pub, j); err != nil {
			t.Fatal(err)
		}
	}
	addr := runServer(t, &server.Options{TrustedOperators: []*jwt.OperatorClaims{oc}, AccountResolver: resolver, SystemAccount: spub})
	if err := dial(t, events.ConnConfig{URL: "nats://" + addr, Creds: credsFile}); err != nil {
		t.Errorf("with the creds file: %v", err)
	}
	if err := dial(t, events.ConnConfig{URL: "nats://" + addr}); err == nil {
		t.Error("connected without credentials to a server in operator mode")
	}
	if err := dial(t, events.ConnConfig{URL: "nats://" + addr, Creds: filepath.Join(t.TempDir(), "none.creds")}); err == nil ||
		!strings.Contains(err.Error(), "nats.creds") {
		t.Errorf("missing creds file: %v", err)
	}
}
