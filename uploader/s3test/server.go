package s3test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"go/build"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const (
	// VersitygwVersion is the versitygw release the test bed is pinned to.
	VersitygwVersion = "v1.8.0"
	// BinaryEnv names the environment variable that overrides where
	// [Binary] looks for versitygw.
	BinaryEnv = "UPSHOT_VERSITYGW"

	defaultBucket = "upshot-test"
	region        = "us-east-1"
	readyTimeout  = 10 * time.Second
	stopTimeout   = 5 * time.Second
	startAttempts = 5
	probeTimeout  = 500 * time.Millisecond
	outputTail    = 16 << 10
)

// Options configure a versitygw instance. The zero value is a plain-HTTP
// server with a private bucket named "upshot-test" in a temporary directory.
type Options struct {
	// TLS serves https with a self-signed certificate made in-process
	// (ECDSA P-256); the CA is exposed as Server.CAPEM and Server.CertPool.
	TLS bool
	// Bucket is created once the server is up; default "upshot-test".
	Bucket string
	// Dir is the posix root (one subdirectory per bucket). Default: a
	// temporary directory, t.TempDir() in Start. It must support extended
	// attributes (ext4 and tmpfs do).
	Dir string
	// PublicRead puts a bucket policy that lets anyone GET and HEAD
	// objects without signing, as a public B2 bucket does.
	PublicRead bool
	// Versioning keeps every version of a name, as B2 does by default:
	// versitygw runs with --versioning-dir and the bucket has versioning
	// enabled, so writes return x-amz-version-id and ListObjectVersions
	// lists them.
	Versioning bool
	// User adds a second account besides the root one: an ordinary user
	// (versitygw's role "user", kept by its internal IAM in a temporary
	// directory) that owns no bucket and may do nothing in Bucket until
	// [Server.GrantUser] allows it. Its keys are Server.UserAccessKey and
	// Server.UserSecretKey.
	User bool
}

// Server is a running versitygw. Its fields are read-only after start;
// its methods are safe for concurrent use. Close it when done ([Start]
// does that through t.Cleanup).
type Server struct {
	Endpoint  string // "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT"
	Region    string // "us-east-1"
	AccessKey string // random per start
	SecretKey string // random per start
	// UserAccessKey and UserSecretKey are the second account's keys when
	// Options.User is set, else empty.
	UserAccessKey string
	UserSecretKey string
	Bucket        string
	Dir           string         // posix root; the bucket is Dir/Bucket
	CAPEM         []byte         // PEM of the CA certificate when TLS, else nil
	CertPool      *x509.CertPool // pool holding that CA when TLS, else nil

	cmd        *exec.Cmd
	exited     chan struct{} // closed once the process has been waited for
	waitErr    error         // set before exited is closed
	out        *tailBuffer
	transport  *http.Transport
	client     *http.Client
	tempDirs   []string                    // removed by Close
	posixFlags []string                    // flags of the posix backend
	relaunch   func(context.Context) error // starts the process again as it was

	mu sync.Mutex // guards stopped and the process fields during Stop/Restart

	closeOnce sync.Once
	closeErr  error
}

// Binary returns the path of the versitygw executable: $UPSHOT_VERSITYGW if
// set, else versitygw on PATH, else in $GOBIN or $GOPATH/bin.
func Binary() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("s3test: %s=%s: %w (point it at versitygw %s, or unset it and run `scripts/deps.sh test`)", BinaryEnv, p, err, VersitygwVersion)
		}
		return p, nil
	}
	name := "versitygw"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, gp := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("s3test: versitygw not found (looked at $%s, PATH, %s): run `scripts/deps.sh test` (or `make test`) to install the pinned versitygw %s",
		BinaryEnv, strings.Join(dirs, ", "), VersitygwVersion)
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || (runtime.GOOS != "windows" && fi.Mode().Perm()&0o111 == 0) {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}

// Start starts a server for the test and stops it in t.Cleanup. Dir
// defaults to tb.TempDir(). Any failure is fatal to the test.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if opts.Dir == "" {
		opts.Dir = tb.TempDir()
	}
	return forTest(tb, func() (*Server, error) { return StartServer(tb.Context(), opts) })
}

