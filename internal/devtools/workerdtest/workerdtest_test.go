package workerdtest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"upshot/internal/devtools/workerdtest"
)

// echo answers with a binding, fetches ?from= when given, and keeps its
// answers in caches.default under the path.
const echo = `
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const key = new Request(url.origin + url.pathname);
    const hit = await caches.default.match(key);
    if (hit) return new Response(hit.body, { headers: { "x-from": "cache", "x-stored": hit.headers.get("x-stored") || "" } });
    let body = env.GREETING + "|" + env.SECRET;
    const from = url.searchParams.get("from");
    if (from) body += "|" + (await (await fetch(from)).text());
    const answer = new Response(body, { headers: { "x-stored": "yes", "cache-control": env.CC } });
    ctx.waitUntil(caches.default.put(key, answer.clone()));
    return answer;
  },
};
`

func get(t *testing.T, url string) (string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %q %v", url, resp.StatusCode, b, err)
	}
	return string(b), resp.Header
}

func TestStartBindingsOutboundAndCache(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "from loopback")
	}))
	defer backend.Close()

	greeting := `he said "hi" \ ünïcode` + "\n"
	w := workerdtest.StartWorker(t, workerdtest.Config{
		Module: []byte(echo),
		Text:   map[string]string{"GREETING": greeting, "SECRET": "s3cr3t", "CC": "public, max-age=60"},
	})
	body, _ := get(t, w.URL+"/a?from="+backend.URL)
	if want := greeting + "|s3cr3t|from loopback"; body != want {
		t.Fatalf("first answer %q, want %q", body, want)
	}
	ctx := t.Context()
	if err := w.Cache.WaitFor(ctx, w.URL+"/a"); err != nil {
		t.Fatal(err)
	}
	body, h := get(t, w.URL+"/a")
	if want := greeting + "|s3cr3t|from loopback"; body != want || h.Get("X-From") != "cache" || h.Get("X-Stored") != "yes" {
		t.Fatalf("second answer %q %v, want the cached %q", body, h, want)
	}
	if w.Cache.Hits() != 1 {
		t.Fatalf("cache hits %d, want 1", w.Cache.Hits())
	}

	// Start is the short form; a no-store answer is not kept.
	url := workerdtest.Start(t, []byte(echo), map[string]string{"GREETING": "plain", "CC": "no-store"}, map[string]string{"SECRET": "other"})
	if body, h := get(t, url+"/b"); body != "plain|other" || h.Get("X-From") != "" {
		t.Fatalf("Start answer %q %v", body, h)
	}
	if body, h := get(t, url+"/b"); body != "plain|other" || h.Get("X-From") != "" {
		t.Fatalf("a no-store answer came from the cache: %q %v", body, h)
	}
}

func TestCacheOff(t *testing.T) {
	w := workerdtest.StartWorker(t, workerdtest.Config{
		Module:   []byte(echo),
		Text:     map[string]string{"GREETING": "g", "SECRET": "s", "CC": "public, max-age=60"},
		CacheOff: true,
	})
	for range 3 {
		if body, h := get(t, w.URL+"/c"); body != "g|s" || h.Get("X-From") != "" {
			t.Fatalf("answer %q %v, want one made afresh", body, h)
		}
	}
	if keys := w.Cache.Keys(); len(keys) != 0 || w.Cache.Hits() != 0 {
		t.Fatalf("a cache that is off kept %v", keys)
	}
}

func TestBrokenModuleFailsWithWorkerdsWords(t *testing.T) {
	if _, err := workerdtest.Binary(); err != nil {
		if os.Getenv(workerdtest.RequireEnv) == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	w, err := workerdtest.StartProcess(t.Context(), workerdtest.Config{Module: []byte("export default {")})
	if err == nil {
		w.Close()
		t.Fatal("a module with a syntax error started")
	}
	if !strings.Contains(err.Error(), "workerd") || !strings.Contains(strings.ToLower(err.Error()), "syntax") {
		t.Fatalf("error %q does not carry workerd's report", err)
	}
}
