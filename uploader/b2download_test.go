package uploader

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"upshot/internal/devtools/b2apitest"
)

func TestDownloadAuthorization(t *testing.T) {
	e := newEnv(t, envOptions{})
	api := b2apitest.Start(t, e.srv)
	// Unrestricted: the bucket's ID comes from b2_list_buckets.
	api.Key(e.srv.AccessKey, e.srv.SecretKey, `{"buckets":null,"capabilities":["readFiles","writeFiles","shareFiles"],"namePrefix":null}`)
	e.cfg.Target.B2APIURL = api.URL
	up := e.newUploader(t, testPolicy(), nil)
	auth, err := up.DownloadAuthorization(t.Context(), "2026/", 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if auth.Token.Reveal() == "" || auth.Prefix != "2026/" || auth.Expires.IsZero() || auth.DownloadURL != api.URL {
		t.Fatalf("authorization %+v", auth)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", auth, auth, auth), auth.Token.Reveal()) {
		t.Fatal("the token shows when printed")
	}
	if g := api.Grants(); len(g) != 1 || g[0] != (b2apitest.Grant{BucketID: b2apitest.BucketID, Prefix: "2026/", Seconds: 604800}) {
		t.Fatalf("grants asked %+v", g)
	}
	if _, err := up.DownloadAuthorization(t.Context(), "", 8*24*time.Hour); err == nil {
		t.Fatal("8 days were granted")
	}
	api.Key(e.srv.AccessKey, e.srv.SecretKey, api.Allowed("readFiles", "writeFiles"))
	if _, err := up.DownloadAuthorization(t.Context(), "", time.Hour); err == nil || !strings.Contains(err.Error(), "shareFiles") {
		t.Fatalf("a key without shareFiles: %v", err)
	}
}

func TestReadKeyProblems(t *testing.T) {
	e := newEnv(t, envOptions{})
	api := b2apitest.Start(t, e.srv)
	e.cfg.Target.B2APIURL = api.URL
	up := e.newUploader(t, testPolicy(), nil)
	for _, c := range []struct {
		name, allowed string
		want          []string // one substring per problem; none: a good key
	}{
		{"read only", api.Allowed("readFiles", "listBuckets"), nil},
		{"writes too", api.Allowed("readFiles", "writeFiles", "deleteFiles"), []string{"can also writeFiles, deleteFiles"}},
		{"every bucket", `{"buckets":null,"capabilities":["readFiles"],"namePrefix":null}`, []string{"reaches every bucket"}},
		{"cannot read", api.Allowed("listBuckets"), []string{"lacks readFiles"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			api.Key("K-read", "read-secret-value", c.allowed)
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
