package uploader

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"upshot/internal/metastrip"
)

// stripToTemp copies a JPEG, PNG or WebP at path without its metadata into
// a temporary file. It returns "" when there is nothing to strip (another
// type, or no metadata), so the original is uploaded as it is. A photo that
// cannot be parsed is refused rather than uploaded with its metadata.
func stripToTemp(path string) (stripped string, orig origInfo, cleanup func(), err error) {
	fileErr := func(err error, what, advice string) error {
		return &Error{Kind: ErrFile, Err: err, What: path + ": " + what, Advice: advice}
	}
	f, err := os.Open(path)
	if err != nil {
		// open() reports this with the right advice.
		return "", origInfo{}, nil, nil
	}
	defer f.Close()
	head := make([]byte, 16)
	n, _ := io.ReadFull(f, head)
	switch metastrip.Detect(head[:n]) {
	case "":
		return "", origInfo{}, nil, nil
	case "png":
		// Most screenshots: a look at the chunk headers shows there is
		// nothing to strip, without copying the file.
		if metastrip.Clean(f) {
			return "", origInfo{}, nil, nil
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", origInfo{}, nil, fileErr(err, "cannot read: "+rootCause(err), "check the file")
	}
	tmp, err := os.CreateTemp("", "upshot-stripped-*")
	if err != nil {
		return "", origInfo{}, nil, fileErr(err, "cannot make a temporary copy without metadata: "+rootCause(err), "check free space in "+os.TempDir())
	}
	remove := func() { os.Remove(tmp.Name()) }
	// One read of the original feeds both the stripper and the hash that
	// identifies the file in the history.
	h := sha1.New()
	src := &countingReader{r: io.TeeReader(f, h)}
	res, err := metastrip.Strip(tmp, src)
	if err == nil {
		// Strip may stop at the end of the image; hash any trailing bytes.
		_, err = io.Copy(io.Discard, src)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		remove()
		if errors.Is(err, metastrip.ErrCorrupt) {
			return "", origInfo{}, nil, fileErr(err, fmt.Sprintf("cannot remove its metadata: %v", err),
				"the image looks damaged; to upload it as it is, set keep_metadata for its folder or [privacy] strip_metadata = false")
		}
		return "", origInfo{}, nil, fileErr(err, "cannot write a copy without metadata: "+rootCause(err), "check free space in "+os.TempDir())
	}
	if !res.Changed {
		remove()
		return "", origInfo{}, nil, nil
	}
	return tmp.Name(), origInfo{sha1: hex.EncodeToString(h.Sum(nil)), size: src.n, stripped: res.Removed}, remove, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
