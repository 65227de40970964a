package uploader

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const phone = "http://192.168.1.10:8765"

// allHeaders lists the inbox's headers as a rule may write them.
var allHeaders = []string{"Content-MD5", "Content-Type", "X-Amz-Meta-Sha1", "If-None-Match", "X-Amz-Checksum-Sha1", "Cache-Control"}

func TestCORSEvaluate(t *testing.T) {
	rule := func(id string, origins, methods, headers []string) types.CORSRule {
		r := types.CORSRule{AllowedOrigins: origins, AllowedMethods: methods, AllowedHeaders: headers}
		if id != "" {
			r.ID = aws.String(id)
		}
		return r
	}
	put := []string{"GET", "PUT"}
	cases := []struct {
		name   string
		rules  []types.CORSRule
		origin string
		rule   string // the allowing rule's ID, when allowed
		reason string // a part of the reason, when not
	}{
		{"no rules", nil, phone, "", "the bucket has no CORS rules"},
		{"other origin", []types.CORSRule{rule("web", []string{"https://blog.example.com"}, put, []string{"*"})}, phone, "",
			"the bucket has CORS rules, but none for this origin"},
		{"exact", []types.CORSRule{rule("inbox", []string{phone}, put, allHeaders)}, phone, "inbox", ""},
		{"any origin", []types.CORSRule{rule("all", []string{"*"}, []string{"PUT"}, []string{"*"})}, phone, "all", ""},
		{"origin with a wildcard", []types.CORSRule{rule("lan", []string{"http://192.168.1.*:8765"}, put, []string{"*"})}, phone, "lan", ""},
		{"wildcard for another port", []types.CORSRule{rule("lan", []string{"http://192.168.1.*:9000"}, put, []string{"*"})}, phone, "", "none for this origin"},
		{"origins are case-sensitive", []types.CORSRule{rule("up", []string{"HTTP://192.168.1.10:8765"}, put, []string{"*"})}, phone, "", "none for this origin"},
		{"header wildcard", []types.CORSRule{rule("amz", []string{phone}, put,
			[]string{"content-md5", "content-type", "cache-control", "if-none-match", "x-amz-*"})}, phone, "amz", ""},
		{"no PUT", []types.CORSRule{rule("read", []string{phone}, []string{"GET", "HEAD"}, []string{"*"})}, phone, "",
			`rule "read", which allows this origin, does not allow PUT`},
		{"PUT in lower case is not PUT", []types.CORSRule{rule("lc", []string{phone}, []string{"put"}, []string{"*"})}, phone, "", "does not allow PUT"},
		{"headers missing", []types.CORSRule{rule("old", []string{phone}, put, []string{"content-md5", "content-type", "x-amz-meta-sha1"})}, phone, "",
			`rule "old", which allows this origin, does not allow the headers if-none-match, x-amz-checksum-sha1, cache-control`},
		{"one header missing, no ID", []types.CORSRule{rule("", []string{phone}, put, allHeaders[:5])}, phone, "",
			"the rule for this origin does not allow the header cache-control"},
		{"neither", []types.CORSRule{rule("bare", []string{phone}, []string{"GET"}, nil)}, phone, "",
			"does not allow PUT or the headers content-md5, content-type"},
		{"the closest rule explains", []types.CORSRule{
			rule("far", []string{"*"}, []string{"GET"}, nil),
			rule("near", []string{phone}, put, allHeaders[:5]),
		}, phone, "", `rule "near", which allows this origin, does not allow the header cache-control`},
		{"a later rule allows", []types.CORSRule{
			rule("first", []string{phone}, []string{"GET"}, []string{"*"}),
			rule("second", []string{"http://192.168.*"}, put, allHeaders),
		}, phone, "second", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := evaluateCORS(c.rules, c.origin)
			if st.Origin != c.origin {
				t.Errorf("origin %q", st.Origin)
			}
			if st.Allowed != (c.rule != "") || st.RuleID != c.rule {
				t.Fatalf("allowed %v by %q (%s), want rule %q", st.Allowed, st.RuleID, st.Reason, c.rule)
			}
			if !st.Allowed && !strings.Contains(st.Reason, c.reason) {
				t.Fatalf("reason %q, want it to contain %q", st.Reason, c.reason)
			}
			if st.Allowed && st.Reason != "" {
				t.Fatalf("allowed, with a reason %q", st.Reason)
			}
		})
	}
}

func TestCORSWildcardMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "http://a", true},
		{"http://a", "http://a", true},
		{"http://a", "http://ab", false},
		{"http://*.example.com", "http://img.example.com", true},
		{"http://*.example.com", "http://example.com", false},
		{"http://*:8765", "http://10.0.0.1:8765", true},
		{"http://*:8765", "http://10.0.0.1:87650", false},
		{"x-amz-*", "x-amz-meta-sha1", true},
		{"x-amz-*", "content-md5", false},
		{"a*b*c", "aXbYc", true},
		{"a*b*c", "aXcYb", false},
	} {
		if got := wildcardMatch(c.pattern, c.s); got != c.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", c.pattern, c.s, got)
		}
	}
}

// s3CLIRule is the rule as `aws s3api put-bucket-cors` reads it.
type s3CLIRule struct {
	ID                             string
	AllowedOrigins, AllowedMethods []string
	AllowedHeaders, ExposeHeaders  []string
	MaxAgeSeconds                  int32
}

func (r s3CLIRule) sdk() types.CORSRule {
	return types.CORSRule{ID: aws.String(r.ID), AllowedOrigins: r.AllowedOrigins, AllowedMethods: r.AllowedMethods,
		AllowedHeaders: r.AllowedHeaders, ExposeHeaders: r.ExposeHeaders, MaxAgeSeconds: aws.Int32(r.MaxAgeSeconds)}
}

