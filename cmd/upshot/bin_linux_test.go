package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"upshot/uploader/s3test"
)

// runBin runs the real upshot binary with extra environment and returns its
// exit code, output and peak resident memory.
func runBin(t *testing.T, cred *syscall.Credential, env []string, args ...string) (code int, stdout, stderr string, maxRSS int64) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), upshotBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return cmd.ProcessState.ExitCode(), out.String(), errb.String(), ru.Maxrss * 1024
}

// openPath makes a temp dir and its parents traversable by another user.
func openPath(t *testing.T, dir string) {
	t.Helper()
	for d := dir; d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()+"/"); d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o777|os.ModeSticky); err != nil {
			t.Fatal(err)
		}
	}
}

func TestUnreadableFileExitsOne(t *testing.T) {
	e := newCLIEnv(t, "")
	dir := t.TempDir()
	secret := filepath.Join(dir, "private.png")
	if err := os.WriteFile(secret, []byte("x"), 0o000); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "ok.png")
	os.WriteFile(good, []byte("fine"), 0o644)

	// Root reads anything, so as root run the binary as nobody.
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
		for _, d := range []string{dir, filepath.Dir(upshotBin), filepath.Dir(e.config), e.data} {
			openPath(t, d)
		}
		os.Chmod(e.config, 0o644)
	}
	env := []string{"UPSHOT_DATA_DIR=" + e.data, "B2_APPLICATION_KEY_ID=" + e.srv.AccessKey, "B2_APPLICATION_KEY=" + e.srv.SecretKey}
	code, out, errs, _ := runBin(t, cred, env, "upload", "--config", e.config, "--no-clipboard", secret, good)
	if code != 1 {
		t.Fatalf("exit %d, want 1; stderr %s", code, errs)
	}
	if !strings.Contains(errs, secret+": permission denied") || !strings.Contains(errs, "chmod") {
		t.Fatalf("stderr %q should name the file, say why and what to do", errs)
	}
	if !strings.Contains(out, "shots/ok.png") {
		t.Fatalf("the readable file was not uploaded: %q", out)
	}
}

// TestLargeFileFlatMemory uploads a 6 GiB sparse file: it must go multipart,
// land intact, and keep the process under 200 MB resident.
func TestLargeFileFlatMemory(t *testing.T) {
	srv := s3test.Start(t, s3test.Options{})
	dir := t.TempDir()
	config := filepath.Join(dir, "config.toml")
	os.WriteFile(config, []byte(fmt.Sprintf("[target]\nendpoint = %q\nbucket = %q\npath_template = \"big/{name}{ext}\"\n", srv.Endpoint, srv.Bucket)), 0o644)
	big := filepath.Join(dir, "six.bin")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	const size = 6 << 30
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte("head"), 0)
	f.WriteAt([]byte("tail"), size-4)
	f.Close()

	start := time.Now()
	env := []string{"UPSHOT_DATA_DIR=" + t.TempDir(), "B2_APPLICATION_KEY_ID=" + srv.AccessKey, "B2_APPLICATION_KEY=" + srv.SecretKey}
	code, out, errs, rss := runBin(t, nil, env, "upload", "--config", config, "--json", "--no-clipboard", big)
	t.Logf("6 GiB upload: %v, peak RSS %.1f MB", time.Since(start).Round(time.Millisecond), float64(rss)/1e6)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var line struct {
		Key  string
		Size int64
		SHA1 string
	}
	json.Unmarshal([]byte(out), &line)
	if line.Size != size || line.Key != "big/six.bin" {
		t.Fatalf("result %s", out)
	}
	// A multipart object's ETag ends in its part count: 6 GiB in 100 MB parts.
	head, err := srv.Client().HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: &srv.Bucket, Key: &line.Key})
	if err != nil {
		t.Fatal(err)
	}
	if etag := aws.ToString(head.ETag); !strings.HasSuffix(strings.Trim(etag, `"`), "-65") || aws.ToInt64(head.ContentLength) != size {
		t.Fatalf("ETag %s, size %d: want a 65-part multipart object of %d bytes", etag, aws.ToInt64(head.ContentLength), size)
	}
	if rss > 200e6 {
		t.Fatalf("peak RSS %.1f MB, want under 200 MB", float64(rss)/1e6)
	}
	// The stored object has the right size and the right last bytes.
	obj, err := srv.Client().GetObject(t.Context(), &s3.GetObjectInput{Bucket: &srv.Bucket, Key: &line.Key, Range: aws.String(fmt.Sprintf("bytes=%d-", size-4))})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	tail, _ := io.ReadAll(obj.Body)
	if string(tail) != "tail" {
		t.Fatalf("last bytes %q, want tail", tail)
	}
}
