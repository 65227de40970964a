package uploader

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The phone inbox's page is served by this computer on the LAN, and the
// phone's browser PUTs each file straight to the bucket with a grant (see
// grant.go). The browser first asks the bucket, in a CORS preflight,
// whether the page's origin may send that PUT with its headers; the
// bucket's CORS rules decide. Without such a rule the page sends the file
// through this computer instead.

// InboxCORSRuleID names the CORS rule Upshot writes for the phone inbox.
const InboxCORSRuleID = "upshot-inbox"

// maxCORSRules is the most rules S3 and B2 keep for one bucket.
const maxCORSRules = 100

// inboxHeaders are the request headers a grant's PUT may carry (see
// [Uploader.Grant]); the rule must allow all of them. Browsers name them in
// lower case in the preflight.
var inboxHeaders = []string{"content-md5", "content-type", "x-amz-meta-sha1", "if-none-match", "x-amz-checksum-sha1", "cache-control"}

// inboxRule is the rule that lets pages at origins PUT grants.
func inboxRule(origins []string) types.CORSRule {
	return types.CORSRule{
		ID:             aws.String(InboxCORSRuleID),
		AllowedOrigins: slices.Clone(origins),
		AllowedMethods: []string{"PUT", "HEAD"},
		AllowedHeaders: slices.Clone(inboxHeaders),
		ExposeHeaders:  []string{"ETag"},
		MaxAgeSeconds:  aws.Int32(3600),
	}
}

// CORSStatus says whether the bucket's CORS rules let a page at Origin
// upload with a grant.
type CORSStatus struct {
	Origin  string
	Allowed bool
	// RuleID names the rule that allows it ("" when that rule has no ID).
	RuleID string
	// Reason says in plain words why not, when not Allowed.
	Reason string
}

// InboxCORS reads the bucket's CORS rules and reports whether one of them
// lets a page at origin (such as "http://192.168.1.10:8765") PUT with every
// header a grant may carry. A bucket without CORS rules is not an error,
// only not allowed. A key that may not read the rules gets an *Error of
// kind [ErrAccessDenied] that says which key would do.
func (u *Uploader) InboxCORS(ctx context.Context, origin string) (CORSStatus, error) {
	rules, err := u.corsRules(ctx)
	if err != nil {
		return CORSStatus{}, err
	}
	return evaluateCORS(rules, origin), nil
}

// corsRules reads the bucket's CORS rules; none is an empty list.
func (u *Uploader) corsRules(ctx context.Context) ([]types.CORSRule, error) {
	out, err := u.store.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: &u.target.Bucket})
	if err != nil {
		if code, _, _ := apiDetails(err); code == "NoSuchCORSConfiguration" {
			return nil, nil
		}
		err = u.target.explain("read the CORS rules", "", err)
		if errors.Is(err, ErrAccessDenied) {
			var e *Error
			errors.As(err, &e)
			return nil, &Error{Kind: ErrAccessDenied, Err: e.Err,
				What:   fmt.Sprintf("the key may not read the CORS rules of bucket %q (%s)", u.target.Bucket, denial(e.Err)),
				Advice: "on B2 that needs an application key with readBuckets; elsewhere, permission for s3:GetBucketCORS"}
		}
		return nil, err
	}
	return out.CORSRules, nil
}

// denial names the server's refusal, such as "403 AccessDenied".
func denial(err error) string {
	code, _, status := apiDetails(err)
	return codeOr(code, status)
}

