package uploader

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestCheckInboxFinding(t *testing.T) {
	other := "http://10.0.0.5:8765"
	noWrite := &KeyScope{Capabilities: []string{"readBuckets", "writeFiles"}}
	cases := []struct {
		name    string
		origins []string
		rules   []types.CORSRule
		scope   *KeyScope
		level   Level
		want    []string
	}{
		{"allowed", []string{phone, other}, []types.CORSRule{inboxRule([]string{phone, other})}, nil, LevelOK,
			[]string{"let a phone upload straight to the bucket from " + phone + ", " + other}},
		{"no rules", []string{phone}, nil, nil, LevelWarn,
			[]string{"phones cannot upload straight to the bucket from " + phone + " (the bucket has no CORS rules)", "through this computer", "upshot inbox --setup-cors"}},
		{"one of two", []string{phone, other}, []types.CORSRule{inboxRule([]string{phone}), blogRule}, nil, LevelWarn,
			[]string{"can upload straight to the bucket from " + phone + ", but not from " + other, "none for this origin", "--setup-cors"}},
		{"two reasons", []string{phone, other}, []types.CORSRule{
			{ID: aws.String("get"), AllowedOrigins: []string{phone}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"*"}}}, nil, LevelWarn,
			[]string{phone + `: rule "get", which allows this origin, does not allow PUT; ` + other + ": the bucket has CORS rules, but none for this origin"}},
		{"key without writeBuckets", []string{phone}, nil, noWrite, LevelWarn, []string{"--setup-cors to allow it (with a key that has writeBuckets, once)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			level, detail := inboxFinding(c.origins, c.rules, c.scope)
			if level != c.level {
				t.Errorf("level %v, want %v: %s", level, c.level, detail)
			}
			for _, w := range c.want {
				if !strings.Contains(detail, w) {
					t.Errorf("detail lacks %q:\n%s", w, detail)
				}
			}
		})
	}
}

// TestCheckPhoneInbox runs the whole check: a warning without the rule,
// an ok with it, and a warning (not an error) for a key that may not read
// the rules.
func TestCheckPhoneInbox(t *testing.T) {
	e := newEnv(t, envOptions{user: true, edit: func(c *Config) { c.Inbox.Listen = "192.168.1.10:8765" }})
	ctx := t.Context()
	finding := func(up *Uploader) Finding {
		t.Helper()
		r := up.Check(ctx)
		if r.Failed() {
			t.Fatalf("check failed: %+v", r.Findings)
		}
		var found []Finding
		for _, f := range r.Findings {
			if f.Topic == "phone inbox" {
				found = append(found, f)
			}
		}
		if len(found) != 1 {
			t.Fatalf("%d phone inbox findings in %+v", len(found), r.Findings)
		}
		return found[0]
	}
	f := finding(e.up)
	if f.Level != LevelWarn || !strings.Contains(f.Detail, "from "+phone+" (the bucket has no CORS rules)") || !strings.Contains(f.Detail, "upshot inbox --setup-cors") {
		t.Fatalf("without rules: %+v", f)
	}
	if err := e.up.SetInboxCORS(ctx, []string{phone}); err != nil {
		t.Fatal(err)
	}
	if f := finding(e.up); f.Level != LevelOK || !strings.Contains(f.Detail, phone) {
		t.Fatalf("with the rule: %+v", f)
	}

	// A key that may write objects but not read bucket settings.
	if err := e.srv.GrantUser(ctx, "s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:ListBucket", "s3:ListBucketVersions"); err != nil {
		t.Fatal(err)
	}
	cfg := *e.cfg
	cfg.Target.KeyID, cfg.Target.Key = e.srv.UserAccessKey, NewSecret(e.srv.UserSecretKey)
	user, err := New(&cfg, Options{StateDir: t.TempDir(), Policy: testPolicy(), Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if f := finding(user); f.Level != LevelWarn || !strings.Contains(f.Detail, "may not read the CORS rules") || !strings.Contains(f.Detail, "readBuckets") {
		t.Fatalf("a key that may not read the rules: %+v", f)
	}
}
