package uploader

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// MaxDownloadAuthorization is the longest a B2 download authorization
// lasts (b2_get_download_authorization's validDurationInSeconds).
const MaxDownloadAuthorization = 7 * 24 * time.Hour

// DownloadAuthorization is a B2 download authorization: whoever sends
// Token (in an Authorization header, on /file/<bucket>/… downloads) may
// read the bucket's files whose names start with Prefix, until Expires.
type DownloadAuthorization struct {
	Token   Secret
	Prefix  string
	Expires time.Time
	// DownloadURL is the account's download host, e.g.
	// https://f004.backblazeb2.com, where the token is good.
	DownloadURL string
}

// DownloadAuthorization asks B2 for a download authorization for
// target.bucket's files under prefix, valid for valid (at most 7 days).
// The configured key needs shareFiles.
func (u *Uploader) DownloadAuthorization(ctx context.Context, prefix string, valid time.Duration) (DownloadAuthorization, error) {
	if valid <= 0 || valid > MaxDownloadAuthorization {
		return DownloadAuthorization{}, fmt.Errorf("a download authorization lasts 1 second to 7 days, not %v", valid)
	}
	t := u.target
	sess, err := u.authorizeB2(ctx, "the key", t.KeyID, t.Key,
		fmt.Sprintf("check target.key_id and the key, or %s and %s", EnvKeyID, EnvKey))
	if err != nil {
		return DownloadAuthorization{}, err
	}
	if !sess.scope.Can("shareFiles") {
		return DownloadAuthorization{}, &Error{Kind: ErrAccessDenied, What: "b2_get_download_authorization: the key lacks shareFiles",
			Advice: "create a key for " + t.Bucket + " with shareFiles (read and write keys have it), or use the signed mode"}
	}
	bucketID, err := u.bucketID(ctx, sess)
	if err != nil {
		return DownloadAuthorization{}, err
	}
	start := u.now()
	var out struct {
		AuthorizationToken string `json:"authorizationToken"`
		FileNamePrefix     string `json:"fileNamePrefix"`
	}
	err = u.b2Call(ctx, sess, "b2_get_download_authorization", map[string]any{
		"bucketId": bucketID, "fileNamePrefix": prefix, "validDurationInSeconds": int64(valid / time.Second)}, &out)
	if err != nil {
		return DownloadAuthorization{}, err
	}
	return DownloadAuthorization{Token: NewSecret(out.AuthorizationToken), Prefix: out.FileNamePrefix, Expires: start.Add(valid),
		DownloadURL: sess.scope.DownloadURL}, nil
}

// bucketID finds target.bucket's ID: in the key's scope, or else through
// b2_list_buckets.
func (u *Uploader) bucketID(ctx context.Context, sess b2Session) (string, error) {
	t := u.target
	if i := slices.IndexFunc(sess.scope.Buckets, func(b B2Bucket) bool { return b.Name == t.Bucket }); i >= 0 {
		return sess.scope.Buckets[i].ID, nil
	}
	var out struct {
		Buckets []struct {
			ID   string `json:"bucketId"`
			Name string `json:"bucketName"`
		} `json:"buckets"`
	}
	if err := u.b2Call(ctx, sess, "b2_list_buckets", map[string]any{"accountId": sess.scope.AccountID, "bucketName": t.Bucket}, &out); err != nil {
		return "", err
	}
	for _, b := range out.Buckets {
		if b.Name == t.Bucket {
			return b.ID, nil
		}
	}
	return "", &Error{Kind: ErrNoBucket, What: fmt.Sprintf("B2 knows no bucket %q for this key", t.Bucket), Advice: "check target.bucket"}
}

// b2Call POSTs one native API call of the session and decodes its answer.
func (u *Uploader) b2Call(ctx context.Context, sess b2Session, name string, in, out any) error {
	body, _ := json.Marshal(in)
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sess.apiURL+"/b2api/v4/"+name, bytes.NewReader(body))
	if err != nil {
		return &Error{What: name + ": bad B2 API URL " + sess.apiURL, Advice: "check target.b2_api_url", Err: err}
	}
	req.Header.Set("Authorization", sess.token.Reveal())
	req.Header.Set("Content-Type", "application/json")
	resp, err := u.http.Do(req)
	if err != nil {
		return &Error{Kind: ErrUnreachable, Err: err, What: fmt.Sprintf("%s: cannot reach %s (%v)", name, sess.apiURL, rootCause(err)), Advice: "check your network connection"}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return &Error{What: name + ": reading the answer failed: " + rootCause(err), Advice: "try again", Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		detail := b2Detail(resp.StatusCode, raw)
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return &Error{Kind: ErrAccessDenied, What: name + ": B2 refused (" + detail + ")", Advice: "check the key's capabilities and bucket"}
		}
		return &Error{What: name + ": B2 answered " + detail, Advice: "try again later"}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return &Error{What: name + ": the answer is not the JSON B2 documents (" + rootCause(err) + ")", Advice: "check target.b2_api_url", Err: err}
	}
	return nil
}

// ReadKeyProblems checks a key meant only for reading target.bucket (the
// Worker's key for a private bucket) with b2_authorize_account: it must
// read files, be limited to target.bucket, and be able to do nothing else
// that changes data. It returns what is wrong, each with its fix; none
// means the key is as it should be.
func (u *Uploader) ReadKeyProblems(ctx context.Context, keyID string, key Secret) (KeyScope, []string, error) {
	sess, err := u.authorizeB2(ctx, "the Worker's read key", keyID, key, "check cdn.read_key_id and its key")
	if err != nil {
		return KeyScope{}, nil, err
	}
	ks := sess.scope
	var problems []string
	if !ks.Can("readFiles") {
		problems = append(problems, "it lacks readFiles, so the Worker cannot read the bucket: create a read-only key for "+u.target.Bucket)
	}
	var names []string
	for _, b := range ks.Buckets {
		names = append(names, b.Name)
	}
	if len(names) != 1 || names[0] != u.target.Bucket {
		where := "every bucket in the account"
		if len(names) > 0 {
			where = strings.Join(names, ", ")
		}
		problems = append(problems, fmt.Sprintf("it reaches %s, not only %s: create a key restricted to %s", where, u.target.Bucket, u.target.Bucket))
	}
	var extra []string
	for _, c := range ks.Capabilities {
		switch c {
		case "readFiles", "listBuckets", "listAllBucketNames", "readBuckets", "readBucketEncryption", "readBucketReplications",
			"readBucketRetentions", "readFileRetentions", "readFileLegalHolds", "readBucketNotifications", "readBucketLogging":
		default:
			extra = append(extra, c)
		}
	}
	if len(extra) > 0 {
		problems = append(problems, "it can also "+strings.Join(extra, ", ")+": a Worker's key should only read; create a read-only key (b2 key create --bucket "+u.target.Bucket+" NAME readFiles)")
	}
	return ks, problems, nil
}