func decodeS3Rule(t *testing.T, s3JSON string) s3CLIRule {
	t.Helper()
	var cfg struct{ CORSRules []s3CLIRule }
	dec := json.NewDecoder(strings.NewReader(s3JSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil || len(cfg.CORSRules) != 1 {
		t.Fatalf("S3 JSON %s: %v", s3JSON, err)
	}
	return cfg.CORSRules[0]
}

func TestInboxCORSRuleJSON(t *testing.T) {
	origins := []string{phone, "http://[fd00::2]:8765"}
	s3JSON, b2JSON := InboxCORSRule(origins)
	t.Logf("S3: %s\nB2: %s", s3JSON, b2JSON)
	if strings.ContainsAny(s3JSON+b2JSON, "\n'") {
		t.Fatal("the JSON must fit in one single-quoted shell argument")
	}
	r := decodeS3Rule(t, s3JSON)
	if r.ID != InboxCORSRuleID || !slices.Equal(r.AllowedOrigins, origins) || !slices.Equal(r.AllowedMethods, []string{"PUT", "HEAD"}) ||
		!slices.Equal(r.ExposeHeaders, []string{"ETag"}) || r.MaxAgeSeconds != 3600 {
		t.Fatalf("S3 rule %+v", r)
	}
	if st := evaluateCORS([]types.CORSRule{r.sdk()}, phone); !st.Allowed {
		t.Fatalf("the printed S3 rule does not allow the inbox: %s", st.Reason)
	}
	var b2 []struct {
		CORSRuleName      string   `json:"corsRuleName"`
		AllowedOrigins    []string `json:"allowedOrigins"`
		AllowedOperations []string `json:"allowedOperations"`
		AllowedHeaders    []string `json:"allowedHeaders"`
		ExposeHeaders     []string `json:"exposeHeaders"`
		MaxAgeSeconds     int      `json:"maxAgeSeconds"`
	}
	dec := json.NewDecoder(strings.NewReader(b2JSON))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b2); err != nil || len(b2) != 1 {
		t.Fatalf("B2 JSON: %v", err)
	}
	b := b2[0]
	if b.CORSRuleName != InboxCORSRuleID || !slices.Equal(b.AllowedOrigins, origins) || !slices.Equal(b.AllowedOperations, []string{"s3_put", "s3_head"}) ||
		!slices.Equal(b.AllowedHeaders, r.AllowedHeaders) || !slices.Equal(b.ExposeHeaders, []string{"ETag"}) || b.MaxAgeSeconds != 3600 {
		t.Fatalf("B2 rule %+v", b)
	}
	// B2 names a rule with 6 to 50 letters, digits and hyphens.
	if n := len(b.CORSRuleName); n < 6 || n > 50 || strings.Trim(b.CORSRuleName, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		t.Fatalf("B2 rule name %q", b.CORSRuleName)
	}
}

func TestCORSOriginsChecked(t *testing.T) {
	e := &Uploader{} // refused before any request
	for _, origins := range [][]string{nil, {""}, {"192.168.1.10:8765"}, {"http://a/b"}, {"http://*.*.example.com"}, {"ftp://a"}, {"http://a'b"}} {
		err := e.SetInboxCORS(t.Context(), origins)
		var ue *Error
		if !errors.As(err, &ue) || !strings.Contains(ue.Advice, "http://192.168.1.10:8765") {
			t.Errorf("SetInboxCORS(%q) = %v, want an *Error with an example", origins, err)
		}
	}
}

// rules reads the bucket's CORS rules with the server's own credentials.
func (e *testEnv) rules(t *testing.T) []types.CORSRule {
	t.Helper()
	out, err := e.srv.Client().GetBucketCors(t.Context(), &s3.GetBucketCorsInput{Bucket: &e.srv.Bucket})
	if code, _, _ := apiDetails(err); code == "NoSuchCORSConfiguration" {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.CORSRules
}

func (e *testEnv) putRules(t *testing.T, rules ...types.CORSRule) {
	t.Helper()
	_, err := e.srv.Client().PutBucketCors(t.Context(), &s3.PutBucketCorsInput{Bucket: &e.srv.Bucket,
		CORSConfiguration: &types.CORSConfiguration{CORSRules: rules}})
	if err != nil {
		t.Fatal(err)
	}
}

var blogRule = types.CORSRule{ID: aws.String("blog"), AllowedOrigins: []string{"https://blog.example.com"},
	AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"range"}, MaxAgeSeconds: aws.Int32(600)}

func sameRule(a, b types.CORSRule) bool {
	return aws.ToString(a.ID) == aws.ToString(b.ID) && slices.Equal(a.AllowedOrigins, b.AllowedOrigins) &&
		slices.Equal(a.AllowedMethods, b.AllowedMethods) && slices.Equal(a.AllowedHeaders, b.AllowedHeaders) &&
		slices.Equal(a.ExposeHeaders, b.ExposeHeaders) && aws.ToInt32(a.MaxAgeSeconds) == aws.ToInt32(b.MaxAgeSeconds)
}

func TestCORSSetMergesAndReadsBack(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := t.Context()
	st, err := e.up.InboxCORS(ctx, phone)
	if err != nil {
		t.Fatalf("a bucket without CORS rules: %v", err)
	}
	if st.Allowed || st.Reason != "the bucket has no CORS rules" {
		t.Fatalf("no rules: %+v", st)
	}

	e.putRules(t, blogRule)
	if st, err = e.up.InboxCORS(ctx, phone); err != nil || st.Allowed || !strings.Contains(st.Reason, "none for this origin") {
		t.Fatalf("only a foreign rule: %+v, %v", st, err)
	}

	laptop := "http://10.0.0.5:8765"
	if err := e.up.SetInboxCORS(ctx, []string{phone, laptop}); err != nil {
		t.Fatal(err)
	}
	rules := e.rules(t)
	if len(rules) != 2 || !sameRule(rules[0], blogRule) || !sameRule(rules[1], inboxRule([]string{phone, laptop})) {
		t.Fatalf("rules after SetInboxCORS: %+v", rules)
	}
	for _, o := range []string{phone, laptop} {
		if st, err := e.up.InboxCORS(ctx, o); err != nil || !st.Allowed || st.RuleID != InboxCORSRuleID {
			t.Fatalf("InboxCORS(%s) = %+v, %v", o, st, err)
		}
	}
	if st, err := e.up.InboxCORS(ctx, "http://192.168.1.11:8765"); err != nil || st.Allowed {
		t.Fatalf("another origin: %+v, %v", st, err)
	}

	// Setting it again replaces Upshot's rule in its place and keeps the other.
	moved := "http://192.168.1.20:8765"
	e.putRules(t, inboxRule([]string{phone}), blogRule)
	if err := e.up.SetInboxCORS(ctx, []string{moved}); err != nil {
		t.Fatal(err)
	}
	rules = e.rules(t)
	if len(rules) != 2 || !sameRule(rules[0], inboxRule([]string{moved})) || !sameRule(rules[1], blogRule) {
		t.Fatalf("rules after a second SetInboxCORS: %+v", rules)
	}
	if st, err := e.up.InboxCORS(ctx, phone); err != nil || st.Allowed {
		t.Fatalf("the old origin is still allowed: %+v, %v", st, err)
	}
}

// TestCORSPreflight asks the server as a browser would, before and after
// the rule is set, and then sends a grant's PUT with an Origin.
func TestCORSPreflight(t *testing.T) {
	e := newEnv(t, envOptions{edit: func(c *Config) { c.Target.CacheControl = "public, max-age=60" }})
	ctx := t.Context()
	body := []byte("\xff\xd8\xff\xe0 a photo from the phone")
	md := md5.Sum(body)
	g, err := e.up.Grant(ctx, GrantRequest{Name: "phone.jpg", Size: int64(len(body)), ContentType: "image/jpeg",
		SHA1: sha1Hex(body), MD5: hex.EncodeToString(md[:])}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range g.Header {
		names = append(names, strings.ToLower(name))
	}
	slices.Sort(names)
	for _, n := range names {
		if !slices.Contains(inboxHeaders, n) {
			t.Fatalf("the grant's PUT carries %s, which the inbox rule does not allow", n)
		}
	}
	preflight := func(origin string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodOptions, e.srv.Endpoint+"/"+e.srv.Bucket+"/"+g.Key, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "PUT")
		req.Header.Set("Access-Control-Request-Headers", strings.Join(names, ","))
		resp, err := e.srv.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := preflight(phone); resp.StatusCode == http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight without rules: %s, Access-Control-Allow-Origin %q", resp.Status, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if err := e.up.SetInboxCORS(ctx, []string{phone}); err != nil {
		t.Fatal(err)
	}
	resp := preflight(phone)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != phone {
		t.Fatalf("preflight with the rule: %s, Access-Control-Allow-Origin %q", resp.Status, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if m := resp.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(m, "PUT") {
		t.Fatalf("Access-Control-Allow-Methods %q", m)
	}
	if resp := preflight("http://192.168.1.66:8765"); resp.StatusCode == http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from another origin: %s, Access-Control-Allow-Origin %q", resp.Status, resp.Header.Get("Access-Control-Allow-Origin"))
	}

	// The PUT itself, as the page sends it.
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, g.URL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range g.Header {
		req.Header[name] = v
	}
	req.Header.Set("Origin", phone)
	put, err := e.srv.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	put.Body.Close()
	if put.StatusCode != http.StatusOK || put.Header.Get("Access-Control-Allow-Origin") != phone {
		t.Fatalf("PUT: %s, Access-Control-Allow-Origin %q", put.Status, put.Header.Get("Access-Control-Allow-Origin"))
	}
	if !strings.Contains(put.Header.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Fatalf("Access-Control-Expose-Headers %q", put.Header.Get("Access-Control-Expose-Headers"))
	}
	if _, err := e.up.ConfirmGrant(ctx, g); err != nil {
		t.Fatal(err)
	}
}

// TestCORSThroughB2Proxy writes the rules through a proxy that refuses
// checksum headers as B2 does, over http and https (where the SDK signs
// no payload hash).
func TestCORSThroughB2Proxy(t *testing.T) {
	for _, tls := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[tls], func(t *testing.T) { corsThroughB2Proxy(t, tls) })
	}
}

