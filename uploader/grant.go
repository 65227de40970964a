package uploader

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// How another program (a phone's browser) uploads one file without ever
// holding the key: the uploader picks the key exactly as for its own
// uploads (the path template, never an overwrite, the same content reused)
// and signs one PUT for it. The signature covers the key, Content-Length,
// Content-MD5, Content-Type and x-amz-meta-sha1 (plus x-amz-checksum-sha1
// and If-None-Match: * where the endpoint takes them), so the grant can
// store only those exact bytes, only at that key, and only until it
// expires. After the PUT, ConfirmGrant checks the object with a HEAD, and
// on an endpoint without conditional writes applies the same version rule
// as an upload of its own (see nooverwrite.go).

// MaxGrantTTL bounds how long a grant stays valid.
const MaxGrantTTL = 15 * time.Minute

// maxSinglePut is the largest body one PUT may carry (B2 and S3: 5 GB).
const maxSinglePut = 5_000_000_000

// GrantRequest describes one file that another program is about to upload:
// the bytes it will send, after any stripping.
type GrantRequest struct {
	Name        string // the file's name, for the key and the link text
	Size        int64
	ContentType string
	SHA1        string // hex
	MD5         string // hex
}

// Grant is a presigned PUT of one body to one key, or, when Existing is
// set, the object that already holds this content (nothing to send).
type Grant struct {
	Key string
	// Existing: the content is stored at Key already; URL is empty.
	Existing bool
	// URL is the presigned PUT, valid until Expires. It points at the S3
	// endpoint, never at the custom domain.
	URL     string
	Expires time.Time
	// Header holds every header the PUT must carry, with these exact
	// values, besides Content-Length, which clients set from the body.
	Header http.Header
	// Conditional: the PUT carries If-None-Match: *, so the endpoint
	// itself refuses it if the name was taken meanwhile.
	Conditional bool
	// Link is the new object's link.
	Link Link
	req  GrantRequest
	dig  Digest
}

// Request returns what the grant was made for.
func (g Grant) Request() GrantRequest { return g.req }

// ErrGrantRace means another writer stored a different file at the
// granted key a moment earlier; the grant's own copy was taken back, and a
// new grant picks another name.
var ErrGrantRace = errors.New("another upload took the name first: ask for a new grant")

