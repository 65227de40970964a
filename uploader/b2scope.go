package uploader

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// DefaultB2APIURL is where b2_authorize_account lives.
const DefaultB2APIURL = "https://api.backblazeb2.com"

// KeyScope is what B2 says an application key may do, from the native
// b2_authorize_account call (v4).
type KeyScope struct {
	AccountID    string
	Buckets      []B2Bucket // empty: every bucket in the account
	Capabilities []string
	NamePrefix   string // "" when not restricted
	DownloadURL  string // e.g. https://f004.backblazeb2.com
	S3APIURL     string
}

// B2Bucket is one bucket a key may use.
type B2Bucket struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Can reports whether the key has a capability such as "writeFiles".
func (k KeyScope) Can(capability string) bool { return slices.Contains(k.Capabilities, capability) }

// authorizeResponse is the part of b2_authorize_account's v4 answer Upshot
// reads.
type authorizeResponse struct {
	AccountID          string `json:"accountId"`
	AuthorizationToken string `json:"authorizationToken"`
	APIInfo            struct {
		StorageAPI *struct {
			Allowed *struct {
				Buckets      []B2Bucket `json:"buckets"`
				Capabilities []string   `json:"capabilities"`
				NamePrefix   *string    `json:"namePrefix"`
			} `json:"allowed"`
			APIURL      string `json:"apiUrl"`
			DownloadURL string `json:"downloadUrl"`
			S3APIURL    string `json:"s3ApiUrl"`
		} `json:"storageApi"`
	} `json:"apiInfo"`
}

