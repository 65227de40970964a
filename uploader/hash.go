package uploader

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"sync"
)

// Digest is what the server is asked to verify for one body: its size, SHA1
// and MD5.
type Digest struct {
	Size int64
	SHA1 [sha1.Size]byte
	MD5  [md5.Size]byte
}

// SHA1Hex is the SHA1 in lower-case hex, as stored in x-amz-meta-sha1.
func (d Digest) SHA1Hex() string { return hex.EncodeToString(d.SHA1[:]) }

// SHA1Base64 is the SHA1 as x-amz-checksum-sha1 carries it.
func (d Digest) SHA1Base64() string { return base64.StdEncoding.EncodeToString(d.SHA1[:]) }

// MD5Base64 is the MD5 as Content-MD5 carries it.
func (d Digest) MD5Base64() string { return base64.StdEncoding.EncodeToString(d.MD5[:]) }

// compositeSHA1 is the checksum S3 reports for a multipart object uploaded
// with per-part SHA1s: the SHA1 of the concatenated part SHA1s, then "-N".
func compositeSHA1(parts []Digest) string {
	h := sha1.New()
	for _, p := range parts {
		h.Write(p.SHA1[:])
	}
	return fmt.Sprintf("%s-%d", base64.StdEncoding.EncodeToString(h.Sum(nil)), len(parts))
}

// hashBlockSize is the largest read of the hashing pass. Blocks never
// straddle a part boundary.
const hashBlockSize = 1 << 20

// blockPool recycles hashing buffers across files, so a burst of small
// files does not allocate (and collect) megabytes per file.
var blockPool = sync.Pool{New: func() any { return new([hashBlockSize]byte) }}

// fileDigests is the result of the single hashing pass over a file.
type fileDigests struct {
	whole Digest   // SHA1 of the whole file; MD5 only when there are no parts
	parts []Digest // per-part SHA1 and MD5 when partSize > 0
}

// hashFile reads r (size bytes) once and computes the whole file's SHA1 and,
// either the whole file's MD5 (partSize == 0) or each part's SHA1 and MD5.
// SHA1 and MD5 run on two goroutines over shared read buffers, so the pass
// runs at the speed of the slower hash, not the sum of both.
func hashFile(ctx context.Context, r io.ReaderAt, size, partSize int64) (fileDigests, error) {
	var out fileDigests
	out.whole.Size = size
	if partSize > 0 {
		n := (size + partSize - 1) / partSize
		out.parts = make([]Digest, n)
		for i := range out.parts {
			out.parts[i].Size = min(partSize, size-int64(i)*partSize)
		}
	}

	type block struct {
		buf  []byte
		part int // index into out.parts, or -1
		last bool
	}
	// Small files use one block; larger ones keep four in flight so
	// reading and both hashes overlap.
	inFlight := 4
	if size <= hashBlockSize {
		inFlight = 1
	}
	free := make(chan []byte, inFlight)
	var owned []*[hashBlockSize]byte
	for range inFlight {
		b := blockPool.Get().(*[hashBlockSize]byte)
		owned = append(owned, b)
		free <- b[:]
	}
	defer func() {
		for _, b := range owned {
			blockPool.Put(b)
		}
	}()
	done := make(chan []byte, 2*inFlight)
	shaC := make(chan block, inFlight)
	md5C := make(chan block, inFlight)

	wholeSHA := sha1.New()
	var wg sync.WaitGroup
	// Each worker owns its hashes; a buffer goes back to the pool once both
	// workers have seen it.
	worker := func(in <-chan block, sum func(b block, h hash.Hash), perPart func() hash.Hash, finish func(part int, h hash.Hash)) {
		defer wg.Done()
		var h hash.Hash
		for b := range in {
			if h == nil {
				h = perPart()
			}
			sum(b, h)
			if b.last {
				finish(b.part, h)
				h = nil
			}
			done <- b.buf
		}
	}
	wg.Add(2)
	go worker(shaC, func(b block, h hash.Hash) {
		wholeSHA.Write(b.buf)
		if b.part >= 0 {
			h.Write(b.buf)
		}
	}, sha1.New, func(part int, h hash.Hash) {
		if part >= 0 {
			h.Sum(out.parts[part].SHA1[:0])
		}
	})
	go worker(md5C, func(b block, h hash.Hash) { h.Write(b.buf) }, md5.New, func(part int, h hash.Hash) {
		if part >= 0 {
			h.Sum(out.parts[part].MD5[:0])
		} else {
			h.Sum(out.whole.MD5[:0])
		}
	})

	// refs counts how many workers still hold each buffer.
	refs := map[*byte]int{}
	recycle := func(buf []byte) {
		p := &buf[:1][0]
		refs[p]--
		if refs[p] == 0 {
			delete(refs, p)
			free <- buf[:cap(buf)]
		}
	}
	var err error
	send := func(b block) {
		refs[&b.buf[:1][0]] = 2
		shaC <- b
		md5C <- b
	}

	// An empty file still needs its (empty) MD5 finished.
	if size == 0 {
		buf := <-free
		send(block{buf: buf[:0:cap(buf)], part: -1, last: true})
	}
	for off := int64(0); off < size && err == nil; {
		if err = ctx.Err(); err != nil {
			break
		}
		part, end := -1, size
		if partSize > 0 {
			part = int(off / partSize)
			end = min(size, int64(part+1)*partSize)
		}
		var buf []byte
		for buf == nil {
			select {
			case buf = <-free:
			case d := <-done:
				recycle(d)
			}
		}
		n := int(min(int64(len(buf)), end-off))
		var got int
		got, err = r.ReadAt(buf[:n], off)
		if got < n {
			if err == nil || err == io.EOF {
				err = fmt.Errorf("file shrank while reading: %w", io.ErrUnexpectedEOF)
			}
			break
		}
		err = nil
		off += int64(n)
		send(block{buf: buf[:n], part: part, last: off == end})
	}
	close(shaC)
	close(md5C)
	go func() { wg.Wait(); close(done) }()
	for d := range done {
		recycle(d)
	}
	if err != nil {
		return fileDigests{}, err
	}
	wholeSHA.Sum(out.whole.SHA1[:0])
	return out, nil
}
