package uploader

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
)

// capability is what Upshot has learned about one feature of an endpoint.
type capability string

const (
	capUnknown     capability = ""
	capSupported   capability = "supported"
	capUnsupported capability = "unsupported"
)

// endpointCaps is what one endpoint and bucket accept.
type endpointCaps struct {
	// ChecksumHeader: does PutObject accept x-amz-checksum-sha1? B2 has
	// answered 400 "Unsupported header" to it.
	ChecksumHeader capability `json:"checksum_header,omitempty"`
	// ConditionalPut: does PutObject honour If-None-Match: *? B2 answers
	// 501 NotImplemented to it; some stores ignore it.
	ConditionalPut capability `json:"conditional_put,omitempty"`
	// Versions: does the bucket keep every version of a name (a write
	// returns x-amz-version-id)? B2 does unless lifecycle rules say
	// otherwise.
	Versions capability `json:"versions,omitempty"`
	// DownloadURL is B2's download URL for the account, from
	// b2_authorize_account, for /file/<bucket>/ links.
	DownloadURL string `json:"download_url,omitempty"`
}

// capsStore remembers endpoint capabilities for the process and, when it has
// a file, across runs. It is safe for concurrent use.
type capsStore struct {
	mu   sync.Mutex
	file string // "" keeps them in memory only
	m    map[string]endpointCaps
}

func newCapsStore(file string) *capsStore {
	s := &capsStore{file: file, m: map[string]endpointCaps{}}
	if file != "" {
		if b, err := os.ReadFile(file); err == nil {
			// A damaged cache only costs a re-probe: ignore it.
			_ = json.Unmarshal(b, &s.m)
		}
	}
	return s
}

func capsKey(t Target) string { return t.Endpoint + "|" + t.Bucket }

func (s *capsStore) get(t Target) endpointCaps {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[capsKey(t)]
}

// update changes one endpoint's capabilities and saves the cache.
func (s *capsStore) update(t Target, f func(*endpointCaps)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.m[capsKey(t)]
	f(&c)
	s.m[capsKey(t)] = c
	if s.file == "" {
		return nil
	}
	b, err := json.MarshalIndent(s.m, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(s.file, b)
}

// writeFileAtomic writes a temp file beside path, syncs it and renames it
// into place, so a crash leaves either the old or the new content.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	serr := tmp.Sync()
	cerr := tmp.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
