package main

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"upshot/uploader"
)

// TestInboxCommand runs the real "upshot inbox": it prints a QR code and
// the page's address with its token; a phone's upload straight to the
// bucket and a relayed one each print a JSON line, as watch does; SIGINT
// ends it cleanly; the history has both, from the phone.
func TestInboxCommand(t *testing.T) {
	w := newWatchEnv(t, "")
	cmd := exec.Command(upshotBin, "inbox", "--config", w.config, "--json", "--no-clipboard", "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), w.env...)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	pageURL := regexp.MustCompile(`^or open (http://127\.0\.0\.1:\d+)/#([A-Za-z0-9_-]{22})$`)
	found := make(chan []string, 1)
	var errText strings.Builder
	errDone := make(chan struct{})
	go func() {
		defer close(errDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			errText.WriteString(sc.Text() + "\n")
			if m := pageURL.FindStringSubmatch(sc.Text()); m != nil {
				found <- m
			}
		}
	}()
	lines := make(chan watchLine, 10)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var l watchLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Errorf("stdout line %q is not JSON: %v", sc.Text(), err)
			}
			lines <- l
		}
		close(lines)
	}()
	var base, token string
	select {
	case m := <-found:
		base, token = m[1], m[2]
	case <-errDone:
		t.Fatalf("upshot inbox printed no address:\n%s", errText.String())
	}
	api := func(method, path string, body []byte, header map[string]string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequestWithContext(t.Context(), method, base+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}

	// Straight to the bucket.
	photo := make([]byte, 100_000)
	rand.Read(photo)
	s1, m := sha1.Sum(photo), md5.Sum(photo)
	req, _ := json.Marshal(map[string]any{"name": "from-phone.jpg", "size": len(photo), "type": "image/jpeg",
		"sha1": hex.EncodeToString(s1[:]), "md5": hex.EncodeToString(m[:])})
	code, g := api("POST", "/api/grant", req, nil)
	if code != 200 || g["put_url"] == nil {
		t.Fatalf("grant: %d %v", code, g)
	}
	put, _ := http.NewRequestWithContext(t.Context(), "PUT", g["put_url"].(string), bytes.NewReader(photo))
	for k, v := range g["headers"].(map[string]any) {
		put.Header.Set(k, v.(string))
	}
	resp, err := http.DefaultClient.Do(put)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT to the bucket: %v %v", resp, err)
	}
	resp.Body.Close()
	if code, done := api("POST", "/api/done", []byte(`{"id":"`+g["id"].(string)+`"}`), nil); code != 200 || done["path"] != "direct" {
		t.Fatalf("done: %d %v", code, done)
	}
	// Through this computer.
	video := make([]byte, 50_000)
	rand.Read(video)
	s2 := sha1.Sum(video)
	if code, out := api("PUT", "/api/relay?name=clip.mp4&type=video/mp4", video, map[string]string{"X-Upshot-Sha1": hex.EncodeToString(s2[:])}); code != 200 || out["path"] != "relay" {
		t.Fatalf("relay: %d %v", code, out)
	}
	got := map[string]watchLine{}
	guard := time.After(5 * time.Minute) // a hang guard
	for len(got) < 2 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("stdout ended after %v\n%s", got, errText.String())
			}
			got[l.Key] = l
		case <-guard:
			t.Fatalf("lines so far: %v", got)
		}
	}
	if l := got["from-phone.jpg"]; l.SHA1 != hex.EncodeToString(s1[:]) || l.File != "from-phone.jpg" || l.URL == "" {
		t.Fatalf("the direct upload's line: %+v (all: %v)", l, got)
	}
	if l := got["clip.mp4"]; l.SHA1 != hex.EncodeToString(s2[:]) || l.URL == "" {
		t.Fatalf("the relayed upload's line: %+v (all: %v)", l, got)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	<-errDone
	if err := cmd.Wait(); err != nil {
		t.Fatalf("upshot inbox after SIGINT: %v\n%s", err, errText.String())
	}
	if !strings.Contains(errText.String(), "█") || strings.Contains(errText.String(), w.srv.SecretKey) {
		t.Fatalf("stderr lacks the QR code, or shows the secret:\n%s", errText.String())
	}
	hist := exec.Command(upshotBin, "history", "--json")
	hist.Env = append(os.Environ(), w.env...)
	out, err := hist.Output()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(out), `"source":"phone"`); n != 2 {
		t.Fatalf("history has %d uploads from the phone, want 2:\n%s", n, out)
	}
}

// TestInboxSetupCORS: --setup-cors writes the rule for the listen
// address's origin, which the bucket then reports as allowed.
func TestInboxSetupCORS(t *testing.T) {
	e := newCLIEnv(t, "")
	code, stdout, stderr := upshot(t, "inbox", "--config", e.config, "--setup-cors", "--listen", "192.168.7.7:8765")
	if code != exitOK || !strings.Contains(stdout, "http://192.168.7.7:8765") {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	cfg, err := uploader.Load(e.config)
	if err != nil {
		t.Fatal(err)
	}
	up, err := uploader.New(cfg, uploader.Options{StateDir: e.data})
	if err != nil {
		t.Fatal(err)
	}
	st, err := up.InboxCORS(t.Context(), "http://192.168.7.7:8765")
	if err != nil || !st.Allowed {
		t.Fatalf("after --setup-cors: %+v, %v", st, err)
	}
	if st, err := up.InboxCORS(t.Context(), "http://192.168.7.8:8765"); err != nil || st.Allowed {
		t.Fatalf("another origin: %+v, %v; want not allowed", st, err)
	}
	if code, _, stderr := upshot(t, "inbox", "--config", e.config, "stray"); code != exitUsage || !strings.Contains(stderr, fmt.Sprintf("%q", "stray")) {
		t.Fatalf("a stray argument: exit %d, %s", code, stderr)
	}
}
