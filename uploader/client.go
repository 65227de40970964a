package uploader

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ClientOptions adjusts how Upshot talks to the endpoint.
type ClientOptions struct {
	// CAPEM holds PEM certificates trusted in addition to the system pool
	// and the bundle named by AWS_CA_BUNDLE.
	CAPEM []byte
	// HTTPClient replaces the whole HTTP client when set.
	HTTPClient *http.Client
}

// newHTTPClient makes a client tuned for many parallel uploads to one host.
// It honours HTTPS_PROXY and AWS_CA_BUNDLE (users behind a TLS-inspecting
// proxy need both) and never turns certificate checks off.
func newHTTPClient(extraPEM []byte) (*http.Client, error) {
	pool, err := rootPool(extraPEM)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: newTransport(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool})}, nil
}

// rootPool is the system pool plus AWS_CA_BUNDLE and extraPEM. With
// neither, it returns nil, which makes crypto/tls load the system pool
// itself, lazily, on the first https connection: a run that talks plain
// http to a local server never parses a certificate.
func rootPool(extraPEM []byte) (*x509.CertPool, error) {
	bundle := os.Getenv("AWS_CA_BUNDLE")
	if bundle == os.Getenv("SSL_CERT_FILE") {
		bundle = "" // already the system pool's source
	}
	if bundle == "" && len(extraPEM) == 0 {
		return nil, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if bundle != "" {
		pem, err := os.ReadFile(bundle)
		if err != nil {
			return nil, fmt.Errorf("read AWS_CA_BUNDLE: %w (point it at a PEM file, or unset it)", err)
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("AWS_CA_BUNDLE %s holds no PEM certificates: point it at a PEM file, or unset it", bundle)
		}
	}
	if len(extraPEM) > 0 && !pool.AppendCertsFromPEM(extraPEM) {
		return nil, fmt.Errorf("the extra CA certificates hold no PEM certificate")
	}
	return pool, nil
}

func newTransport(tc *tls.Config) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   10 * time.Second,
		MaxIdleConns:          128,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 2 * time.Minute,
		ExpectContinueTimeout: time.Second,
		WriteBufferSize:       256 << 10,
		ReadBufferSize:        64 << 10,
	}
}

// newS3Client builds an S3 client for B2 by hand rather than through
// config.LoadDefaultConfig: no shared AWS profiles or instance metadata are
// consulted, start-up stays fast, and the settings B2 needs are explicit.
func newS3Client(t Target, hc *http.Client) *s3.Client {
	cfg := aws.Config{
		Region:      t.Region,
		Credentials: credentials.NewStaticCredentialsProvider(t.KeyID, t.Key.Reveal(), ""),
		HTTPClient:  hc,
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
		// B2 rejects the SDK's default CRC32 headers and aws-chunked
		// trailers: checksums are sent only when Upshot sets them.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(t.Endpoint)
		o.UsePathStyle = t.PathStyle || !t.IsB2() && isLoopbackURL(t.Endpoint)
		o.RetryMaxAttempts = 1
		// Integrity comes from Content-MD5 and x-amz-checksum-sha1, which
		// the server checks; signing the payload's SHA256 as well would
		// read every file one more time.
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
	})
}
