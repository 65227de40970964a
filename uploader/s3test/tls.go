package s3test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// authority is a throwaway certificate authority together with one
// loopback server certificate it signed. It is immutable once made.
type authority struct {
	caPEM   []byte         // the CA certificate, PEM
	pool    *x509.CertPool // holds only the CA
	leaf    tls.Certificate
	certPEM []byte // leaf certificate, PEM
	keyPEM  []byte // leaf private key, PEM (PKCS #8)
}

// certValidity is long enough for a benchmark run of several hours.
const certValidity = 7 * 24 * time.Hour

// newAuthority makes an ECDSA P-256 CA and a server certificate for
// 127.0.0.1, ::1 and localhost, entirely in memory.
func newAuthority(name string) (*authority, error) {
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate CA key: %w", err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{Organization: []string{"upshot s3test"}, CommonName: name + " test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(certValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("self-sign CA: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("parse CA: %w", err)
	}

	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate server key: %w", err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{Organization: []string{"upshot s3test"}, CommonName: name},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(certValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:     []string{"localhost"},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("sign server certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		return nil, fmt.Errorf("marshal server key: %w", err)
	}

	a := &authority{
		caPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pool:    x509.NewCertPool(),
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	a.pool.AddCert(caCert)
	a.leaf, err = tls.X509KeyPair(a.certPEM, a.keyPEM)
	if err != nil {
		return nil, fmt.Errorf("load server key pair: %w", err)
	}
	return a, nil
}

// writeFiles writes the server certificate and key to dir, for a process
// that takes file names (versitygw --cert/--key). The key file is 0600.
func (a *authority) writeFiles(dir string) (certFile, keyFile string, err error) {
	certFile = filepath.Join(dir, "server.pem")
	keyFile = filepath.Join(dir, "server-key.pem")
	if err := os.WriteFile(certFile, a.certPEM, 0o644); err != nil {
		return "", "", fmt.Errorf("write TLS certificate: %w", err)
	}
	if err := os.WriteFile(keyFile, a.keyPEM, 0o600); err != nil {
		return "", "", fmt.Errorf("write TLS key: %w", err)
	}
	return certFile, keyFile, nil
}

// serverConfig is a TLS config that serves the leaf over HTTP/1.1 only, so
// that handlers can hijack connections (HTTP/2 streams cannot be hijacked).
func (a *authority) serverConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{a.leaf},
		NextProtos:   []string{"http/1.1"},
		MinVersion:   tls.VersionTLS12,
	}
}

// serial returns a random 127-bit certificate serial number. crypto/rand's
// Read never fails (it aborts the program instead), so there is no error.
func serial() *big.Int {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[0] &= 0x7f
	return new(big.Int).SetBytes(b[:])
}

// newTransport returns an HTTP transport for loopback test servers: it
// trusts exactly pool (the system roots when pool is nil), never uses a
// proxy from the environment, and does not ask for gzip, so what goes over
// the wire is what the caller wrote.
func newTransport(pool *x509.CertPool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DisableCompression = true
	t.MaxIdleConnsPerHost = 64
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return t
}
