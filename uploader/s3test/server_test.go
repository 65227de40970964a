package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// apiCode returns the S3 error code in err, or "".
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func putObject(ctx context.Context, c *s3.Client, bucket, key string, body []byte) error {
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &bucket,
		Key:           &key,
		Body:          bytes.NewReader(body),
		ContentLength: new(int64(len(body))),
	})
	return err
}

func getObject(ctx context.Context, c *s3.Client, bucket, key string) ([]byte, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// requireMissing fails the test unless key is absent from the server.
func requireMissing(t *testing.T, srv *Server, key string) {
	t.Helper()
	_, err := srv.Client().HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: &srv.Bucket, Key: &key})
	if code := apiCode(err); code != "NotFound" {
		t.Fatalf("HEAD %s: err = %v (code %q), want NotFound: the object must not exist", key, err, code)
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func TestServerPutGet(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"http", Options{}},
		{"https", Options{TLS: true, Bucket: "upshot-tls"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := Start(t, tc.opts)
			if !strings.HasPrefix(srv.Endpoint, tc.name+"://127.0.0.1:") {
				t.Errorf("Endpoint = %q, want %s://127.0.0.1:PORT", srv.Endpoint, tc.name)
			}
			if tc.opts.TLS != (srv.CertPool != nil && len(srv.CAPEM) > 0) {
				t.Errorf("TLS %v but CAPEM %d bytes, CertPool %v", tc.opts.TLS, len(srv.CAPEM), srv.CertPool)
			}
			want := randomBytes(3 << 20) // above the SDK's 2 MB Expect: 100-continue threshold
			ctx := t.Context()
			if err := putObject(ctx, srv.Client(), srv.Bucket, "dir/a b.png", want); err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			got, err := getObject(ctx, srv.Client(), srv.Bucket, "dir/a b.png")
			if err != nil {
				t.Fatalf("GetObject: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("GetObject returned %d bytes that differ from the %d put", len(got), len(want))
			}
			// The posix backend stores objects as plain files.
			if fi, err := os.Stat(filepath.Join(srv.Dir, srv.Bucket, "dir", "a b.png")); err != nil || fi.Size() != int64(len(want)) {
				t.Errorf("object file in Dir: %v, %v", fi, err)
			}
			// Without PublicRead, anonymous reads are refused.
			resp, err := srv.HTTPClient().Get(srv.Endpoint + "/" + srv.Bucket + "/dir/a%20b.png")
			if err != nil {
				t.Fatalf("anonymous GET: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("anonymous GET of a private object: %s, want 403", resp.Status)
			}
		})
	}
}

func TestServerCloseStopsProcess(t *testing.T) {
	t.Parallel()
	srv, err := StartServer(t.Context(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	state := srv.tempDirs[0]
	start := time.Now()
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	t.Logf("Close took %v", time.Since(start))
	if err := srv.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	select {
	case <-srv.exited:
	default:
		t.Fatal("versitygw still running after Close")
	}
	if _, err := os.Stat(state); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("state dir %s left behind: %v", state, err)
	}
	if _, err := srv.HTTPClient().Get(srv.Endpoint + "/"); err == nil {
		t.Error("server still answers after Close")
	}
}

func TestStartCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	dir := t.TempDir()
	_, err := StartServer(ctx, Options{Dir: dir})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("StartServer with a canceled context: %v, want context.Canceled", err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Errorf("StartServer removed the caller's Dir: %v", err)
	}
}

// TestLaunchTakenPort checks that a port taken between the probe and the
// bind is reported as errPortTaken, which StartServer retries.
func TestLaunchTakenPort(t *testing.T) {
	t.Parallel()
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	s := &Server{
		Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), Region: region, AccessKey: "a", SecretKey: "secret-secret",
		Dir: t.TempDir(), exited: make(chan struct{}), out: &tailBuffer{max: outputTail}, client: &http.Client{},
	}
	if err := s.launch(t.Context(), bin, port, "/health", nil); !errors.Is(err, errPortTaken) {
		t.Fatalf("launch on a taken port: %v, want errPortTaken", err)
	}
}

func TestBinaryEnv(t *testing.T) {
	t.Setenv(BinaryEnv, filepath.Join(t.TempDir(), "missing-versitygw"))
	_, err := Binary()
	if err == nil || !strings.Contains(err.Error(), "scripts/deps.sh test") {
		t.Fatalf("Binary() with a bad %s: err = %v, want advice to run scripts/deps.sh test", BinaryEnv, err)
	}
}

func TestStopRestart(t *testing.T) {
	s := Start(t, Options{})
	key := "k"
	put := func() error {
		_, err := s.Client().PutObject(t.Context(), &s3.PutObjectInput{Bucket: &s.Bucket, Key: &key, Body: strings.NewReader("v")})
		return err
	}
	if err := put(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := put(); err == nil {
		t.Fatal("put succeeded while the server was stopped")
	}
	if err := s.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	out, err := s.Client().GetObject(t.Context(), &s3.GetObjectInput{Bucket: &s.Bucket, Key: &key})
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	out.Body.Close()
}

// TestServerUser checks the second account: refused until granted, and
// then allowed exactly what GrantUser names.
func TestServerUser(t *testing.T) {
	t.Parallel()
	srv := Start(t, Options{User: true})
	if srv.UserAccessKey == "" || srv.UserSecretKey == "" || srv.UserAccessKey == srv.AccessKey {
		t.Fatalf("user keys %q/%q", srv.UserAccessKey, srv.UserSecretKey)
	}
	user := newS3Client(srv.Endpoint, &Server{Region: srv.Region, AccessKey: srv.UserAccessKey, SecretKey: srv.UserSecretKey}, srv.HTTPClient())
	ctx := t.Context()
	status := func(err error) int {
		var re *smithyhttp.ResponseError
		if errors.As(err, &re) && re.Response != nil {
			return re.Response.StatusCode
		}
		return 0
	}
	if err := putObject(ctx, user, srv.Bucket, "a.txt", []byte("a")); status(err) != 403 {
		t.Fatalf("PutObject by the user before any grant: %v, want 403", err)
	}
	if err := srv.GrantUser(ctx, "s3:PutObject"); err != nil {
		t.Fatal(err)
	}
	if err := putObject(ctx, user, srv.Bucket, "a.txt", []byte("a")); err != nil {
		t.Fatalf("PutObject by the user after the grant: %v", err)
	}
	if _, err := getObject(ctx, user, srv.Bucket, "a.txt"); status(err) != 403 {
		t.Fatalf("GetObject, not granted: %v, want 403", err)
	}
	if got, err := getObject(ctx, srv.Client(), srv.Bucket, "a.txt"); err != nil || string(got) != "a" {
		t.Fatalf("root reads %q, %v", got, err)
	}
}
