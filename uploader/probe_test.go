package uploader

import (
	"crypto/sha1"
	"encoding/hex"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestPutProbe: the probe object is in the bucket with the SHA1 it says,
// under the template's prefix, and gone after its removal, also where the
// bucket keeps versions (the B2-like proxy).
func TestPutProbe(t *testing.T) {
	for _, b2 := range []bool{false, true} {
		e := newEnv(t, envOptions{b2: b2, edit: func(c *Config) { c.Target.PathTemplate = "shots/{name}{ext}" }})
		up := e.newUploader(t, testPolicy(), nil)
		p, remove, err := up.PutProbe(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(p.Key, "shots/.upshot-probe-") || !strings.Contains(p.URL, "/shots/") {
			t.Fatalf("probe %+v", p)
		}
		obj, err := e.srv.Client().GetObject(t.Context(), &s3.GetObjectInput{Bucket: &e.srv.Bucket, Key: &p.Key})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		if sum := sha1.Sum(body); hex.EncodeToString(sum[:]) != p.SHA1 {
			t.Fatalf("the probe's SHA1 %s is not its content's", p.SHA1)
		}
		if err := remove(t.Context()); err != nil {
			t.Fatal(err)
		}
		if _, err := e.srv.Client().HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: &e.srv.Bucket, Key: &p.Key}); err == nil {
			t.Fatalf("b2=%v: the probe is still there", b2)
		}
	}
}
