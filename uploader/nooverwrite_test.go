package uploader

import (
	"strings"
	"testing"
)

var (
	both         = writeHeaders{checksum: true, conditional: true}
	onlyChecksum = writeHeaders{checksum: true}
	onlyCond     = writeHeaders{conditional: true}
)

func TestRefusedHeader(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		h    writeHeaders
		want refusal
	}{
		{"B2 501 on If-None-Match", apiErr(501, "NotImplemented", "A header you provided implies functionality that is not implemented"), both, refusedConditional},
		{"B2 400 on a checksum header", apiErr(400, "InvalidArgument", "Unsupported header 'x-amz-checksum-sha1' received for this API call."), both, refusedChecksum},
		{"a 400 naming If-None-Match", apiErr(400, "InvalidArgument", "Unsupported header 'If-None-Match'"), both, refusedConditional},
		{"a 501 naming the checksum", apiErr(501, "NotImplemented", "x-amz-checksum-sha1 is not implemented"), both, refusedChecksum},
		{"a 501 with only the checksum sent", apiErr(501, "NotImplemented", ""), onlyChecksum, refusedChecksum},
		{"a bare 400 with both sent: by status, the checksum", apiErr(400, "", ""), both, refusedChecksum},
		{"a bare 400 with only If-None-Match sent", apiErr(400, "", ""), onlyCond, refusedConditional},
		{"a 400 about something else, only If-None-Match sent", apiErr(400, "InvalidArgument", "Metadata too large"), onlyCond, refusedNothing},
		{"a damaged body is not a refusal", apiErr(400, "BadDigest", "The Content-MD5 you specified did not match"), both, refusedNothing},
		{"sha1 mismatch is not a refusal", apiErr(400, "XAmzContentChecksumMismatch", "checksum mismatch"), both, refusedNothing},
		{"412 is an answer, not a refusal", apiErr(412, "PreconditionFailed", ""), both, refusedNothing},
		{"403", apiErr(403, "AccessDenied", ""), both, refusedNothing},
		{"503", apiErr(503, "SlowDown", ""), both, refusedNothing},
		{"nothing optional was sent", apiErr(501, "NotImplemented", ""), writeHeaders{}, refusedNothing},
	} {
		if got := refusedHeader(c.err, c.h); got != c.want {
			t.Errorf("%s: refusedHeader = %v, want %v", c.name, got, c.want)
		}
	}
}

// A 501 is explained as a missing feature, never with "try again later".
func TestExplain501(t *testing.T) {
	err := Target{Endpoint: "https://s3.us-west-004.backblazeb2.com", Bucket: "b"}.explain("upload", "k",
		apiErr(501, "NotImplemented", "A header you provided implies functionality that is not implemented"))
	msg := err.Error()
	if strings.Contains(msg, "try again later") || !strings.Contains(msg, "does not implement") || !strings.Contains(msg, "will not help") {
		t.Fatalf("501 explained as %q", msg)
	}
}

func TestTemplateUnique(t *testing.T) {
	for src, want := range map[string]bool{
		"{year}/{month}/{name}{ext}":        false,
		"{year}/{name}-{sha1:8}{ext}":       true,
		"{year}/{name}-{sha1:4}{ext}":       false,
		"{random:12}{ext}":                  true,
		"{uuid}{ext}":                       true,
		"shots/{name}-{random:6}{ext}":      false,
		"{year}/{month}/{sha1}/{name}{ext}": true,
	} {
		tmpl, err := ParseKeyTemplate(src)
		if err != nil {
			t.Fatal(err)
		}
		if got := tmpl.Unique(); got != want {
			t.Errorf("%s: Unique = %v, want %v", src, got, want)
		}
	}
}
