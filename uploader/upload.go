package uploader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/gabriel-vasile/mimetype"

	"upshot/internal/winname"
)

// objectStore lists the S3 calls the uploader makes; *s3.Client has them.
type objectStore interface {
	PutObject(context.Context, *s3.PutObjectInput, ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	DeleteObject(context.Context, *s3.DeleteObjectInput, ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
	CreateMultipartUpload(context.Context, *s3.CreateMultipartUploadInput, ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(context.Context, *s3.UploadPartInput, ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(context.Context, *s3.CompleteMultipartUploadInput, ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(context.Context, *s3.AbortMultipartUploadInput, ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	ListObjectVersions(context.Context, *s3.ListObjectVersionsInput, ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error)
	GetBucketCors(context.Context, *s3.GetBucketCorsInput, ...func(*s3.Options)) (*s3.GetBucketCorsOutput, error)
	PutBucketCors(context.Context, *s3.PutBucketCorsInput, ...func(*s3.Options)) (*s3.PutBucketCorsOutput, error)
}

var _ objectStore = (*s3.Client)(nil)

// Options configures an [Uploader] beyond its [Config].
type Options struct {
	Client ClientOptions
	// Policy replaces [DefaultPolicy].
	Policy *Policy
	// StateDir, when set, keeps what Upshot learns about the endpoint
	// (which headers it accepts) across runs.
	StateDir string
	// Now replaces time.Now for key templates.
	Now func() time.Time
}

// Uploader uploads files to one target. It is safe for concurrent use; each
// Upload call works on its own file.
type Uploader struct {
	target    Target
	transfer  Transfer
	store     objectStore
	http      *http.Client
	presign   *s3.PresignClient
	tmpl      *KeyTemplate
	caps      *capsStore
	now       func() time.Time
	probeOnce onceErr
	// inboxListen is where the phone inbox serves its page (inbox.listen).
	inboxListen string
}

// New builds an Uploader for a validated config.
func New(cfg *Config, opts Options) (*Uploader, error) {
	tmpl, err := ParseKeyTemplate(cfg.Target.PathTemplate)
	if err != nil {
		return nil, &FieldError{Field: "target.path_template", Problem: err.Error()}
	}
	hc := opts.Client.HTTPClient
	if hc == nil {
		if hc, err = newHTTPClient(opts.Client.CAPEM); err != nil {
			return nil, err
		}
	}
	client := newS3Client(cfg.Target, hc)
	policy := DefaultPolicy
	if opts.Policy != nil {
		policy = *opts.Policy
	}
	u := &Uploader{
		target:   cfg.Target,
		transfer: cfg.Transfer,
		// Every request is retried by the policy, and files and parts
		// share one bound on requests in flight.
		store:   withRetry(withLimit(client, cfg.Transfer.Concurrency), policy),
		http:    hc,
		presign: s3.NewPresignClient(client),
		tmpl:    tmpl,
		now:     time.Now,

		inboxListen: cfg.Inbox.Listen,
	}
	if u.inboxListen == "" {
		u.inboxListen = DefaultInboxListen
	}
	if opts.Now != nil {
		u.now = opts.Now
	}
	capsFile := ""
	if opts.StateDir != "" {
		capsFile = filepath.Join(opts.StateDir, "endpoints.json")
	}
	u.caps = newCapsStore(capsFile)
	return u, nil
}

// Target returns the bucket this uploader writes to.
func (u *Uploader) Target() Target { return u.target }

// Request is one file to upload.
type Request struct {
	Path string
	// Name is the file name used for the key and the link text; default
	// the base name of Path (a clipboard image may have a better one).
	Name string
	// Progress, if set, is called with the bytes sent so far. It is called
	// from the upload's goroutines, possibly several at once.
	Progress func(sent, total int64)
	// StripMetadata uploads JPEG, PNG and WebP files without their Exif,
	// XMP, IPTC and text metadata (losslessly; orientation and colour
	// profile kept). The local file is not changed.
	StripMetadata bool
}

// Result describes a verified upload.
type Result struct {
	File         string `json:"file"`
	Key          string `json:"key"`
	URL          string `json:"url"`
	SHA1         string `json:"sha1"`
	Size         int64  `json:"size"`
	ContentType  string `json:"content_type"`
	Deduplicated bool   `json:"deduplicated"` // an identical object already existed at Key
	Multipart    bool   `json:"multipart"`
	// LinkStatus is "" when links are not verified, else "link verified"
	// or "link broken: <status> — <hint>".
	LinkStatus string `json:"link_status,omitempty"`
	Link       Link   `json:"-"`
}

// localFile is a file opened for upload, hashed once.
type localFile struct {
	r           io.ReaderAt
	path, name  string
	size        int64
	partSize    int64 // > 0 for multipart
	dig         fileDigests
	contentType string
}

// Upload hashes the file once, picks a key that does not overwrite anything
// different, uploads with server-verified SHA1 and Content-MD5, confirms the
// stored object with a HEAD, and returns its link. An identical object
// already at the key is reused. Errors are *Error values with advice.
// It is [Uploader.Prepare] followed by [Uploader.Send] and
// [Uploader.CheckLink].
func (u *Uploader) Upload(ctx context.Context, req Request) (Result, error) {
	p, err := u.Prepare(ctx, req)
	if err != nil {
		return Result{}, err
	}
	defer p.Close()
	res, err := u.Send(ctx, p)
	if err != nil {
		return Result{}, err
	}
	res.LinkStatus = u.CheckLink(ctx, res.URL, res.Size, res.SHA1)
	return res, nil
}

// Prepared is a file opened, hashed and sniffed, ready to send. A caller
// can look at its hash (to skip content it already uploaded) before
// sending. Close it when done; it is not safe for concurrent use.
type Prepared struct {
	f        *os.File
	lf       *localFile
	progress func(sent, total int64)
	orig     origInfo
	cleanup  func() // removes a stripped copy
}

// origInfo describes the local file when what is uploaded differs from it.
type origInfo struct {
	sha1     string
	size     int64
	stripped []string // what metadata was removed
}

// SHA1 is the hex SHA1 of the bytes that will be uploaded.
func (p *Prepared) SHA1() string { return p.lf.dig.whole.SHA1Hex() }

// Size is the number of bytes that will be uploaded.
func (p *Prepared) Size() int64 { return p.lf.size }

// Name is the file name used for the key and the link text.
func (p *Prepared) Name() string { return p.lf.name }

// ContentType is the type sniffed from the content.
func (p *Prepared) ContentType() string { return p.lf.contentType }

// OriginalSHA1 is the hex SHA1 of the local file; it differs from SHA1
// when metadata was stripped. Use it to recognise a file seen before.
func (p *Prepared) OriginalSHA1() string {
	if p.orig.sha1 != "" {
		return p.orig.sha1
	}
	return p.SHA1()
}

// OriginalSize is the local file's size.
func (p *Prepared) OriginalSize() int64 {
	if p.orig.sha1 != "" {
		return p.orig.size
	}
	return p.Size()
}

// Stripped lists the metadata removed before upload ("Exif", "XMP", …).
func (p *Prepared) Stripped() []string { return p.orig.stripped }

// Close releases the file and removes any stripped copy.
func (p *Prepared) Close() error {
	err := p.f.Close()
	if p.cleanup != nil {
		p.cleanup()
	}
	return err
}

// Prepare opens the file and reads it once to hash and sniff it. With
// StripMetadata, a JPEG, PNG or WebP is first copied without its metadata
// to a temporary file, and that copy is what gets hashed and sent.
func (u *Uploader) Prepare(ctx context.Context, req Request) (*Prepared, error) {
	if err := CheckName(req.Path); err != nil {
		return nil, err
	}
	var orig origInfo
	var cleanup func()
	if req.StripMetadata {
		stripped, info, done, err := stripToTemp(req.Path)
		if err != nil {
			return nil, err
		}
		if stripped != "" {
			orig, cleanup = info, done
			name := req.Name
			if name == "" {
				name = filepath.Base(req.Path)
			}
			path := req.Path
			req.Path, req.Name = stripped, name
			f, lf, err := u.open(ctx, req)
			if err != nil {
				cleanup()
				if errors.Is(err, ErrFile) {
					err = &Error{Kind: ErrFile, Err: err, What: path + ": cannot read the stripped copy: " + rootCause(err), Advice: "check free space in the temporary folder"}
				}
				return nil, err
			}
			lf.path = path
			return &Prepared{f: f, lf: lf, progress: req.Progress, orig: orig, cleanup: cleanup}, nil
		}
	}
	f, lf, err := u.open(ctx, req)
	if err != nil {
		return nil, err
	}
	return &Prepared{f: f, lf: lf, progress: req.Progress}, nil
}

// Send uploads a prepared file; see [Uploader.Upload].
func (u *Uploader) Send(ctx context.Context, p *Prepared) (Result, error) {
	lf := p.lf
	key, err := u.tmpl.Render(KeyInput{FileName: lf.name, Time: u.now(), SHA1: lf.dig.whole.SHA1})
	if err != nil {
		return Result{}, &Error{What: fmt.Sprintf("%s: cannot make an object key: %v", lf.path, err), Err: err,
			Advice: "change target.path_template"}
	}
	if err := u.probe(ctx); err != nil {
		return Result{}, err
	}
	res, err := u.place(ctx, lf, key, p.progress)
	if err != nil {
		return Result{}, err
	}
	res.Link = Link{URL: u.ObjectURL(ctx, res.Key), Name: lf.name, ContentType: lf.contentType}
	res.URL = res.Link.URL
	return res, nil
}

// CheckLink fetches a new link and compares it with the upload (see
// [Uploader.VerifyLink]) when the settings ask for that (verify_links,
// on by default with a custom domain); otherwise it returns "". It is kept
// apart from Send so that the link can be handed out as soon as the
// server has confirmed the upload, and checked afterwards.
func (u *Uploader) CheckLink(ctx context.Context, url string, size int64, sha1hex string) string {
	if !u.target.ShouldVerifyLinks() {
		return ""
	}
	return u.VerifyLink(ctx, url, size, sha1hex)
}

// CheckName refuses, before anything opens it, a file this system cannot
// open as a file because of its name: on Windows a name kept for a device
// (CON, AUX, COM1…), whose opening opens the device, or one ending in a
// dot or a space. It returns an *Error of kind [ErrFile], or nil.
func CheckName(path string) error {
	if problem := winname.Check(path); problem != "" {
		return &Error{Kind: ErrFile, Err: errors.New(problem), What: path + ": " + problem, Advice: "rename the file, then upload it again"}
	}
	return nil
}

// busyErr explains a file another program holds locked.
func busyErr(path string, err error) error {
	return &Error{Kind: ErrBusy, Err: err, What: path + ": another program has the file open and locked",
		Advice: "wait until that program has saved and closed it, then upload it again"}
}

// open opens, hashes and sniffs the file. The caller closes f.
func (u *Uploader) open(ctx context.Context, req Request) (f *os.File, lf *localFile, err error) {
	fileErr := func(err error, what, advice string) error {
		return &Error{Kind: ErrFile, Err: err, What: req.Path + ": " + what, Advice: advice}
	}
	f, err = os.Open(req.Path)
	if err != nil {
		switch {
		case isLocked(err):
			return nil, nil, busyErr(req.Path, err)
		case errors.Is(err, os.ErrNotExist):
			return nil, nil, fileErr(err, "no such file", "check the path")
		case errors.Is(err, os.ErrPermission):
			return nil, nil, fileErr(err, "permission denied", "make the file readable (chmod u+r) or run as its owner")
		}
		return nil, nil, fileErr(err, "cannot open: "+rootCause(err), "check the path and permissions")
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err != nil {
		f.Close()
		return nil, nil, fileErr(err, "is not a regular file", "upload files, not folders or devices")
	}
	lf = &localFile{r: f, path: req.Path, name: req.Name, size: fi.Size()}
	if lf.name == "" {
		lf.name = filepath.Base(req.Path)
	}
	if lf.size > u.transfer.MultipartThreshold.bytes() {
		lf.partSize = planPartSize(lf.size, u.transfer.PartSize.bytes())
		if lf.partSize > MaxPartSize {
			f.Close()
			return nil, nil, fileErr(nil, fmt.Sprintf("is %d bytes, more than the store's 10,000 parts of 5 GB can hold", lf.size), "split the file")
		}
	}
	if lf.dig, err = hashFile(ctx, f, lf.size, lf.partSize); err != nil {
		f.Close()
		if ctx.Err() != nil {
			return nil, nil, context.Cause(ctx)
		}
		if isLocked(err) {
			return nil, nil, busyErr(req.Path, err)
		}
		return nil, nil, fileErr(err, "read failed: "+rootCause(err), "check the disk, and that nothing truncates the file while it uploads")
	}
	lf.contentType = sniff(f, lf.name, lf.size)
	return f, lf, nil
}

func (s Size) bytes() int64 { return int64(s) }

// planPartSize keeps the configured part size unless the file would need
// more than 10,000 parts; then it grows, in whole MiB.
func planPartSize(size, want int64) int64 {
	if need := (size + maxParts - 1) / maxParts; need > want {
		return (need + 1<<20 - 1) &^ (1<<20 - 1)
	}
	return want
}

// sniff finds the content type from the bytes, using the extension only
// when the content says nothing more specific.
func sniff(f io.ReaderAt, name string, size int64) string {
	if size == 0 {
		if t := typeByExtension(name); t != "" {
			return t
		}
		return "application/octet-stream"
	}
	m, err := mimetype.DetectReader(io.NewSectionReader(f, 0, size))
	if err != nil {
		return "application/octet-stream"
	}
	t := m.String()
	if m.Is("application/octet-stream") || m.Is("text/plain") {
		if byExt := typeByExtension(name); byExt != "" {
			return byExt
		}
	}
	return t
}

// commonTypes answers for the usual extensions without loading the
// system's MIME database, which mime.TypeByExtension reads on first use.
var commonTypes = map[string]string{
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
	".avif": "image/avif", ".heic": "image/heic", ".svg": "image/svg+xml", ".bmp": "image/bmp", ".tif": "image/tiff",
	".tiff": "image/tiff", ".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm", ".mkv": "video/x-matroska",
	".pdf": "application/pdf", ".zip": "application/zip", ".txt": "text/plain; charset=utf-8", ".md": "text/markdown; charset=utf-8",
	".json": "application/json", ".html": "text/html; charset=utf-8", ".bin": "application/octet-stream",
}

func typeByExtension(name string) string {
	ext := strings.ToLower(filepath.Ext(name))
	if t, ok := commonTypes[ext]; ok {
		return t
	}
	return mime.TypeByExtension(ext)
}

// maxSuffix bounds the name-1, name-2 … search.
const maxSuffix = 1000

// maxRelook bounds how often one upload looks at the same name again
// after the endpoint changed under it (a race's leftover removed, an
// object gone between two looks).
const maxRelook = 3

// place uploads lf at key, or at the first free key-N, or reuses an
// identical object found on the way. See nooverwrite.go for how it never
// replaces a different file.
func (u *Uploader) place(ctx context.Context, lf *localFile, key string, progress func(int64, int64)) (Result, error) {
	relooks := 0
	again := func(n int) int {
		if relooks++; relooks <= maxRelook {
			return n - 1
		}
		return n
	}
	for n := 0; n <= maxSuffix; n++ {
		k := key
		if n > 0 {
			k = withSuffix(key, n)
		}
		res := Result{File: lf.path, Key: k, SHA1: lf.dig.whole.SHA1Hex(), Size: lf.size, ContentType: lf.contentType, Multipart: lf.partSize > 0}
		conditional := u.caps.get(u.target).ConditionalPut == capSupported
		// Without a conditional write we must look first; a multipart upload
		// looks first anyway rather than send gigabytes to be refused.
		if !conditional || lf.partSize > 0 {
			st, err := u.lookAt(ctx, lf, k)
			if err != nil {
				return Result{}, err
			}
			switch st {
			case nameSame:
				res.Deduplicated = true
				return res, nil
			case nameTaken:
				continue
			case nameCleared:
				n = again(n)
				continue
			}
		}
		var vid *string
		var err error
		if lf.partSize > 0 {
			vid, err = u.putMultipart(ctx, lf, k, progress)
		} else {
			vid, err = u.putSingle(ctx, lf, k, progress)
		}
		switch {
		case errors.Is(err, errNoConditional):
			// Learned just now: from here on, look before writing.
			n--
			continue
		case errors.Is(err, errExists):
			st, err := u.lookAt(ctx, lf, k)
			if err != nil {
				return Result{}, err
			}
			switch st {
			case nameSame:
				res.Deduplicated = true
				return res, nil
			case nameFree, nameCleared:
				n = again(n)
			}
			continue
		case err != nil:
			return Result{}, err
		}
		u.learnVersions(vid)
		if !conditional && hasVersionID(vid) {
			kept, err := u.settle(ctx, k, *vid)
			if err != nil {
				return Result{}, err
			}
			if !kept {
				continue // another writer had the name first
			}
		}
		if err := u.confirm(ctx, lf, k, aws.ToString(vid)); err != nil {
			return Result{}, err
		}
		return res, nil
	}
	return Result{}, &Error{What: fmt.Sprintf("%s: %s and %d numbered variants are all taken by other files", lf.path, key, maxSuffix),
		Advice: "add {sha1:8} or {random:6} to target.path_template"}
}

// nameState is what a look at a name found.
type nameState int

const (
	nameFree    nameState = iota // nothing there
	nameSame                     // this file's content, owning the name
	nameTaken                    // a different file
	nameCleared                  // this content, left by a writer that lost a race for the name: removed, look again
)

// lookAt HEADs key and compares what is there with lf. On an endpoint
// without conditional writes, identical content is the name's only when
// it is the version that owns the name (see settle).
func (u *Uploader) lookAt(ctx context.Context, lf *localFile, key string) (nameState, error) {
	h, err := u.head(ctx, key, "")
	if err != nil {
		return 0, err
	}
	if h == nil {
		return nameFree, nil
	}
	if u.matches(h, lf) != nil {
		return nameTaken, nil
	}
	if u.caps.get(u.target).ConditionalPut != capSupported && hasVersionID(h.VersionId) {
		kept, err := u.settle(ctx, key, *h.VersionId)
		if err != nil {
			return 0, err
		}
		if !kept {
			return nameCleared, nil
		}
	}
	return nameSame, nil
}

// errExists means a conditional put found the key taken.
var errExists = errors.New("key exists")

// errNoConditional means the endpoint refused the conditional header just
// now; the write did not happen, and the endpoint is now known to have no
// conditional writes.
var errNoConditional = errors.New("the endpoint has no conditional writes")

// isPreconditionFailed reports a 412 from If-None-Match.
func isPreconditionFailed(err error) bool {
	code, _, status := apiDetails(err)
	return status == 412 || code == "PreconditionFailed"
}

// putInput is the PutObject request for lf at key with the headers in h.
func (u *Uploader) putInput(lf *localFile, key string, h writeHeaders, body io.Reader) *s3.PutObjectInput {
	in := &s3.PutObjectInput{
		Bucket:        &u.target.Bucket,
		Key:           &key,
		Body:          body,
		ContentLength: aws.Int64(lf.size),
		ContentMD5:    aws.String(lf.dig.whole.MD5Base64()),
		ContentType:   &lf.contentType,
		Metadata:      map[string]string{"sha1": lf.dig.whole.SHA1Hex()},
	}
	if u.target.CacheControl != "" {
		in.CacheControl = &u.target.CacheControl
	}
	if h.checksum {
		in.ChecksumSHA1 = aws.String(lf.dig.whole.SHA1Base64())
	}
	if h.conditional {
		in.IfNoneMatch = aws.String("*")
	}
	return in
}

// putSingle sends the file in one PUT (retried as retryStore does) and
// returns the version ID the store gave it (nil when it keeps no
// versions). It returns errExists when If-None-Match found the key taken,
// or when a resend found something at the key, and errNoConditional when
// the endpoint refused If-None-Match.
func (u *Uploader) putSingle(ctx context.Context, lf *localFile, key string, progress func(int64, int64)) (*string, error) {
	var sent atomic.Int64
	var vid *string
	err := u.withHeaderFallback("upload", key, u.writeHeaders(), func(h writeHeaders) error {
		body := newProgressReader(io.NewSectionReader(lf.r, 0, lf.size), &sent, lf.size, progress)
		out, err := u.store.PutObject(ctx, u.putInput(lf, key, h, body))
		if err == nil {
			vid = out.VersionId
		}
		return err
	})
	return vid, err
}

// setIfUnknown records a capability the first time it is learned.
func (s *capsStore) setIfUnknown(t Target, field func(*endpointCaps) *capability, v capability) error {
	c := s.get(t)
	if *field(&c) != capUnknown {
		return nil
	}
	return s.update(t, func(c *endpointCaps) { *field(c) = v })
}

// head returns nil, nil when the key (or, with a version ID, that version
// of it) does not exist.
func (u *Uploader) head(ctx context.Context, key, versionID string) (*s3.HeadObjectOutput, error) {
	var out *s3.HeadObjectOutput
	headOnce := func(withChecksum bool) error {
		in := &s3.HeadObjectInput{Bucket: &u.target.Bucket, Key: &key}
		if versionID != "" {
			in.VersionId = &versionID
		}
		if withChecksum {
			in.ChecksumMode = types.ChecksumModeEnabled
		}
		var err error
		out, err = u.store.HeadObject(ctx, in)
		return err
	}
	withChecksum := u.caps.get(u.target).ChecksumHeader != capUnsupported
	err := headOnce(withChecksum)
	if _, _, status := apiDetails(err); withChecksum && status == 400 {
		// A HEAD error has no body to say why; an endpoint that refuses
		// x-amz-checksum-mode answers 400, so ask again without it.
		if err = headOnce(false); err == nil {
			_ = u.caps.update(u.target, func(c *endpointCaps) { c.ChecksumHeader = capUnsupported })
		}
	}
	if err != nil {
		if _, _, status := apiDetails(err); status == 404 {
			var api smithy.APIError
			if errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket" {
				return nil, u.target.explain("check", key, err)
			}
			return nil, nil
		}
		return nil, u.target.explain("check", key, err)
	}
	return out, nil
}

// matches checks a HEAD against the local file: the size, then the SHA1 the
// server computed (x-amz-checksum-sha1, composite for multipart) or, where
// the server keeps no checksum, the x-amz-meta-sha1 stored with it.
func (u *Uploader) matches(h *s3.HeadObjectOutput, lf *localFile) error {
	if got := aws.ToInt64(h.ContentLength); got != lf.size {
		return fmt.Errorf("the stored object has %d bytes, the file %d", got, lf.size)
	}
	if sum := aws.ToString(h.ChecksumSHA1); sum != "" {
		want := lf.dig.whole.SHA1Base64()
		if lf.partSize > 0 {
			// Stores report a composite checksum with or without its "-N".
			want = compositeSHA1(lf.dig.parts)
			if !strings.Contains(sum, "-") {
				sum += want[strings.LastIndexByte(want, '-'):]
			}
		}
		if sum != want {
			return fmt.Errorf("the stored object's SHA1 checksum %s is not the file's %s", sum, want)
		}
		return nil
	}
	if meta := h.Metadata["sha1"]; meta != "" {
		if !strings.EqualFold(meta, lf.dig.whole.SHA1Hex()) {
			return fmt.Errorf("the stored object's sha1 %s is not the file's %s", meta, lf.dig.whole.SHA1Hex())
		}
		return nil
	}
	// An object from another tool: a single-part ETag is its MD5.
	if lf.partSize == 0 && strings.Trim(aws.ToString(h.ETag), `"`) == fmt.Sprintf("%x", lf.dig.whole.MD5) {
		return nil
	}
	return fmt.Errorf("%w: the server reported neither a SHA1 checksum nor x-amz-meta-sha1", ErrNotConfirmed)
}

// confirm HEADs the object just written (its version, when the store
// named one) and checks it is the file.
func (u *Uploader) confirm(ctx context.Context, lf *localFile, key, versionID string) error {
	h, err := u.head(ctx, key, versionID)
	if err != nil {
		return err
	}
	if h == nil {
		return &Error{Kind: ErrNotConfirmed, What: fmt.Sprintf("%s: the server accepted %s but then could not find it", lf.path, key),
			Advice: "retry; if it persists the endpoint is not storing objects"}
	}
	if err := u.matches(h, lf); err != nil {
		return &Error{Kind: ErrNotConfirmed, Err: err, What: fmt.Sprintf("%s: upload of %s not confirmed: %v", lf.path, key, err),
			Advice: "retry; the upload is not counted as done"}
	}
	return nil
}

// progressReader counts bytes read for a progress callback. Seeking back to
// the start (a retry) takes the count back with it.
type progressReader struct {
	r     *io.SectionReader
	pos   int64
	total *atomic.Int64
	size  int64
	fn    func(int64, int64)
}

func newProgressReader(r *io.SectionReader, total *atomic.Int64, size int64, fn func(int64, int64)) io.ReadSeeker {
	if fn == nil {
		return r
	}
	return &progressReader{r: r, total: total, size: size, fn: fn}
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.pos += int64(n)
	p.fn(p.total.Add(int64(n)), p.size)
	return n, err
}

func (p *progressReader) Seek(off int64, whence int) (int64, error) {
	n, err := p.r.Seek(off, whence)
	if err == nil {
		p.total.Add(n - p.pos)
		p.pos = n
	}
	return n, err
}

// Confirm reports whether key still holds the bytes p would upload, with
// one HEAD: for a file found in the history, before its link is given out
// again. false with a nil error means the object is gone or holds other
// bytes now, so the file should be uploaded again.
func (u *Uploader) Confirm(ctx context.Context, key string, p *Prepared) (bool, error) {
	h, err := u.head(ctx, key, "")
	if err != nil || h == nil {
		return false, err
	}
	return u.matches(h, p.lf) == nil, nil
}