// b2Error is B2's native error body.
type b2Error struct {
	Status  int    `json:"status"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// usesB2API reports whether the key-scope check applies: the endpoint is
// B2, or the config names a B2 API URL (tests point it at a local server).
func (t Target) usesB2API() bool { return t.IsB2() || t.B2APIURL != "" }

func (t Target) b2APIURL() string {
	if t.B2APIURL != "" {
		return strings.TrimRight(t.B2APIURL, "/")
	}
	return DefaultB2APIURL
}

// KeyScope asks B2 what the configured key may do. It sends the key ID and
// key only to the B2 API URL, over https unless that is a loopback address.
func (u *Uploader) KeyScope(ctx context.Context) (KeyScope, error) {
	t := u.target
	sess, err := u.authorizeB2(ctx, "the key", t.KeyID, t.Key,
		fmt.Sprintf("check target.key_id and the key, or %s and %s", EnvKeyID, EnvKey))
	if err != nil {
		return KeyScope{}, err
	}
	if sess.scope.DownloadURL != "" {
		_ = u.caps.update(t, func(c *endpointCaps) { c.DownloadURL = sess.scope.DownloadURL })
	}
	return sess.scope, nil
}

// b2Session is an authorized session of B2's native API.
type b2Session struct {
	scope  KeyScope
	apiURL string // where the account's other calls go
	token  Secret // the session's authorization token
}

// authorizeB2 calls b2_authorize_account (v4) with a key, named whose in
// messages; refused is the advice when B2 refuses it.
func (u *Uploader) authorizeB2(ctx context.Context, whose, keyID string, key Secret, refused string) (b2Session, error) {
	t := u.target
	url := t.b2APIURL() + "/b2api/v4/b2_authorize_account"
	explain := func(what, advice string, err error) error {
		return &Error{What: "b2_authorize_account: " + what, Advice: advice, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return b2Session{}, explain("bad B2 API URL "+url, "check target.b2_api_url", err)
	}
	req.SetBasicAuth(keyID, key.Reveal())
	resp, err := u.http.Do(req)
	if err != nil {
		return b2Session{}, &Error{Kind: ErrUnreachable, Err: err, What: fmt.Sprintf("b2_authorize_account: cannot reach %s (%v)", t.b2APIURL(), rootCause(err)),
			Advice: "check your network connection"}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return b2Session{}, explain("reading the answer failed: "+rootCause(err), "try again", err)
	}
	if resp.StatusCode != http.StatusOK {
		detail := b2Detail(resp.StatusCode, body)
		if resp.StatusCode == http.StatusUnauthorized {
			return b2Session{}, &Error{Kind: ErrCredentials, What: "b2_authorize_account: " + whose + " was refused (" + detail + ")", Advice: refused}
		}
		return b2Session{}, explain("B2 answered "+detail, "try again later", nil)
	}
	var ar authorizeResponse
	if err := json.Unmarshal(body, &ar); err != nil {
		return b2Session{}, explain("the answer is not the JSON B2 documents ("+rootCause(err)+")", "check target.b2_api_url points at B2's API", err)
	}
	sa := ar.APIInfo.StorageAPI
	if sa == nil || sa.Allowed == nil {
		return b2Session{}, explain("the answer has no apiInfo.storageApi.allowed", "check target.b2_api_url points at B2's API (v4)", nil)
	}
	ks := KeyScope{AccountID: ar.AccountID, Buckets: sa.Allowed.Buckets, Capabilities: sa.Allowed.Capabilities,
		DownloadURL: strings.TrimRight(sa.DownloadURL, "/"), S3APIURL: sa.S3APIURL}
	if sa.Allowed.NamePrefix != nil {
		ks.NamePrefix = *sa.Allowed.NamePrefix
	}
	return b2Session{scope: ks, apiURL: strings.TrimRight(sa.APIURL, "/"), token: NewSecret(ar.AuthorizationToken)}, nil
}

// b2Detail is "HTTP 401 bad_auth_token" from a native error answer.
func b2Detail(status int, body []byte) string {
	var be b2Error
	_ = json.Unmarshal(body, &be)
	detail := fmt.Sprintf("HTTP %d", status)
	if be.Code != "" {
		detail += " " + be.Code
	}
	return detail
}

// checkScope turns a key scope into check findings.
// missingCaps lists the capabilities in want that the key lacks.
func missingCaps(ks KeyScope, want ...string) []string {
	var missing []string
	for _, c := range want {
		if !ks.Can(c) {
			missing = append(missing, c)
		}
	}
	return missing
}

func (u *Uploader) checkScope(r *Report, ks KeyScope) {
	t := u.target
	var names []string
	for _, b := range ks.Buckets {
		names = append(names, b.Name)
	}
	prefix := ks.NamePrefix
	if prefix == "" {
		prefix = "(none)"
	}
	allowed := "all buckets"
	if len(names) > 0 {
		allowed = strings.Join(names, ", ")
	}
	r.add(LevelOK, "key scope", "buckets: %s; capabilities: %s; name prefix: %s", allowed, strings.Join(ks.Capabilities, ", "), prefix)
	switch {
	case len(names) == 0:
		r.add(LevelWarn, "key scope", "the key can reach every bucket in the account: create one restricted to %q (and, ideally, a name prefix) so a leaked key exposes only that bucket", t.Bucket)
	case !slices.Contains(names, t.Bucket):
		r.add(LevelFail, "key scope", "the key is restricted to %s, not to target.bucket %q: use a key for %q or fix target.bucket", allowed, t.Bucket, t.Bucket)
	}
	if !ks.Can("writeFiles") {
		r.add(LevelFail, "key scope", "the key lacks writeFiles, so it cannot upload: create a key with read and write access")
	}
	// B2 has no conditional writes: a race for a name is found by listing
	// its versions and undone by deleting one.
	if missing := missingCaps(ks, "listFiles", "deleteFiles"); len(missing) > 0 && ks.Can("writeFiles") && !u.tmpl.Unique() {
		r.add(LevelWarn, "key scope", "the key lacks %s: B2 has no conditional writes, so Upshot finds a race between two computers for the same name by listing its versions and undoes it by deleting one; without that, add {sha1:8} to target.path_template, or create a key with read and write access",
			strings.Join(missing, " and "))
	}
	if ks.NamePrefix != "" {
		static := u.tmpl.StaticPrefix()
		if !strings.HasPrefix(static, ks.NamePrefix) {
			example, _ := u.tmpl.Render(KeyInput{FileName: "Screenshot 2026-11-22 at 10.15.00.png", Time: u.now()})
			r.add(LevelFail, "key scope", "path_template %q can make keys outside the key's name prefix %q, for example %q: start path_template with %q",
				u.tmpl.String(), ks.NamePrefix, example, ks.NamePrefix)
		}
	}
	if ks.DownloadURL != "" && t.URLTemplate == "" && t.DownloadURL == "" {
		r.add(LevelOK, "links", "B2 download URL %s: links use its /file/%s/ form", ks.DownloadURL, t.Bucket)
	}
}
