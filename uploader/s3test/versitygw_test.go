package s3test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestVersitygwFacts pins down what the uploader may rely on in versitygw
// v1.8.0, so that an upgrade that changes it fails here first. B2 differs
// where noted.
func TestVersitygwFacts(t *testing.T) {
	t.Parallel()
	srv := Start(t, Options{TLS: true})
	c, ctx, bucket := srv.Client(), t.Context(), &srv.Bucket
	body := []byte("hello world")
	sum, m := sha1.Sum(body), md5.Sum(body)
	wrong := sha1.Sum([]byte("other"))

	t.Run("If-None-Match on PutObject", func(t *testing.T) {
		in := func() *s3.PutObjectInput {
			return &s3.PutObjectInput{Bucket: bucket, Key: aws.String("inm"), Body: bytes.NewReader(body), IfNoneMatch: aws.String("*")}
		}
		if _, err := c.PutObject(ctx, in()); err != nil {
			t.Fatalf("first conditional put: %v", err)
		}
		if _, err := c.PutObject(ctx, in()); apiCode(err) != "PreconditionFailed" {
			t.Fatalf("second conditional put: %v, want 412 PreconditionFailed", err)
		}
	})

	t.Run("checksums verified", func(t *testing.T) {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("bad-sha1"), Body: bytes.NewReader(body), ChecksumSHA1: aws.String(b64(wrong[:]))})
		if apiCode(err) != "BadDigest" {
			t.Errorf("wrong x-amz-checksum-sha1: %v, want BadDigest", err)
		}
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("bad-md5"), Body: bytes.NewReader(body), ContentMD5: aws.String(b64(wrong[:16]))})
		if apiCode(err) != "BadDigest" {
			t.Errorf("wrong Content-MD5: %v, want BadDigest", err)
		}
	})

	t.Run("SHA1 on HEAD", func(t *testing.T) {
		key := aws.String("sha1")
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: key, Body: bytes.NewReader(body),
			ChecksumSHA1: aws.String(b64(sum[:])), ContentMD5: aws.String(b64(m[:])), Metadata: map[string]string{"sha1": "hex"}})
		if err != nil {
			t.Fatal(err)
		}
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: key, ChecksumMode: types.ChecksumModeEnabled})
		if err != nil || aws.ToString(h.ChecksumSHA1) != b64(sum[:]) || h.ChecksumType != types.ChecksumTypeFullObject || h.Metadata["sha1"] != "hex" {
			t.Fatalf("HEAD with checksum mode: %+v, %v", h, err)
		}
		// Only on request, as on AWS. (B2 refuses x-amz-checksum-mode.)
		h, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: key})
		if err != nil || h.ChecksumSHA1 != nil {
			t.Fatalf("HEAD without checksum mode: ChecksumSHA1 %v, %v; want none", aws.ToString(h.ChecksumSHA1), err)
		}
	})

	t.Run("multipart", func(t *testing.T) {
		key := aws.String("mp")
		cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key, ChecksumAlgorithm: types.ChecksumAlgorithmSha1})
		if err != nil {
			t.Fatal(err)
		}
		var parts []types.CompletedPart
		var sums []byte
		for i, p := range [][]byte{bytes.Repeat([]byte("a"), 5<<20), []byte("tail")} {
			s := sha1.Sum(p)
			sums = append(sums, s[:]...)
			n := aws.Int32(int32(i + 1))
			up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: key, UploadId: cr.UploadId, PartNumber: n, Body: bytes.NewReader(p), ChecksumSHA1: aws.String(b64(s[:]))})
			if err != nil {
				t.Fatalf("UploadPart %d: %v", *n, err)
			}
			parts = append(parts, types.CompletedPart{ETag: up.ETag, PartNumber: n, ChecksumSHA1: up.ChecksumSHA1})
		}
		_, err = c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: key, UploadId: cr.UploadId, PartNumber: aws.Int32(3), Body: bytes.NewReader(body), ChecksumSHA1: aws.String(b64(wrong[:]))})
		if apiCode(err) != "BadDigest" {
			t.Errorf("UploadPart with a wrong SHA1: %v, want BadDigest", err)
		}
		complete := func(id *string, parts []types.CompletedPart) error {
			_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: key, UploadId: id,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}, IfNoneMatch: aws.String("*")})
			return err
		}
		if err := complete(cr.UploadId, parts); err != nil {
			t.Fatalf("CompleteMultipartUpload with If-None-Match: %v", err)
		}
		whole := sha1.Sum(sums)
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: key, ChecksumMode: types.ChecksumModeEnabled})
		if want := b64(whole[:]) + "-2"; err != nil || aws.ToString(h.ChecksumSHA1) != want || h.ChecksumType != types.ChecksumTypeComposite {
			t.Errorf("HEAD of the multipart object: SHA1 %q type %q, %v; want composite %q", aws.ToString(h.ChecksumSHA1), h.ChecksumType, err, want)
		}

		// A second upload of the same key loses at completion.
		cr2, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: key, UploadId: cr2.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		if err := complete(cr2.UploadId, []types.CompletedPart{{ETag: up.ETag, PartNumber: aws.Int32(1)}}); apiCode(err) != "PreconditionFailed" {
			t.Errorf("CompleteMultipartUpload over an existing key with If-None-Match: %v, want 412 PreconditionFailed", err)
		}
	})

	t.Run("minimum part size", func(t *testing.T) {
		// versitygw wants 5 MiB (5,242,880 bytes) for every part but the
		// last, and says so only at completion; B2's minimum is 5,000,000.
		key := aws.String("small-parts")
		for _, tc := range []struct {
			size int
			code string
		}{{5_000_000, "EntityTooSmall"}, {5 << 20, ""}} {
			cr, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bucket, Key: key})
			if err != nil {
				t.Fatal(err)
			}
			var parts []types.CompletedPart
			for i, p := range [][]byte{make([]byte, tc.size), body} {
				n := aws.Int32(int32(i + 1))
				up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: bucket, Key: key, UploadId: cr.UploadId, PartNumber: n, Body: bytes.NewReader(p)})
				if err != nil {
					t.Fatalf("UploadPart %d of %d bytes: %v", *n, len(p), err)
				}
				parts = append(parts, types.CompletedPart{ETag: up.ETag, PartNumber: n})
			}
			_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: bucket, Key: key, UploadId: cr.UploadId,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
			if apiCode(err) != tc.code {
				t.Errorf("complete with a first part of %d bytes: %v, want code %q", tc.size, err, tc.code)
			}
			if err != nil {
				_, _ = c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: bucket, Key: key, UploadId: cr.UploadId})
			}
		}
	})

	t.Run("dot segments collapse", func(t *testing.T) {
		// S3 and B2 keep "a/../b" as a key; versitygw maps keys to files.
		for _, key := range []string{"dots/x/../b.png", "dots/./c.png", "dots//d.png"} {
			if err := putObject(ctx, c, srv.Bucket, key, body); err != nil {
				t.Fatalf("PutObject %q: %v", key, err)
			}
		}
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, Prefix: aws.String("dots/")})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		if want := []string{"dots/b.png", "dots/c.png", "dots/d.png"}; !slices.Equal(keys, want) {
			t.Errorf("listed %q, want %q", keys, want)
		}
	})
}

