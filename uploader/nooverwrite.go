package uploader

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// How Upshot never overwrites a different file, on two kinds of endpoint:
//
//   - With conditional writes (S3, versitygw, MinIO): every write carries
//     If-None-Match: *, and a 412 means the name is taken.
//   - Without them (B2 answers such a write 501 NotImplemented): Upshot
//     looks with a HEAD before it writes, and, where the bucket keeps
//     versions, lists the name's versions after it writes. Among the
//     versions written since the name was last free, the oldest keeps the
//     name; a writer whose version is younger lost a race, deletes its own
//     version (which brings the older one back) and moves on to the next
//     free name. Every Upshot applies the same rule, so no file stays
//     hidden behind another.

// writeHeaders says which optional headers a write carries.
type writeHeaders struct {
	// checksum: x-amz-checksum-sha1 on a PUT or part, the checksum
	// algorithm on CreateMultipartUpload.
	checksum bool
	// conditional: If-None-Match: * on a PUT or CompleteMultipartUpload.
	conditional bool
}

// writeHeaders returns the optional headers this endpoint is not known to
// refuse.
func (u *Uploader) writeHeaders() writeHeaders {
	c := u.caps.get(u.target)
	return writeHeaders{checksum: c.ChecksumHeader != capUnsupported, conditional: c.ConditionalPut != capUnsupported}
}

// withHeaderFallback runs write with the headers in h. When the endpoint
// refuses one of them as unsupported, it remembers that for the endpoint.
// A refused checksum header is dropped and the write runs again, so the
// upload in flight does not fail; a refused conditional header returns
// errNoConditional, since the caller must look before it writes without
// one. A 412 from a conditional write becomes errExists; other errors are
// explained as op on key.
func (u *Uploader) withHeaderFallback(op, key string, h writeHeaders, write func(writeHeaders) error) error {
	for {
		err := write(h)
		switch {
		case err == nil:
			if h.checksum {
				_ = u.caps.setIfUnknown(u.target, func(c *endpointCaps) *capability { return &c.ChecksumHeader }, capSupported)
			}
			return nil
		case errors.Is(err, errExists):
			return errExists
		case h.conditional && isPreconditionFailed(err):
			_ = u.caps.setIfUnknown(u.target, func(c *endpointCaps) *capability { return &c.ConditionalPut }, capSupported)
			return errExists
		}
		switch refusedHeader(err, h) {
		case refusedConditional:
			// Failing to save the cache only costs this fallback next run.
			_ = u.caps.update(u.target, func(c *endpointCaps) { c.ConditionalPut = capUnsupported })
			return errNoConditional
		case refusedChecksum:
			_ = u.caps.update(u.target, func(c *endpointCaps) { c.ChecksumHeader = capUnsupported })
			h.checksum = false
		default:
			return u.target.explain(op, key, err)
		}
	}
}

type refusal int

const (
	refusedNothing refusal = iota
	refusedConditional
	refusedChecksum
)

// digestCodes are 400 answers about the body, not about a header: sending
// the same headers again is right for them.
var digestCodes = map[string]bool{
	"BadDigest": true, "InvalidDigest": true, "XAmzContentChecksumMismatch": true, "XAmzContentSHA256Mismatch": true,
	"InvalidChecksum": true, "IncompleteBody": true, "EntityTooSmall": true, "EntityTooLarge": true,
	"InvalidPart": true, "InvalidPartOrder": true, "MalformedXML": true,
}

// refusedHeader decides, by status, whether err refuses one of the
// optional headers h carried, and which. A 501 NotImplemented or a 400
// that is not about the body means "this endpoint does not do that"; the
// message, where there is one, says which header, and otherwise a 501
// points at the conditional header (B2's answer to If-None-Match) and a
// 400 at the checksum header (B2's answer to x-amz-checksum-*).
func refusedHeader(err error, h writeHeaders) refusal {
	code, msg, status := apiDetails(err)
	if status != 501 && (status != 400 || digestCodes[code]) {
		return refusedNothing
	}
	m := strings.ToLower(msg)
	switch {
	case h.conditional && (strings.Contains(m, "if-none-match") || strings.Contains(m, "if-match") || strings.Contains(m, "conditional")):
		return refusedConditional
	case h.checksum && strings.Contains(m, "checksum"):
		return refusedChecksum
	case h.conditional && status == 501:
		return refusedConditional
	case h.checksum:
		return refusedChecksum
	case h.conditional && m == "":
		return refusedConditional
	}
	return refusedNothing
}

// hasVersionID reports whether a write's answer named a real version.
func hasVersionID(v *string) bool {
	id := aws.ToString(v)
	return id != "" && id != "null"
}

