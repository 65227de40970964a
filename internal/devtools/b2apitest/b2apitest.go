// Package b2apitest stands in for Backblaze B2's native API in tests, on
// 127.0.0.1 and over a real S3 server (versitygw, package s3test) that
// holds the bucket: b2_authorize_account for the keys a test registers,
// b2_list_buckets, b2_get_download_authorization, and downloads by name
// (/file/<bucket>/<key>) that take those authorizations, answering as B2
// does: 401 for a wrong or expired token, 404 JSON for a missing file,
// x-bz-* headers for a found one. The same server is the API URL and the
// download URL of the keys it authorizes.
//
// A Server is safe for concurrent use.
package b2apitest

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"upshot/uploader/s3test"
)

// BucketID is the stand-in's ID of the S3 server's bucket.
const BucketID = "27c88f1d182b150646ff0b16"

// Server is the stand-in.
type Server struct {
	URL string
	srv *s3test.Server

	mu        sync.Mutex
	keys      map[string]key
	tokens    map[string]time.Time // download authorizations and their expiry
	grants    []Grant
	dropRange int // range requests still to answer whole
	seen      []http.Header
}

type key struct {
	secret  string
	allowed string // the "allowed" JSON of b2_authorize_account
}

// Grant is one b2_get_download_authorization the stand-in answered.
type Grant struct {
	BucketID string
	Prefix   string
	Seconds  int64
}

// Start runs the stand-in over srv's bucket for the rest of the test.
func Start(tb testing.TB, srv *s3test.Server) *Server {
	tb.Helper()
	s := &Server{srv: srv, keys: map[string]key{}, tokens: map[string]time.Time{}}
	hs := httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// Key registers an application key: allowed is b2_authorize_account's
// "allowed" object as JSON, such as
// {"buckets":[{"id":"…","name":"…"}],"capabilities":["readFiles"],"namePrefix":null}.
func (s *Server) Key(id, secret, allowed string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[id] = key{secret, allowed}
}

// Allowed is the "allowed" JSON for the bucket with capabilities.
func (s *Server) Allowed(capabilities ...string) string {
	caps, _ := json.Marshal(capabilities)
	return fmt.Sprintf(`{"buckets":[{"id":%q,"name":%q}],"capabilities":%s,"namePrefix":null}`, BucketID, s.srv.Bucket, caps)
}

// Issue makes a download authorization that expires after validFor
// (negative: already expired).
func (s *Server) Issue(validFor time.Duration) string {
	tok := "4_" + strings.ToLower(rand.Text())
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[tok] = time.Now().Add(validFor)
	return tok
}

// Expire ends every download authorization issued so far.
func (s *Server) Expire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.tokens {
		s.tokens[t] = time.Now().Add(-time.Second)
	}
}

// Grants are the download authorizations asked for, in order.
func (s *Server) Grants() []Grant {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Grant(nil), s.grants...)
}

// Requests are the headers of every download request, in order.
func (s *Server) Requests() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.seen...)
}

// DropRange answers the next n range requests whole, as a proxy that
// drops the Range header would make them.
func (s *Server) DropRange(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropRange = n
}