// TestVersitygwVersioningFacts pins down the versions the race detection
// relies on, as B2 keeps them: every write of a name is a version with its
// own ID, ListObjectVersions lists a name's versions newest first, a HEAD
// can ask for one version, and deleting the current version brings back
// the one before it.
func TestVersitygwVersioningFacts(t *testing.T) {
	t.Parallel()
	srv := Start(t, Options{Versioning: true})
	c, ctx, bucket := srv.Client(), t.Context(), &srv.Bucket
	key := aws.String("2026/11/shot.png")
	var ids []string
	for _, body := range []string{"first", "second", "third"} {
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: key, Body: bytes.NewReader([]byte(body))})
		if err != nil {
			t.Fatal(err)
		}
		if v := aws.ToString(out.VersionId); v == "" || v == "null" || slices.Contains(ids, v) {
			t.Fatalf("write %q got version ID %q (earlier %v): want a new one", body, v, ids)
		}
		ids = append(ids, aws.ToString(out.VersionId))
	}
	// A longer key with key as its prefix is listed after it.
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(*key + ".txt"), Body: bytes.NewReader(nil)}); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: bucket, Prefix: key})
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, v := range list.Versions {
		if aws.ToString(v.Key) == *key {
			listed = append(listed, aws.ToString(v.VersionId))
		}
	}
	if want := []string{ids[2], ids[1], ids[0]}; !slices.Equal(listed, want) {
		t.Fatalf("versions listed %v, want newest first %v", listed, want)
	}
	h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: key, VersionId: &ids[0]})
	if err != nil || aws.ToInt64(h.ContentLength) != int64(len("first")) || aws.ToString(h.VersionId) != ids[0] {
		t.Fatalf("HEAD of the first version: %+v, %v", h, err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: key, VersionId: &ids[2]}); err != nil {
		t.Fatal(err)
	}
	h, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: bucket, Key: key})
	if err != nil || aws.ToString(h.VersionId) != ids[1] {
		t.Fatalf("after deleting the newest version, HEAD: %+v, %v; want version %s back", h, err, ids[1])
	}
	// A plain delete leaves a delete marker (B2: a hide marker) and keeps
	// the versions.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: key}); err != nil {
		t.Fatal(err)
	}
	list, err = c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: bucket, Prefix: key})
	if err != nil || len(list.DeleteMarkers) != 1 || len(list.Versions) != 3 {
		t.Fatalf("after a plain delete: %d markers, %d versions (%v); want 1 and 3 (two of the name, one of the .txt)", len(list.DeleteMarkers), len(list.Versions), err)
	}
}