// forTest starts something for the test, failing it when that fails, and
// closes it in tb.Cleanup, reporting a failed Close.
func forTest[T interface{ Close() error }](tb testing.TB, start func() (T, error)) T {
	tb.Helper()
	v, err := start()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := v.Close(); err != nil {
			tb.Error(err)
		}
	})
	return v
}

// StartServer starts versitygw, waits until it answers, and creates the
// bucket (and the public-read policy when asked). ctx bounds the start-up
// only: the server runs until Close, which the caller must call. On error
// nothing is left running and no temporary directory is left behind.
func StartServer(ctx context.Context, opts Options) (_ *Server, err error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	s := &Server{
		Region:    region,
		AccessKey: "UPSHOT" + rand.Text()[:14],
		SecretKey: rand.Text() + rand.Text(),
		Bucket:    opts.Bucket,
		exited:    make(chan struct{}),
		out:       &tailBuffer{max: outputTail},
	}
	if s.Bucket == "" {
		s.Bucket = defaultBucket
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.close(false))
		}
	}()

	state, err := os.MkdirTemp("", "upshot-s3test-")
	if err != nil {
		return nil, fmt.Errorf("s3test: make state dir: %w (is TMPDIR writable?)", err)
	}
	s.tempDirs = append(s.tempDirs, state)
	s.Dir = opts.Dir
	if s.Dir == "" {
		s.Dir = filepath.Join(state, "data")
	}
	if s.Dir, err = filepath.Abs(s.Dir); err != nil {
		return nil, fmt.Errorf("s3test: data dir: %w", err)
	}
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("s3test: make data dir: %w", err)
	}

	scheme, flags := "http", []string(nil) // flags before the "posix" command
	if opts.User {
		iam := filepath.Join(state, "iam")
		s.UserAccessKey, s.UserSecretKey = "UPSHOTUSER"+rand.Text()[:10], rand.Text()+rand.Text()
		if err := writeUsers(iam, s.UserAccessKey, s.UserSecretKey); err != nil {
			return nil, err
		}
		flags = append(flags, "--iam-dir", iam)
	}
	if opts.Versioning {
		versions := filepath.Join(state, "versions")
		if err := os.MkdirAll(versions, 0o755); err != nil {
			return nil, fmt.Errorf("s3test: make versioning dir: %w", err)
		}
		s.posixFlags = []string{"--versioning-dir", versions}
	}
	if opts.TLS {
		ca, err := newAuthority("versitygw")
		if err != nil {
			return nil, fmt.Errorf("s3test: make TLS certificate: %w", err)
		}
		certFile, keyFile, err := ca.writeFiles(state)
		if err != nil {
			return nil, fmt.Errorf("s3test: %w", err)
		}
		scheme, flags = "https", append(flags, "--cert", certFile, "--key", keyFile)
		s.CAPEM, s.CertPool = ca.caPEM, ca.pool
	}
	s.transport = newTransport(s.CertPool)
	s.client = &http.Client{Transport: s.transport}

	// A random health path tells our server from another process that may
	// have grabbed the port between the probe and the bind.
	health := "/upshot-health-" + strings.ToLower(rand.Text())
	for attempt := 1; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s.Endpoint = fmt.Sprintf("%s://127.0.0.1:%d", scheme, port)
		err = s.launch(ctx, bin, port, health, flags)
		if err == nil {
			s.relaunch = func(ctx context.Context) error { return s.launch(ctx, bin, port, health, flags) }
			break
		}
		if !errors.Is(err, errPortTaken) || attempt == startAttempts {
			return nil, err
		}
		// The failed process has exited; start afresh on another port.
		s.cmd, s.exited, s.waitErr, s.out = nil, make(chan struct{}), nil, &tailBuffer{max: outputTail}
	}

	c := s.Client()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &s.Bucket}); err != nil {
		return nil, fmt.Errorf("s3test: create bucket %q on %s: %w%s", s.Bucket, s.Endpoint, err, s.out.tail())
	}
	if opts.Versioning {
		if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &s.Bucket,
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
			return nil, fmt.Errorf("s3test: enable versioning on %q: %w%s", s.Bucket, err, s.out.tail())
		}
	}
	if opts.PublicRead {
		policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::%s/*"]}]}`, s.Bucket)
		if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &s.Bucket, Policy: &policy}); err != nil {
			return nil, fmt.Errorf("s3test: make bucket %q public-read: %w%s", s.Bucket, err, s.out.tail())
		}
	}
	return s, nil
}

var errPortTaken = errors.New("port already in use")

// writeUsers writes versitygw's internal IAM file with one ordinary user.
func writeUsers(dir, access, secret string) error {
	type account struct {
		Access string `json:"access"`
		Secret string `json:"secret"`
		Role   string `json:"role"`
	}
	b, err := json.Marshal(map[string]map[string]account{"accessAccounts": {access: {access, secret, "user"}}})
	if err != nil {
		return fmt.Errorf("s3test: users file: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("s3test: make IAM dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "users.json"), b, 0o600); err != nil {
		return fmt.Errorf("s3test: write users file: %w", err)
	}
	return nil
}

// GrantUser puts a bucket policy that allows the second user (see
// Options.User) the given actions, such as "s3:GetBucketCORS" or
// "s3:PutObject", on Bucket and on every object in it. It replaces the
// bucket's policy, the public-read one included.
func (s *Server) GrantUser(ctx context.Context, actions ...string) error {
	if s.UserAccessKey == "" {
		return errors.New("s3test: GrantUser on a server started without Options.User")
	}
	type statement struct {
		Effect    string
		Principal map[string][]string
		Action    []string
		Resource  []string
	}
	policy, err := json.Marshal(struct {
		Version   string
		Statement []statement
	}{"2012-10-17", []statement{{"Allow", map[string][]string{"AWS": {s.UserAccessKey}}, actions,
		[]string{"arn:aws:s3:::" + s.Bucket, "arn:aws:s3:::" + s.Bucket + "/*"}}}})
	if err != nil {
		return err
	}
	if _, err := s.Client().PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: &s.Bucket, Policy: aws.String(string(policy))}); err != nil {
		return fmt.Errorf("s3test: grant the user %v on %q: %w%s", actions, s.Bucket, err, s.out.tail())
	}
	return nil
}

// launch starts the process on port and waits until the health endpoint
// answers 200. When it fails, the process is gone.
func (s *Server) launch(ctx context.Context, bin string, port int, health string, flags []string) error {
	args := []string{
		"--access", s.AccessKey, "--secret", s.SecretKey, "--region", s.Region,
		"--port", fmt.Sprintf("127.0.0.1:%d", port), "--health", health,
		"--quiet", "--keep-alive",
	}
	args = append(args, flags...)
	args = append(args, "posix")
	args = append(args, s.posixFlags...)
	args = append(args, s.Dir)
	cmd := exec.Command(bin, args...)
	cmd.Env = childEnv()
	cmd.Stdout, cmd.Stderr = s.out, s.out
	cmd.SysProcAttr = sysProcAttr()
	cmd.WaitDelay = stopTimeout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("s3test: start %s: %w (reinstall with `scripts/deps.sh test`)", bin, err)
	}
	s.cmd = cmd
	exited := s.exited
	go func() {
		s.waitErr = cmd.Wait()
		close(exited)
	}()

	// Probes stop as soon as the process dies, not at their timeout.
	probeCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-exited:
			cancel()
		case <-probeCtx.Done():
		}
	}()
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	url := s.Endpoint + health
	var lastErr error
	for {
		if lastErr = s.probe(probeCtx, url); lastErr == nil {
			return nil
		}
		select {
		case <-exited:
			if strings.Contains(s.out.String(), "address already in use") {
				return fmt.Errorf("s3test: versitygw on port %d: %w", port, errPortTaken)
			}
			return fmt.Errorf("s3test: versitygw exited before it was ready (%v)%s", s.waitErr, s.out.tail())
		case <-deadline.C:
			return errors.Join(
				fmt.Errorf("s3test: versitygw at %s not ready after %v (last probe: %w)%s", s.Endpoint, readyTimeout, lastErr, s.out.tail()),
				s.stop())
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("s3test: waiting for versitygw: %w", ctx.Err()), s.stop())
		case <-tick.C:
		}
	}
}

func (s *Server) probe(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health check: %s", resp.Status)
	}
	return nil
}

// stop ends the process: SIGTERM, then SIGKILL after stopTimeout.
func (s *Server) stop() error {
	if s.cmd == nil {
		return nil
	}
	select {
	case <-s.exited:
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		_ = s.cmd.Process.Kill()
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(stopTimeout):
	}
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("s3test: kill versitygw (pid %d): %w", s.cmd.Process.Pid, err)
	}
	<-s.exited
	return nil
}

// Close stops the server (SIGTERM, then SIGKILL after 5 s), waits for it,
// and removes the directories StartServer made (not a Dir passed in
// Options). It reports a server that had died on its own. Close is
// idempotent and safe for concurrent use.
func (s *Server) Close() error { return s.close(true) }

func (s *Server) close(reportExit bool) error {
	s.closeOnce.Do(func() {
		var errs []error
		if s.transport != nil {
			s.transport.CloseIdleConnections() // lets versitygw shut down at once
		}
		if s.cmd != nil {
			select {
			case <-s.exited:
				if reportExit {
					errs = append(errs, fmt.Errorf("s3test: versitygw at %s had exited by itself (%v)%s", s.Endpoint, s.waitErr, s.out.tail()))
				}
			default:
				errs = append(errs, s.stop())
			}
		}
		for _, d := range s.tempDirs {
			if err := os.RemoveAll(d); err != nil {
				errs = append(errs, fmt.Errorf("s3test: remove %s: %w", d, err))
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// Client returns an SDK client for assertions, signed with the server's
// credentials: path-style, checksums only when required (as Upshot
// configures it for B2), trusting CertPool, and with no retries, so every
// call is exactly one request and injected faults surface as they are.
// The aws.Config is built by hand: config.LoadDefaultConfig would let
// AWS_CA_BUNDLE replace the pool.
func (s *Server) Client() *s3.Client {
	return newS3Client(s.Endpoint, s, s.client)
}

// HTTPClient returns an HTTP client that trusts CertPool (when TLS) and
// never goes through an environment proxy. It is shared, so connections
// are reused; do not change it.
func (s *Server) HTTPClient() *http.Client { return s.client }

func newS3Client(endpoint string, s *Server, hc *http.Client) *s3.Client {
	cfg := aws.Config{
		Region:                     s.Region,
		Credentials:                credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
		HTTPClient:                 hc,
		Retryer:                    func() aws.Retryer { return aws.NopRetryer{} },
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
	})
}

// freePort asks the kernel for a free loopback port. Another process may
// take it before versitygw binds it; StartServer retries when that happens.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("s3test: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// childEnv is the environment minus the variables versitygw reads as
// flags (VGW_*, ROOT_*), so the caller's shell cannot change the server.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "VGW_") || strings.HasPrefix(kv, "ROOT_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// tailBuffer keeps the last max bytes written to it; safe for concurrent
// use (the process's stdout and stderr share it).
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// tail formats the output for the end of an error message.
func (b *tailBuffer) tail() string {
	out := strings.TrimSpace(b.String())
	if out == "" {
		return " (versitygw printed nothing)"
	}
	return "\nversitygw output (tail):\n" + out
}

// PID is the versitygw process's id, for reading its CPU time from /proc;
// 0 before it has started.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Stop stops the server process but keeps its port, credentials and data,
// so that [Server.Restart] brings the same server back: an outage, as
// clients see it (connections refused).
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.transport.CloseIdleConnections()
	return s.stop()
}

// Restart starts a stopped server again on the same port with the same
// credentials and data, and waits until it answers.
func (s *Server) Restart(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.exited:
	default:
		return errors.New("s3test: Restart of a server that is running: Stop it first")
	}
	s.cmd, s.exited, s.waitErr = nil, make(chan struct{}), nil
	return s.relaunch(ctx)
}