func corsThroughB2Proxy(t *testing.T, tls bool) {
	e := newEnv(t, envOptions{b2: true, tls: tls})
	ctx := t.Context()

	// The SDK on its own sends a CRC32 header, which B2 refuses.
	_, err := e.proxy.Client().PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: &e.srv.Bucket,
		CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{blogRule}}})
	if code, msg, _ := apiDetails(err); code != "InvalidArgument" || !strings.Contains(msg, "x-amz-checksum-") {
		t.Fatalf("the SDK's own PutBucketCors through the B2 proxy: %v, want it refused for a checksum header", err)
	}
	e.proxy.Reset()

	e.putRules(t, blogRule)
	if err := e.up.SetInboxCORS(ctx, []string{phone}); err != nil {
		t.Fatal(err)
	}
	var puts []string
	for _, r := range e.proxy.Requests() {
		if r.Method != http.MethodPut || !strings.Contains(r.RawQuery, "cors") {
			continue
		}
		puts = append(puts, r.RawQuery)
		for name := range r.Header {
			if l := strings.ToLower(name); strings.HasPrefix(l, "x-amz-checksum-") || l == "x-amz-sdk-checksum-algorithm" || l == "x-amz-trailer" {
				t.Errorf("PutBucketCors carried %s", name)
			}
		}
		if md := r.Header.Get("Content-Md5"); md == "" {
			t.Error("PutBucketCors without Content-MD5")
		}
		if r.Fault != "" || r.Status != http.StatusOK {
			t.Errorf("PutBucketCors: status %d, fault %q", r.Status, r.Fault)
		}
	}
	if len(puts) != 1 {
		t.Fatalf("%d PutBucketCors requests, want 1", len(puts))
	}
	// The server checks Content-MD5 against the body, and kept the rules.
	if rules := e.rules(t); len(rules) != 2 || !sameRule(rules[0], blogRule) || !sameRule(rules[1], inboxRule([]string{phone})) {
		t.Fatalf("rules: %+v", rules)
	}
}

