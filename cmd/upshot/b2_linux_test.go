package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"upshot/uploader/s3test"
)

// b2Env is a versioned server behind the B2-like proxy over TLS, and a
// config pointing at the proxy; the CLI trusts the proxy's CA through
// AWS_CA_BUNDLE, as a user behind a TLS-inspecting proxy would.
type b2Env struct {
	srv    *s3test.Server
	proxy  *s3test.Proxy
	config string
	env    []string // credentials and CA for a child process; add UPSHOT_DATA_DIR
}

func newB2Env(t *testing.T) *b2Env {
	t.Helper()
	srv := s3test.Start(t, s3test.Options{TLS: true, Versioning: true})
	p := s3test.NewProxy(t, srv, s3test.ProxyOptions{TLS: true, B2: true})
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, p.CAPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config.toml")
	body := fmt.Sprintf("[target]\nendpoint = %q\nbucket = %q\npath_template = \"shots/{name}{ext}\"\npath_style = true\n", p.URL, srv.Bucket)
	if err := os.WriteFile(config, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return &b2Env{srv: srv, proxy: p, config: config,
		env: []string{"AWS_CA_BUNDLE=" + ca, "B2_APPLICATION_KEY_ID=" + srv.AccessKey, "B2_APPLICATION_KEY=" + srv.SecretKey}}
}

// sha1Of returns the hex SHA1 of the object at key, straight from the server.
func (e *b2Env) sha1Of(t *testing.T, key string) string { return objectSHA1(t, e.srv, key) }

func TestCheckB2Like(t *testing.T) {
	e := newB2Env(t)
	data := []string{"UPSHOT_DATA_DIR=" + t.TempDir()}
	code, out, errs, _ := runBin(t, nil, append(e.env, data...), "check", "--config", e.config)
	if code != 0 {
		t.Fatalf("check exit %d\n%s%s", code, out, errs)
	}
	t.Logf("upshot check against the B2-like endpoint:\n%s", out)
	if !strings.Contains(out, "no conditional writes: Upshot looks before it writes") || strings.Contains(out+errs, "try again later") {
		t.Fatalf("check output:\n%s%s", out, errs)
	}
	// What check learned holds for the uploads after it, in a new process:
	// no conditional or checksum header is ever sent again.
	e.proxy.Reset()
	code, out, errs, _ = runBin(t, nil, append(e.env, data...), "upload", "--config", e.config, "--json", "--no-clipboard", tempFile(t, "a.bin", 4096))
	if code != 0 || !strings.Contains(out, `"key":"shots/a.bin"`) {
		t.Fatalf("upload exit %d: %s%s", code, out, errs)
	}
	for _, r := range e.proxy.Requests() {
		if r.Fault != "" {
			t.Fatalf("%s %s was refused (%s) after check had learned the endpoint", r.Method, r.Path, r.Fault)
		}
	}
}

// TestB2LikeRaceTwoProcesses: two computers (two processes, each with its
// own queue and state) upload different files under the same name at the
// same moment, 50 times, to an endpoint with versions and no conditional
// writes. The proxy holds both PUTs until both have arrived, so each
// round is a real race: both looked, both found the name free. Each round
// must end with both files reachable under distinct keys, each key holding
// its own bytes, and no history entry pointing at someone else's content.
func TestB2LikeRaceTwoProcesses(t *testing.T) {
	e := newB2Env(t)
	dataDirs := []string{t.TempDir(), t.TempDir()}
	const rounds = 50
	owner := map[string]string{} // key → SHA1 of the file its uploader reported
	for round := range rounds {
		name := fmt.Sprintf("race-%02d.bin", round)
		e.proxy.Inject(s3test.Fault{Kind: s3test.Gather, Times: 2, Match: func(r *http.Request) bool {
			return s3test.MatchPut(r) && strings.HasSuffix(r.URL.Path, "/"+name)
		}})
		type outcome struct {
			code      int
			out, errs string
			sha1      string
		}
		results := make([]outcome, 2)
		var wg sync.WaitGroup
		for i := range 2 {
			path := tempFile(t, name, 32<<10)
			results[i].sha1 = fileSHA1(t, path)
			env := append(append([]string{}, e.env...), "UPSHOT_DATA_DIR="+dataDirs[i])
			wg.Go(func() {
				results[i].code, results[i].out, results[i].errs, _ = runBin(t, nil, env, "upload", "--config", e.config, "--json", "--no-clipboard", path)
			})
		}
		wg.Wait()
		var keys []string
		for i, r := range results {
			if r.code != 0 {
				t.Fatalf("round %d, writer %d: exit %d: %s", round, i, r.code, r.errs)
			}
			var line struct{ Key, SHA1 string }
			if err := json.Unmarshal([]byte(r.out), &line); err != nil || line.SHA1 != r.sha1 {
				t.Fatalf("round %d, writer %d: output %q (%v), want its file's SHA1 %s", round, i, r.out, err, r.sha1)
			}
			keys = append(keys, line.Key)
			owner[line.Key] = line.SHA1
		}
		if keys[0] == keys[1] {
			t.Fatalf("round %d: both writers were given %s", round, keys[0])
		}
		for _, k := range keys {
			if got := e.sha1Of(t, k); got != owner[k] {
				t.Fatalf("round %d: %s holds %s, not the bytes of the file uploaded there (%s)", round, k, got, owner[k])
			}
		}
	}
	// Every history entry on both computers points at its own content.
	entries := 0
	for _, dir := range dataDirs {
		code, out, errs, _ := runBin(t, nil, append(e.env, "UPSHOT_DATA_DIR="+dir), "history", "--json", "--limit", "0")
		if code != 0 {
			t.Fatalf("history: %s", errs)
		}
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			var h historyLine
			if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
				t.Fatal(err)
			}
			if got := e.sha1Of(t, h.Key); got != h.SHA1 {
				t.Fatalf("history entry for %s says %s holds %s; it holds %s", h.File, h.Key, h.SHA1, got)
			}
			entries++
		}
	}
	if entries != 2*rounds {
		t.Fatalf("%d history entries on the two computers, want %d", entries, 2*rounds)
	}
}
