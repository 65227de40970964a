package uploader

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// limitedStore bounds the requests in flight to the store it wraps: the
// files being uploaded and the parts of large ones share one bound
// (transfer.concurrency), so four files of four parts each never make
// sixteen PUTs at once. A request waits for a slot or for its context.
type limitedStore struct {
	next  objectStore
	slots chan struct{}
}

var _ objectStore = (*limitedStore)(nil)

func withLimit(next objectStore, n int) *limitedStore {
	return &limitedStore{next: next, slots: make(chan struct{}, max(n, 1))}
}

// call runs one request in a slot.
func call[In, Out any](ctx context.Context, l *limitedStore, in In, opts []func(*s3.Options),
	f func(context.Context, In, ...func(*s3.Options)) (Out, error)) (Out, error) {
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		var zero Out
		return zero, context.Cause(ctx)
	}
	defer func() { <-l.slots }()
	return f(ctx, in, opts...)
}

func (l *limitedStore) PutObject(ctx context.Context, in *s3.PutObjectInput, o ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	return call(ctx, l, in, o, l.next.PutObject)
}

func (l *limitedStore) HeadObject(ctx context.Context, in *s3.HeadObjectInput, o ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	return call(ctx, l, in, o, l.next.HeadObject)
}

func (l *limitedStore) DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, o ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	return call(ctx, l, in, o, l.next.DeleteObject)
}

func (l *limitedStore) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, o ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	return call(ctx, l, in, o, l.next.CreateMultipartUpload)
}

func (l *limitedStore) UploadPart(ctx context.Context, in *s3.UploadPartInput, o ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	return call(ctx, l, in, o, l.next.UploadPart)
}

func (l *limitedStore) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, o ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	return call(ctx, l, in, o, l.next.CompleteMultipartUpload)
}

func (l *limitedStore) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, o ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	return call(ctx, l, in, o, l.next.AbortMultipartUpload)
}

func (l *limitedStore) ListObjectVersions(ctx context.Context, in *s3.ListObjectVersionsInput, o ...func(*s3.Options)) (*s3.ListObjectVersionsOutput, error) {
	return call(ctx, l, in, o, l.next.ListObjectVersions)
}

func (l *limitedStore) GetBucketCors(ctx context.Context, in *s3.GetBucketCorsInput, o ...func(*s3.Options)) (*s3.GetBucketCorsOutput, error) {
	return call(ctx, l, in, o, l.next.GetBucketCors)
}

func (l *limitedStore) PutBucketCors(ctx context.Context, in *s3.PutBucketCorsInput, o ...func(*s3.Options)) (*s3.PutBucketCorsOutput, error) {
	return call(ctx, l, in, o, l.next.PutBucketCors)
}