// TestCORSAccessDenied uses an ordinary user of the server: first one that
// may not even read the rules, then one that may read but not write them,
// as a B2 key without readBuckets or without writeBuckets.
func TestCORSAccessDenied(t *testing.T) {
	e := newEnv(t, envOptions{user: true})
	ctx := t.Context()
	cfg := *e.cfg
	cfg.Target.KeyID, cfg.Target.Key = e.srv.UserAccessKey, NewSecret(e.srv.UserSecretKey)
	user, err := New(&cfg, Options{StateDir: t.TempDir(), Policy: testPolicy(), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	s3JSON, b2JSON := InboxCORSRule([]string{phone})

	_, err = user.InboxCORS(ctx, phone)
	var ue *Error
	if !errors.As(err, &ue) || !errors.Is(err, ErrAccessDenied) || !strings.Contains(ue.Advice, "readBuckets") || !strings.Contains(ue.What, "403 AccessDenied") {
		t.Fatalf("InboxCORS by a key that may not read the rules: %v", err)
	}
	err = user.SetInboxCORS(ctx, []string{phone})
	if !errors.As(err, &ue) || !errors.Is(err, ErrAccessDenied) {
		t.Fatalf("SetInboxCORS by a key that may not read the rules: %v", err)
	}
	for _, want := range []string{"cannot add its rule without losing the others", "readBuckets and writeBuckets", s3JSON, b2JSON,
		"--bucket " + e.srv.Bucket, "if the bucket has other CORS rules, add them"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}

	e.putRules(t, blogRule)
	if err := e.srv.GrantUser(ctx, "s3:GetBucketCORS"); err != nil {
		t.Fatal(err)
	}
	if st, err := user.InboxCORS(ctx, phone); err != nil || st.Allowed {
		t.Fatalf("InboxCORS by a key that may read the rules: %+v, %v", st, err)
	}
	err = user.SetInboxCORS(ctx, []string{phone})
	if !errors.As(err, &ue) || !errors.Is(err, ErrAccessDenied) {
		t.Fatalf("SetInboxCORS by a key that may not write the rules: %v", err)
	}
	t.Logf("what the user is told:\n%s\n%s", ue.What, ue.Advice)
	for _, want := range []string{"may not change the CORS rules", "writeBuckets", s3JSON, b2JSON, `the bucket also has "blog": add them`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if rules := e.rules(t); len(rules) != 1 || !sameRule(rules[0], blogRule) {
		t.Fatalf("a refused SetInboxCORS changed the rules: %+v", rules)
	}

	// The rule as printed, applied by hand with a key that may, works.
	e.putRules(t, blogRule, decodeS3Rule(t, s3JSON).sdk())
	if st, err := user.InboxCORS(ctx, phone); err != nil || !st.Allowed || st.RuleID != InboxCORSRuleID {
		t.Fatalf("after the rule was applied by hand: %+v, %v", st, err)
	}
}