// evaluateCORS applies S3's matching to rules: the first rule whose
// AllowedOrigins match origin and that allows the method and every
// requested header decides. Origins match case-sensitively, with a "*"
// standing for any text; header names match case-insensitively, also
// with "*".
func evaluateCORS(rules []types.CORSRule, origin string) CORSStatus {
	st := CORSStatus{Origin: origin}
	if len(rules) == 0 {
		st.Reason = "the bucket has no CORS rules"
		return st
	}
	var best string // the reason from the rule for origin that comes closest
	bestGap := -1
	for _, r := range rules {
		if !slices.ContainsFunc(r.AllowedOrigins, func(p string) bool { return wildcardMatch(p, origin) }) {
			continue
		}
		put := slices.Contains(r.AllowedMethods, "PUT")
		var missing []string
		for _, h := range inboxHeaders {
			if !slices.ContainsFunc(r.AllowedHeaders, func(p string) bool { return wildcardMatch(strings.ToLower(p), h) }) {
				missing = append(missing, h)
			}
		}
		if put && len(missing) == 0 {
			st.Allowed, st.RuleID = true, aws.ToString(r.ID)
			return st
		}
		gap := len(missing)
		if !put {
			gap += len(inboxHeaders) + 1
		}
		if bestGap >= 0 && gap >= bestGap {
			continue
		}
		bestGap = gap
		name := "the rule for this origin"
		if id := aws.ToString(r.ID); id != "" {
			name = fmt.Sprintf("rule %q, which allows this origin,", id)
		}
		var lacks []string
		if !put {
			lacks = append(lacks, "PUT")
		}
		if len(missing) > 0 {
			lacks = append(lacks, "the header"+plural(len(missing))+" "+strings.Join(missing, ", "))
		}
		best = fmt.Sprintf("%s does not allow %s", name, strings.Join(lacks, " or "))
	}
	if best == "" {
		st.Reason = "the bucket has CORS rules, but none for this origin"
	} else {
		st.Reason = best
	}
	return st
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// wildcardMatch reports whether s matches pattern, in which each "*"
// stands for any text, the empty text included.
func wildcardMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// SetInboxCORS lets pages at origins upload with grants: it reads the
// bucket's CORS rules, replaces the rule named [InboxCORSRuleID] (or adds
// it), keeps every other rule as it was, writes the set, and reads it back
// to check that each origin is allowed. A key that may not read or change
// the rules gets an *Error of kind [ErrAccessDenied] whose advice holds the
// rule to apply by hand (see [InboxCORSRule]).
func (u *Uploader) SetInboxCORS(ctx context.Context, origins []string) error {
	if err := checkOrigins(origins); err != nil {
		return err
	}
	rules, err := u.corsRules(ctx)
	if err != nil {
		if errors.Is(err, ErrAccessDenied) {
			var e *Error
			errors.As(err, &e)
			return &Error{Kind: ErrAccessDenied, Err: err,
				What:   e.What + ", so Upshot cannot add its rule without losing the others",
				Advice: "on B2, use an application key with readBuckets and writeBuckets once; " + manualCORS(u.target, origins, nil)}
		}
		return err
	}
	var others []string
	merged := make([]types.CORSRule, 0, len(rules)+1)
	replaced := false
	for _, r := range rules {
		if aws.ToString(r.ID) == InboxCORSRuleID {
			if !replaced {
				merged = append(merged, inboxRule(origins))
				replaced = true
			}
			continue
		}
		merged = append(merged, r)
		others = append(others, ruleName(r, len(others)))
	}
	if !replaced {
		merged = append(merged, inboxRule(origins))
	}
	if len(merged) > maxCORSRules {
		return &Error{What: fmt.Sprintf("bucket %q has %d CORS rules already, and a bucket keeps at most %d", u.target.Bucket, len(rules), maxCORSRules),
			Advice: "remove a rule the bucket no longer needs, then run this again"}
	}
	_, err = u.store.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: &u.target.Bucket,
		CORSConfiguration: &types.CORSConfiguration{CORSRules: merged}}, withContentMD5)
	if err != nil {
		err = u.target.explain("write the CORS rules", "", err)
		if errors.Is(err, ErrAccessDenied) {
			var e *Error
			errors.As(err, &e)
			return &Error{Kind: ErrAccessDenied, Err: e.Err,
				What:   fmt.Sprintf("the key may not change the CORS rules of bucket %q (%s)", u.target.Bucket, denial(e.Err)),
				Advice: "on B2 that needs an application key with writeBuckets (create one for this once; uploads need no such key); " + manualCORS(u.target, origins, others)}
		}
		return err
	}
	back, err := u.corsRules(ctx)
	if err != nil {
		return fmt.Errorf("the CORS rules were written, but reading them back failed: %w", err)
	}
	for _, o := range origins {
		if st := evaluateCORS(back, o); !st.Allowed {
			return &Error{What: fmt.Sprintf("bucket %q took the CORS rules, but they do not let %s upload: %s", u.target.Bucket, o, st.Reason),
				Advice: "run upshot check in a minute; if it still says so, " + manualCORS(u.target, origins, others)}
		}
	}
	return nil
}

// ruleName is how a rule is named to the user: its ID, or its place.
func ruleName(r types.CORSRule, i int) string {
	if id := aws.ToString(r.ID); id != "" {
		return fmt.Sprintf("%q", id)
	}
	return fmt.Sprintf("rule %d (no ID)", i+1)
}

// checkOrigins refuses origins no browser sends, and an empty list.
func checkOrigins(origins []string) error {
	bad := func(what string) error {
		return &Error{What: what, Advice: `give origins like http://192.168.1.10:8765, with at most one "*"`}
	}
	if len(origins) == 0 {
		return bad("no origin to allow")
	}
	for _, o := range origins {
		if o == "*" {
			continue
		}
		if strings.Count(o, "*") > 1 || strings.ContainsAny(o, " \t\r\n'\"\\") {
			return bad(fmt.Sprintf("%q is not an origin", o))
		}
		p, err := url.Parse(strings.Replace(o, "*", "x", 1))
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" || p.Path != "" || p.RawQuery != "" || p.Fragment != "" || p.User != nil {
			return bad(fmt.Sprintf("%q is not an origin", o))
		}
	}
	return nil
}

