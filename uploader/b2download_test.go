package uploader

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeB2Native serves b2_authorize_account (for two keys: the configured
// one, and a read key), b2_list_buckets and b2_get_download_authorization
// in B2's documented v4 shapes, checking the session token.
type fakeB2Native struct {
	srv        *httptest.Server
	mu         sync.Mutex
	grants     []map[string]any // the bodies of b2_get_download_authorization
	keys       map[string]string
	allowed    map[string]string // key ID → the "allowed" JSON
	bucketID   string
	bucketName string
}

func newFakeB2Native(t *testing.T, bucket string) *fakeB2Native {
	t.Helper()
	f := &fakeB2Native{keys: map[string]string{}, allowed: map[string]string{}, bucketID: "bkt4b1d", bucketName: bucket}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail := func(status int, code string) {
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"status":%d,"code":%q,"message":"no"}`, status, code)
		}
		switch r.URL.Path {
		case "/b2api/v4/b2_authorize_account":
			id, secret, ok := r.BasicAuth()
			f.mu.Lock()
			want, known := f.keys[id]
			allowed := f.allowed[id]
			f.mu.Unlock()
			if !ok || !known || secret != want {
				fail(401, "bad_auth_token")
				return
			}
			fmt.Fprintf(w, `{"accountId":"acc123","authorizationToken":"session-%s","apiInfo":{"storageApi":{"allowed":%s,`+
				`"apiUrl":%q,"downloadUrl":"https://f004.backblazeb2.com","s3ApiUrl":"https://s3.us-west-004.backblazeb2.com"}}}`, id, allowed, f.srv.URL)
		case "/b2api/v4/b2_list_buckets", "/b2api/v4/b2_get_download_authorization":
			if !strings.HasPrefix(r.Header.Get("Authorization"), "session-") {
				fail(401, "bad_auth_token")
				return
			}
			var body map[string]any
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				fail(400, "bad_request")
				return
			}
			if strings.HasSuffix(r.URL.Path, "b2_list_buckets") {
				fmt.Fprintf(w, `{"buckets":[{"bucketId":%q,"bucketName":%q}]}`, f.bucketID, f.bucketName)
				return
			}
			if body["bucketId"] != f.bucketID {
				fail(400, "bad_bucket_id")
				return
			}
			f.mu.Lock()
			f.grants = append(f.grants, body)
			f.mu.Unlock()
			fmt.Fprintf(w, `{"authorizationToken":"3_download_token","bucketId":%q,"fileNamePrefix":%q}`, f.bucketID, body["fileNamePrefix"])
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// key makes keyID/secret known with the given "allowed" JSON.
func (f *fakeB2Native) key(keyID, secret, allowed string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[keyID], f.allowed[keyID] = secret, allowed
}

func TestDownloadAuthorization(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := newFakeB2Native(t, e.srv.Bucket)
	f.key(e.srv.AccessKey, e.srv.SecretKey, `{"buckets":null,"capabilities":["readFiles","writeFiles","shareFiles"],"namePrefix":null}`)
	e.cfg.Target.B2APIURL = f.srv.URL
	up := e.newUploader(t, testPolicy(), nil)
	auth, err := up.DownloadAuthorization(t.Context(), "2026/", 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if auth.Token.Reveal() != "3_download_token" || auth.Prefix != "2026/" || auth.Expires.IsZero() {
		t.Fatalf("authorization %+v", auth)
	}
	if fmt.Sprint(auth) == "" || strings.Contains(fmt.Sprintf("%v %+v %#v", auth, auth, auth), "3_download_token") {
		t.Fatal("the token shows when printed")
	}
	// An unrestricted key finds its bucket's ID through b2_list_buckets.
	if len(f.grants) != 1 || f.grants[0]["validDurationInSeconds"] != float64(604800) || f.grants[0]["bucketId"] != f.bucketID {
		t.Fatalf("grants asked %+v", f.grants)
	}
	if _, err := up.DownloadAuthorization(t.Context(), "", 8*24*time.Hour); err == nil {
		t.Fatal("8 days were granted")
	}
	f.key(e.srv.AccessKey, e.srv.SecretKey, `{"buckets":[{"id":"bkt4b1d","name":"`+e.srv.Bucket+`"}],"capabilities":["readFiles","writeFiles"],"namePrefix":null}`)
	if _, err := up.DownloadAuthorization(t.Context(), "", time.Hour); err == nil || !strings.Contains(err.Error(), "shareFiles") {
		t.Fatalf("a key without shareFiles: %v", err)
	}
}

func TestReadKeyProblems(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := newFakeB2Native(t, e.srv.Bucket)
	e.cfg.Target.B2APIURL = f.srv.URL
	up := e.newUploader(t, testPolicy(), nil)
	bucket := `[{"id":"bkt4b1d","name":"` + e.srv.Bucket + `"}]`
	for _, c := range []struct {
		name, allowed string
		want          []string // one substring per problem; none: a good key
	}{
		{"read only", `{"buckets":` + bucket + `,"capabilities":["readFiles","listBuckets"],"namePrefix":null}`, nil},
		{"writes too", `{"buckets":` + bucket + `,"capabilities":["readFiles","writeFiles","deleteFiles"],"namePrefix":null}`, []string{"can also writeFiles, deleteFiles"}},
		{"every bucket", `{"buckets":null,"capabilities":["readFiles"],"namePrefix":null}`, []string{"reaches every bucket"}},
		{"cannot read", `{"buckets":` + bucket + `,"capabilities":["listBuckets"],"namePrefix":null}`, []string{"lacks readFiles"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f.key("K-read", "read-secret-value", c.allowed)
			_, problems, err := up.ReadKeyProblems(t.Context(), "K-read", NewSecret("read-secret-value"))
			if err != nil {
				t.Fatal(err)
			}
			if len(problems) != len(c.want) {
				t.Fatalf("problems %q, want %d", problems, len(c.want))
			}
			for i, w := range c.want {
				if !strings.Contains(problems[i], w) {
					t.Errorf("problem %q lacks %q", problems[i], w)
				}
			}
		})
	}
	_, _, err := up.ReadKeyProblems(t.Context(), "K-read", NewSecret("wrong"))
	if err == nil || !strings.Contains(err.Error(), "the Worker's read key was refused") || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("a wrong read key: %v", err)
	}
}