// checkGrantRequest refuses a request that no PUT could satisfy, and
// returns its digest and content type.
func checkGrantRequest(req GrantRequest) (Digest, string, error) {
	bad := func(format string, args ...any) error {
		return &Error{Kind: ErrFile, What: req.Name + ": " + fmt.Sprintf(format, args...), Advice: "pick the file again"}
	}
	var d Digest
	name := strings.TrimSpace(req.Name)
	switch {
	case name == "" || name != path.Base(name) || strings.ContainsAny(name, `/\`) || strings.IndexFunc(name, unicode.IsControl) >= 0:
		return d, "", bad("is not a plain file name")
	case len(name) > 255:
		return d, "", bad("has a name longer than 255 bytes")
	case req.Size <= 0:
		return d, "", bad("is empty")
	case req.Size > maxSinglePut:
		return d, "", bad("is %d bytes; one upload holds at most 5 GB", req.Size)
	}
	sha, err := hex.DecodeString(req.SHA1)
	if err != nil || len(sha) != len(d.SHA1) {
		return d, "", bad("has no valid SHA1")
	}
	md, err := hex.DecodeString(req.MD5)
	if err != nil || len(md) != len(d.MD5) {
		return d, "", bad("has no valid MD5")
	}
	copy(d.SHA1[:], sha)
	copy(d.MD5[:], md)
	d.Size = req.Size
	ct, _, err := mime.ParseMediaType(req.ContentType)
	if err != nil || !strings.Contains(ct, "/") {
		ct = typeByExtension(name)
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	// The name's extension decides how the link is served and shown, so
	// it must agree with the type the bytes are signed with.
	if byExt := typeByExtension(name); byExt != "" && !strings.EqualFold(byExt, ct) {
		return d, "", bad("is named %s but declared as %s", path.Ext(name), ct)
	}
	return d, ct, nil
}

// Grant picks the key for the content req describes and signs one PUT of
// it, valid for ttl (at most [MaxGrantTTL]). Content already stored under
// the key the template gives (or a numbered variant of it) comes back as
// Existing, and nothing needs to be sent.
func (u *Uploader) Grant(ctx context.Context, req GrantRequest, ttl time.Duration) (Grant, error) {
	dig, ct, err := checkGrantRequest(req)
	if err != nil {
		return Grant{}, err
	}
	req.Name, req.ContentType = strings.TrimSpace(req.Name), ct
	if ttl <= 0 || ttl > MaxGrantTTL {
		ttl = MaxGrantTTL
	}
	key, err := u.tmpl.Render(KeyInput{FileName: req.Name, Time: u.now(), SHA1: dig.SHA1})
	if err != nil {
		return Grant{}, &Error{What: fmt.Sprintf("%s: cannot make an object key: %v", req.Name, err), Err: err,
			Advice: "change target.path_template"}
	}
	if err := u.probe(ctx); err != nil {
		return Grant{}, err
	}
	lf := &localFile{path: req.Name, name: req.Name, size: req.Size, dig: fileDigests{whole: dig}, contentType: ct}
	g := Grant{req: req, dig: dig}
	relooks := 0
	for n := 0; n <= maxSuffix; n++ {
		k := key
		if n > 0 {
			k = withSuffix(key, n)
		}
		st, err := u.lookAt(ctx, lf, k)
		if err != nil {
			return Grant{}, err
		}
		switch st {
		case nameTaken:
			continue
		case nameCleared:
			if relooks++; relooks <= maxRelook {
				n--
			}
			continue
		case nameSame:
			g.Key, g.Existing = k, true
		case nameFree:
			if err := u.sign(ctx, &g, k, ttl); err != nil {
				return Grant{}, err
			}
		}
		g.Link = Link{URL: u.ObjectURL(ctx, g.Key), Name: req.Name, ContentType: ct}
		return g, nil
	}
	return Grant{}, &Error{What: fmt.Sprintf("%s: %s and %d numbered variants are all taken by other files", req.Name, key, maxSuffix),
		Advice: "add {sha1:8} or {random:6} to target.path_template"}
}

// sign presigns the PUT of g's content at key.
func (u *Uploader) sign(ctx context.Context, g *Grant, key string, ttl time.Duration) error {
	h := u.writeHeaders()
	in := &s3.PutObjectInput{
		Bucket:        &u.target.Bucket,
		Key:           &key,
		ContentLength: aws.Int64(g.req.Size),
		ContentMD5:    aws.String(g.dig.MD5Base64()),
		ContentType:   aws.String(g.req.ContentType),
		Metadata:      map[string]string{"sha1": g.dig.SHA1Hex()},
	}
	if u.target.CacheControl != "" {
		in.CacheControl = &u.target.CacheControl
	}
	if h.checksum && u.caps.get(u.target).ChecksumHeader == capSupported {
		in.ChecksumSHA1 = aws.String(g.dig.SHA1Base64())
	}
	if h.conditional && u.caps.get(u.target).ConditionalPut == capSupported {
		in.IfNoneMatch = aws.String("*")
		g.Conditional = true
	}
	out, err := u.presign.PresignPutObject(ctx, in, s3.WithPresignExpires(ttl))
	if err != nil {
		return &Error{Err: err, What: fmt.Sprintf("cannot sign an upload of %s: %v", key, err),
			Advice: "check the endpoint and key settings"}
	}
	g.Key, g.URL = key, out.URL
	if g.Expires, err = presignedExpiry(out.URL); err != nil {
		return err
	}
	g.Header = http.Header{}
	for name, values := range out.SignedHeader {
		switch http.CanonicalHeaderKey(name) {
		case "Host", "Content-Length":
			continue // the client's HTTP stack sets these from the URL and body
		}
		g.Header[http.CanonicalHeaderKey(name)] = values
	}
	return nil
}

// ConfirmGrant checks, after the client reported its PUT done, that the
// object at the granted key is the granted content, and, on an endpoint
// without conditional writes, that the grant's write owns the name. It
// returns what an upload of the same file would have.
func (u *Uploader) ConfirmGrant(ctx context.Context, g Grant) (Result, error) {
	lf := &localFile{path: g.req.Name, name: g.req.Name, size: g.req.Size, dig: fileDigests{whole: g.dig}, contentType: g.req.ContentType}
	res := Result{File: g.req.Name, Key: g.Key, SHA1: g.dig.SHA1Hex(), Size: g.req.Size, ContentType: g.req.ContentType,
		Deduplicated: g.Existing, Link: g.Link, URL: g.Link.URL}
	h, err := u.head(ctx, g.Key, "")
	if err != nil {
		return Result{}, err
	}
	if h == nil {
		return Result{}, &Error{Kind: ErrNotConfirmed, What: fmt.Sprintf("%s: nothing arrived at %s", g.req.Name, g.Key),
			Advice: "send the file again"}
	}
	if err := u.matches(h, lf); err != nil {
		return Result{}, &Error{Kind: ErrNotConfirmed, Err: err, What: fmt.Sprintf("%s: %s does not hold the granted file: %v", g.req.Name, g.Key, err),
			Advice: "send the file again; it is not counted as uploaded"}
	}
	if !g.Existing && !g.Conditional && hasVersionID(h.VersionId) {
		u.learnVersions(h.VersionId)
		kept, err := u.settle(ctx, g.Key, *h.VersionId)
		if err != nil {
			return Result{}, err
		}
		if !kept {
			return Result{}, &Error{Kind: ErrNotConfirmed, Err: ErrGrantRace,
				What: fmt.Sprintf("%s: another upload stored a different file at %s a moment earlier", g.req.Name, g.Key), Advice: "send the file again"}
		}
	}
	return res, nil
}

// presignedExpiry reads when a presigned URL stops working: its
// X-Amz-Date plus X-Amz-Expires seconds, as the server will read them.
func presignedExpiry(raw string) (time.Time, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return time.Time{}, fmt.Errorf("read the signed URL: %w", err)
	}
	q := u.Query()
	at, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		return time.Time{}, fmt.Errorf("read the signed URL's date: %w", err)
	}
	secs, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil {
		return time.Time{}, fmt.Errorf("read the signed URL's lifetime: %w", err)
	}
	return at.Add(time.Duration(secs) * time.Second), nil
}

// Holds reports whether the object at key is still the content of the
// given size and SHA1 (hex): a HEAD, as before reusing a history entry.
func (u *Uploader) Holds(ctx context.Context, key string, size int64, sha1hex string) (bool, error) {
	var d Digest
	b, err := hex.DecodeString(sha1hex)
	if err != nil || len(b) != len(d.SHA1) {
		return false, fmt.Errorf("check %s: the history's SHA1 %q is not 40 hex digits", key, sha1hex)
	}
	copy(d.SHA1[:], b)
	h, err := u.head(ctx, key, "")
	if err != nil || h == nil {
		return false, err
	}
	return u.matches(h, &localFile{path: key, size: size, dig: fileDigests{whole: d}}) == nil, nil
}
