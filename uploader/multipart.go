package uploader

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
)

// putMultipart uploads lf in parts, transfer.Concurrency at a time, each part
// with its own SHA1 and Content-MD5 for the server to check. Parts stream
// from the file through io.SectionReader, so memory does not grow with the
// file. Any failure aborts the multipart upload, so no orphaned parts are
// left to pay for. It returns the version ID the store gave the object
// (nil when it keeps no versions), and errExists when the completion found
// the key taken. The caller has looked at the key first, so a completion
// whose If-None-Match the endpoint refuses is sent again without it.
func (u *Uploader) putMultipart(ctx context.Context, lf *localFile, key string, progress func(int64, int64)) (*string, error) {
	var uploadID string
	var useChecksum bool
	want := u.writeHeaders()
	err := u.withHeaderFallback("start upload", key, writeHeaders{checksum: want.checksum}, func(h writeHeaders) error {
		useChecksum = h.checksum
		in := &s3.CreateMultipartUploadInput{
			Bucket:      &u.target.Bucket,
			Key:         &key,
			ContentType: &lf.contentType,
			Metadata:    map[string]string{"sha1": lf.dig.whole.SHA1Hex()},
		}
		if u.target.CacheControl != "" {
			in.CacheControl = &u.target.CacheControl
		}
		if h.checksum {
			in.ChecksumAlgorithm = types.ChecksumAlgorithmSha1
		}
		out, err := u.store.CreateMultipartUpload(ctx, in)
		if err == nil {
			uploadID = aws.ToString(out.UploadId)
		}
		return err
	})
	if err != nil {
		return nil, err
	}

	var vid *string
	completed, err := u.uploadParts(ctx, lf, key, uploadID, useChecksum, progress)
	if err == nil {
		complete := func(h writeHeaders) error {
			in := &s3.CompleteMultipartUploadInput{
				Bucket:          &u.target.Bucket,
				Key:             &key,
				UploadId:        &uploadID,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
			}
			if h.conditional {
				in.IfNoneMatch = aws.String("*")
			}
			out, err := u.store.CompleteMultipartUpload(ctx, in)
			if err == nil {
				vid = out.VersionId
			}
			return err
		}
		err = u.withHeaderFallback("finish upload", key, writeHeaders{conditional: want.conditional}, complete)
		if errors.Is(err, errNoConditional) {
			err = u.withHeaderFallback("finish upload", key, writeHeaders{}, complete)
		}
	}
	if err != nil {
		// Abort even when ctx is cancelled: parts left behind are billed.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if _, aerr := u.store.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: &u.target.Bucket, Key: &key, UploadId: &uploadID}); aerr != nil && err != errExists {
			return nil, fmt.Errorf("%w; aborting the multipart upload also failed (%v): unfinished parts may remain in the bucket", err, rootCause(aerr))
		}
		return nil, err
	}
	return vid, nil
}

// uploadParts sends every part, transfer.Concurrency at once, and stops
// scheduling new parts as soon as one fails for good.
func (u *Uploader) uploadParts(ctx context.Context, lf *localFile, key, uploadID string, useChecksum bool, progress func(int64, int64)) ([]types.CompletedPart, error) {
	completed := make([]types.CompletedPart, len(lf.dig.parts))
	var sent atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(u.transfer.Concurrency)
	for i, p := range lf.dig.parts {
		if gctx.Err() != nil {
			break
		}
		num := int32(i + 1)
		off := int64(i) * lf.partSize
		g.Go(func() error {
			in := &s3.UploadPartInput{
				Bucket:        &u.target.Bucket,
				Key:           &key,
				UploadId:      &uploadID,
				PartNumber:    &num,
				Body:          newProgressReader(io.NewSectionReader(lf.r, off, p.Size), &sent, lf.size, progress),
				ContentLength: aws.Int64(p.Size),
				ContentMD5:    aws.String(p.MD5Base64()),
			}
			if useChecksum {
				in.ChecksumSHA1 = aws.String(p.SHA1Base64())
			}
			out, err := u.store.UploadPart(gctx, in)
			if err == nil {
				completed[num-1] = types.CompletedPart{PartNumber: &num, ETag: out.ETag}
				if useChecksum {
					completed[num-1].ChecksumSHA1 = aws.String(p.SHA1Base64())
				}
			}
			return u.target.explain(fmt.Sprintf("upload part %d of", num), key, err)
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return completed, nil
}