// manualCORS tells how to apply the inbox rule by hand; others names the
// rules the bucket has besides it (nil when unknown).
func manualCORS(t Target, origins, others []string) string {
	s3JSON, b2JSON := InboxCORSRule(origins)
	keep := "if the bucket has other CORS rules, add them to the list"
	switch {
	case others != nil && len(others) == 0:
		keep = "the bucket has no other CORS rules"
	case len(others) > 0:
		keep = "the bucket also has " + strings.Join(others, ", ") + ": add them to the list"
	}
	return fmt.Sprintf("or apply the rule by hand: aws s3api put-bucket-cors --endpoint-url %s --bucket %s --cors-configuration '%s'; or with B2's native API, b2_update_bucket with \"corsRules\": %s (each replaces all of the bucket's CORS rules; %s)",
		t.Endpoint, t.Bucket, s3JSON, b2JSON, keep)
}

// InboxCORSRule returns the phone inbox's CORS rule for origins in the two
// forms a user can apply by hand: s3JSON for `aws s3api put-bucket-cors
// --cors-configuration`, and b2JSON, the value of corsRules for B2's native
// b2_update_bucket. Both are one line; each call replaces all of a
// bucket's CORS rules.
func InboxCORSRule(origins []string) (s3JSON, b2JSON string) {
	r := inboxRule(origins)
	type s3Rule struct {
		ID             string
		AllowedOrigins []string
		AllowedMethods []string
		AllowedHeaders []string
		ExposeHeaders  []string
		MaxAgeSeconds  int32
	}
	type b2Rule struct {
		CORSRuleName      string   `json:"corsRuleName"`
		AllowedOrigins    []string `json:"allowedOrigins"`
		AllowedOperations []string `json:"allowedOperations"`
		AllowedHeaders    []string `json:"allowedHeaders"`
		ExposeHeaders     []string `json:"exposeHeaders"`
		MaxAgeSeconds     int32    `json:"maxAgeSeconds"`
	}
	var ops []string
	for _, m := range r.AllowedMethods {
		ops = append(ops, "s3_"+strings.ToLower(m))
	}
	s3b, _ := json.Marshal(struct{ CORSRules []s3Rule }{[]s3Rule{{aws.ToString(r.ID), r.AllowedOrigins, r.AllowedMethods,
		r.AllowedHeaders, r.ExposeHeaders, aws.ToInt32(r.MaxAgeSeconds)}}})
	b2b, _ := json.Marshal([]b2Rule{{aws.ToString(r.ID), r.AllowedOrigins, ops, r.AllowedHeaders, r.ExposeHeaders, aws.ToInt32(r.MaxAgeSeconds)}})
	return string(s3b), string(b2b)
}

// withContentMD5 makes one request carry Content-MD5 and no checksum
// header. Since service/s3 v1.73 the SDK sends a CRC32 checksum header,
// and no Content-MD5, with every request that must carry a checksum
// (PutBucketCors among them), even when RequestChecksumCalculation is
// WhenRequired; B2 refuses checksum headers.
func withContentMD5(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Finalize.Insert(contentMD5Only{}, "Signing", middleware.Before)
	})
}

// contentMD5Only swaps the SDK's checksum headers for Content-MD5 of the
// body, before the request is signed.
type contentMD5Only struct{}

func (contentMD5Only) ID() string { return "UpshotContentMD5Only" }

func (contentMD5Only) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error) {
	req, ok := in.Request.(*smithyhttp.Request)
	if !ok {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("set Content-MD5: unexpected request type %T", in.Request)
	}
	for name := range req.Header {
		if l := strings.ToLower(name); strings.HasPrefix(l, "x-amz-checksum-") || l == "x-amz-sdk-checksum-algorithm" {
			req.Header.Del(name)
		}
	}
	var body []byte
	if s := req.GetStream(); s != nil {
		var err error
		if body, err = io.ReadAll(s); err != nil {
			return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("set Content-MD5: read the body: %w", err)
		}
	}
	sum := md5.Sum(body)
	req.Header.Set("Content-Md5", base64.StdEncoding.EncodeToString(sum[:]))
	req, err := req.SetStream(bytes.NewReader(body))
	if err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, fmt.Errorf("set Content-MD5: %w", err)
	}
	in.Request = req
	return next.HandleFinalize(ctx, in)
}