// learnVersions remembers whether the bucket keeps versions, from the
// version ID a write returned.
func (u *Uploader) learnVersions(versionID *string) {
	c := capUnsupported
	if hasVersionID(versionID) {
		c = capSupported
	}
	if u.caps.get(u.target).Versions != c {
		_ = u.caps.update(u.target, func(ec *endpointCaps) { ec.Versions = c })
	}
}

// errVersionGone means the version being settled is no longer there:
// another writer undid it.
var errVersionGone = errors.New("version gone")

// settle applies the rule above to version vid of key, just written or
// found there: it reports whether vid keeps the name. When it does not, it
// deletes vid, which brings the older version back. A version that is
// already gone does not keep the name either.
func (u *Uploader) settle(ctx context.Context, key, vid string) (kept bool, err error) {
	owner, err := u.nameOwner(ctx, key, vid)
	if errors.Is(err, errVersionGone) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if owner == vid {
		return true, nil
	}
	if err := u.deleteVersion(context.WithoutCancel(ctx), key, vid); err != nil {
		return false, &Error{Kind: ErrAccessDenied, Err: err,
			What:   fmt.Sprintf("another writer stored a different file at %s a moment earlier, and Upshot could not take its own copy back: %s", key, rootCause(err)),
			Advice: "give the application key deleteFiles, or add {sha1:8} to target.path_template so that two files never share a name"}
	}
	return false, nil
}

// objectVersion is one entry of a name's version history.
type objectVersion struct {
	id     string
	at     time.Time
	marker bool // a delete (B2: hide) marker
}

// nameOwner lists the versions of key and returns the ID of the oldest one
// written since the name was last free (since the newest delete marker
// older than vid). It returns errVersionGone when vid is not listed.
func (u *Uploader) nameOwner(ctx context.Context, key, vid string) (string, error) {
	versions, err := u.listVersions(ctx, key)
	if err != nil {
		return "", err
	}
	i := slices.IndexFunc(versions, func(v objectVersion) bool { return !v.marker && v.id == vid })
	if i < 0 {
		return "", errVersionGone
	}
	// versions run newest first; walk back from vid to the name's last
	// delete marker.
	owner := vid
	for _, v := range versions[i+1:] {
		if v.marker {
			break
		}
		owner = v.id
	}
	return owner, nil
}

// listVersions returns every version and delete marker of exactly key,
// newest first, in the store's order for versions.
func (u *Uploader) listVersions(ctx context.Context, key string) ([]objectVersion, error) {
	var versions, markers []objectVersion
	in := &s3.ListObjectVersionsInput{Bucket: &u.target.Bucket, Prefix: &key}
	for {
		out, err := u.store.ListObjectVersions(ctx, in)
		if err != nil {
			return nil, u.target.explainList(key, err)
		}
		for _, v := range out.Versions {
			if aws.ToString(v.Key) == key {
				versions = append(versions, objectVersion{id: aws.ToString(v.VersionId), at: aws.ToTime(v.LastModified)})
			}
		}
		for _, m := range out.DeleteMarkers {
			if aws.ToString(m.Key) == key {
				markers = append(markers, objectVersion{id: aws.ToString(m.VersionId), at: aws.ToTime(m.LastModified), marker: true})
			}
		}
		// Keys come in order and key is a prefix of the others, so once the
		// listing has moved past key there is nothing more of it.
		if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextKeyMarker) != key {
			break
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
	// Place each marker before the first version it is newer than.
	for _, m := range markers {
		i := slices.IndexFunc(versions, func(v objectVersion) bool { return !v.marker && m.at.After(v.at) })
		if i < 0 {
			i = len(versions)
		}
		versions = slices.Insert(versions, i, m)
	}
	return versions, nil
}

// explainList explains a failed version listing; on B2 it needs the
// listFiles capability.
func (t Target) explainList(key string, err error) error {
	e := t.explain("list versions of", key, err)
	if errors.Is(e, ErrAccessDenied) {
		return &Error{Kind: ErrAccessDenied, Err: err,
			What:   fmt.Sprintf("list versions of %s: access denied, so Upshot cannot tell whether another writer raced it for the name", key),
			Advice: "give the application key listFiles (B2's read and write keys have it)"}
	}
	return e
}

// deleteVersion deletes one version of key; one that is already gone is
// not an error.
func (u *Uploader) deleteVersion(ctx context.Context, key, vid string) error {
	_, err := u.store.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &u.target.Bucket, Key: &key, VersionId: &vid})
	if code, _, status := apiDetails(err); status == 404 || code == "NoSuchVersion" || code == "NoSuchKey" {
		return nil
	}
	return u.target.explain("delete a version of", key, err)
}
