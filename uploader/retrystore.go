package uploader

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// retryStore retries each request to the store it wraps by one Policy, so
// that no call site repeats the loop. A body is rewound before it is sent
// again, and a PUT is sent again only after a look at its key: the last
// attempt may have been stored with its answer lost, and sending it again
// could replace what is there now. It goes outside limitedStore, so that
// waiting between attempts holds no slot.
type retryStore struct {
	next   objectStore
	policy Policy
}

var _ objectStore = (*retryStore)(nil)

func withRetry(next objectStore, p Policy) *retryStore { return &retryStore{next: next, policy: p} }

// again prepares a request to be sent again; an error ends the retries.
type again func(ctx context.Context) error

// retry sends one request until the policy is done with it; op names it in
// retry notices.
func retry[In, Out any](ctx context.Context, r *retryStore, op string, in In, opts []func(*s3.Options), before again,
	f func(context.Context, In, ...func(*s3.Options)) (Out, error)) (Out, error) {
	var out Out
	attempt := 0
	err := r.policy.Do(ctx, op, func(ctx context.Context) error {
		if attempt++; attempt > 1 && before != nil {
			if err := before(ctx); err != nil {
				return err
			}
		}
		var err error
		out, err = f(ctx, in, opts...)
		return err
	})
	return out, err
}

// rewind seeks a body back to its start.
func rewind(body io.Reader) again {
	return func(context.Context) error {
		if s, ok := body.(io.Seeker); ok {
			if _, err := s.Seek(0, io.SeekStart); err != nil {
				return fmt.Errorf("rewind the body to send it again: %w", err)
			}
		}
		return nil
	}
}

func (r *retryStore) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	key := aws.ToString(in.Key)
	look := func(ctx context.Context) error {
		_, err := r.next.HeadObject(ctx, &s3.HeadObjectInput{Bucket: in.Bucket, Key: in.Key})
		if err == nil {
			return errExists
		}
		if _, _, status := apiDetails(err); status != 404 {
			return err
		}
		return rewind(in.Body)(ctx)
	}
	return retry(ctx, r, "upload "+key, in, o, look, r.next.PutObject)
}

func (r *retryStore) HeadObject(ctx context.Context, in *s3.HeadObjectInput, o ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	return retry(ctx, r, "check "+aws.ToString(in.Key), in, o, nil, r.next.HeadObject)
}

func (r *retryStore) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, o ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	op := "delete " + aws.ToString(in.Key)
	if in.VersionId != nil {
		op = "delete a version of " + aws.ToString(in.Key)
	}
	return retry(ctx, r, op, in, o, nil, r.next.DeleteObject)
}

func (r *retryStore) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, o ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	return retry(ctx, r, "start upload "+aws.ToString(in.Key), in, o, nil, r.next.CreateMultipartUpload)
}

func (r *retryStore) UploadPart(ctx context.Context, in *s3.UploadPartInput, o ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	op := fmt.Sprintf("upload part %d of %s", aws.ToInt32(in.PartNumber), aws.ToString(in.Key))
	return retry(ctx, r, op, in, o, rewind(in.Body), r.next.UploadPart)
}

func (r *retryStore) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, o ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	return retry(ctx, r, "finish upload "+aws.ToString(in.Key), in, o, nil, r.next.CompleteMultipartUpload)
}

func (r *retryStore) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, o ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	return retry(ctx, r, "abort upload "+aws.ToString(in.Key), in, o, nil, r.next.AbortMultipartUpload)
}

func (r *retryStore) ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, o ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error) {
	return retry(ctx, r, "list versions of "+aws.ToString(in.Prefix), in, o, nil, r.next.ListObjectVersions)
}

func (r *retryStore) GetBucketCors(ctx context.Context, in *s3.GetBucketCorsInput, o ...func(*s3.Options)) (*s3.GetBucketCorsOutput, error) {
	return retry(ctx, r, "read the CORS rules of "+aws.ToString(in.Bucket), in, o, nil, r.next.GetBucketCors)
}

// PutBucketCors is sent again as it is: it replaces the whole rule set, so
// a second write of the same set changes nothing.
func (r *retryStore) PutBucketCors(ctx context.Context, in *s3.PutBucketCorsInput, o ...func(*s3.Options)) (*s3.PutBucketCorsOutput, error) {
	return retry(ctx, r, "write the CORS rules of "+aws.ToString(in.Bucket), in, o, nil, r.next.PutBucketCors)
}