func b2Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%q,"message":%q,"status":%d}`, code, msg, status)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/b2api/v4/b2_authorize_account":
		s.authorize(w, r)
	case strings.HasPrefix(r.URL.Path, "/b2api/v4/"):
		s.call(w, r, strings.TrimPrefix(r.URL.Path, "/b2api/v4/"))
	default:
		s.download(w, r)
	}
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	s.mu.Lock()
	k, known := s.keys[id]
	s.mu.Unlock()
	if !ok || !known || secret != k.secret {
		b2Error(w, 401, "bad_auth_token", "Invalid authorization")
		return
	}
	fmt.Fprintf(w, `{"accountId":"acc123","authorizationToken":"session-%s","apiInfo":{"storageApi":{"allowed":%s,`+
		`"apiUrl":%q,"downloadUrl":%q,"s3ApiUrl":%q}}}`, id, k.allowed, s.URL, s.URL, s.srv.Endpoint)
}

func (s *Server) call(w http.ResponseWriter, r *http.Request, name string) {
	if !strings.HasPrefix(r.Header.Get("Authorization"), "session-") {
		b2Error(w, 401, "bad_auth_token", "Invalid authorization")
		return
	}
	var body struct {
		BucketID       string `json:"bucketId"`
		BucketName     string `json:"bucketName"`
		FileNamePrefix string `json:"fileNamePrefix"`
		Seconds        int64  `json:"validDurationInSeconds"`
	}
	if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&body) != nil {
		b2Error(w, 400, "bad_request", "bad request")
		return
	}
	switch name {
	case "b2_list_buckets":
		fmt.Fprintf(w, `{"buckets":[{"bucketId":%q,"bucketName":%q}]}`, BucketID, s.srv.Bucket)
	case "b2_get_download_authorization":
		if body.BucketID != BucketID || body.Seconds < 1 || body.Seconds > 604800 {
			b2Error(w, 400, "bad_request", "bad bucketId or validDurationInSeconds")
			return
		}
		tok := s.Issue(time.Duration(body.Seconds) * time.Second)
		s.mu.Lock()
		s.grants = append(s.grants, Grant{BucketID: body.BucketID, Prefix: body.FileNamePrefix, Seconds: body.Seconds})
		s.mu.Unlock()
		fmt.Fprintf(w, `{"authorizationToken":%q,"bucketId":%q,"fileNamePrefix":%q}`, tok, BucketID, body.FileNamePrefix)
	default:
		b2Error(w, 404, "not_found", "no such call")
	}
}

func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.seen = append(s.seen, r.Header.Clone())
	expiry, known := s.tokens[r.Header.Get("Authorization")]
	drop := r.Header.Get("Range") != "" && s.dropRange > 0
	if drop {
		s.dropRange--
	}
	s.mu.Unlock()
	switch {
	case !known:
		b2Error(w, 401, "bad_auth_token", "Invalid authorization token")
		return
	case time.Now().After(expiry):
		b2Error(w, 401, "expired_auth_token", "Authorization token has expired")
		return
	}
	// B2 takes "+" in a file name URL for a space.
	raw := strings.ReplaceAll(r.URL.EscapedPath(), "+", "%20")
	name, err := url.PathUnescape(raw)
	prefix := "/file/" + s.srv.Bucket + "/"
	if err != nil || !strings.HasPrefix(name, prefix) || r.Method != "GET" {
		b2Error(w, 400, "bad_request", "bad request")
		return
	}
	key := strings.TrimPrefix(name, prefix)
	in := &s3.GetObjectInput{Bucket: &s.srv.Bucket, Key: &key}
	if rg := r.Header.Get("Range"); rg != "" && !drop {
		in.Range = &rg
	}
	out, err := s.srv.Client().GetObject(r.Context(), in)
	if err != nil {
		var nsk *types.NoSuchKey
		if errors.As(err, &nsk) {
			b2Error(w, 404, "not_found", "File with such name does not exist.")
			return
		}
		b2Error(w, 500, "internal_error", err.Error())
		return
	}
	defer out.Body.Close()
	h := w.Header()
	h.Set("Content-Type", aws.ToString(out.ContentType))
	h.Set("Content-Length", strconv.FormatInt(aws.ToInt64(out.ContentLength), 10))
	h.Set("Accept-Ranges", "bytes")
	h.Set("Cache-Control", aws.ToString(out.CacheControl))
	h.Set("Last-Modified", out.LastModified.UTC().Format(http.TimeFormat))
	h.Set("x-bz-content-sha1", out.Metadata["sha1"])
	h.Set("x-bz-file-name", url.PathEscape(key))
	h.Set("x-bz-file-id", "4_z27c88f1d182b150646ff0b16_f1004ba650fe24e6b_d20261117_m103000_c004_v0402000_t0032")
	h.Set("x-bz-upload-timestamp", strconv.FormatInt(out.LastModified.UnixMilli(), 10))
	h.Set("x-bz-info-src_last_modified_millis", strconv.FormatInt(out.LastModified.UnixMilli(), 10))
	status := 200
	if out.ContentRange != nil {
		h.Set("Content-Range", *out.ContentRange)
		status = 206
	}
	w.WriteHeader(status)
	_, _ = io.Copy(w, out.Body)
}
