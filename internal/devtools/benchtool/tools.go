package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"upshot/uploader"
)

// upshotConfig writes an Upshot config for endpoint (the server or a proxy
// in front of it) under the temporary folder and returns its path.
// Credentials go through the environment, as the README recommends.
func (b *bench) upshotConfig(name, endpoint, pathTemplate string, concurrency int) (string, error) {
	text := fmt.Sprintf("[target]\nendpoint = %q\nbucket = %q\npath_template = %q\n\n[transfer]\nconcurrency = %d\n",
		endpoint, b.srv.Bucket, pathTemplate, concurrency)
	p := filepath.Join(b.dir, "config", name+".toml")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return "", fmt.Errorf("make config folder: %w", err)
	}
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		return "", fmt.Errorf("write config: %w", err)
	}
	return p, nil
}

// upshotUpload is `upshot upload --config cfg --no-clipboard files…`.
func (b *bench) upshotUpload(cfg string, files ...string) command {
	return command{
		path: b.upshot,
		args: append([]string{"upload", "--config", cfg, "--no-clipboard"}, files...),
		env: []string{
			uploader.EnvKeyID + "=" + b.srv.AccessKey,
			uploader.EnvKey + "=" + b.srv.SecretKey,
			uploader.EnvDataDir + "=" + b.dataDir,
		},
	}
}

// upshotVersion is `upshot version`: the cost of starting the process at
// all, the floor under every upload's latency.
func (b *bench) upshotVersion() command {
	return command{path: b.upshot, args: []string{"version"}}
}

// curlPut is a bare SigV4-signed PUT of file to key: the least any client
// can do.
func (b *bench) curlPut(file, key string) command {
	return command{path: b.curl, args: []string{
		"-sS", "--fail", "-o", os.DevNull, "-H", "Expect:",
		"--aws-sigv4", "aws:amz:" + b.srv.Region + ":s3",
		"--user", b.srv.AccessKey + ":" + b.srv.SecretKey,
		"-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
		"-T", file, b.objectURL(key),
	}}
}

// objectURL is the path-style URL of key.
func (b *bench) objectURL(key string) string {
	return b.srv.Endpoint + "/" + b.srv.Bucket + "/" + uploader.EscapeKey(key)
}

// rcloneRemote is an on-the-fly rclone remote for path in the bucket at
// endpoint. The endpoint is quoted because it contains ':'.
func (b *bench) rcloneRemote(endpoint, path string) string {
	return fmt.Sprintf(":s3,provider=Other,access_key_id=%s,secret_access_key=%s,region=%s,endpoint='%s':%s/%s",
		b.srv.AccessKey, b.srv.SecretKey, b.srv.Region, endpoint, b.srv.Bucket, path)
}

// rclone runs an rclone subcommand with an empty config file, quietly, and
// without the bucket check a key scoped to one bucket would fail.
func (b *bench) rcloneCmd(sub string, args ...string) command {
	all := append([]string{sub, "--config", b.rcConf, "-q", "--s3-no-check-bucket"}, args...)
	return command{path: b.rclone, args: all}
}

// rcloneCopyto is `rclone copyto file remote:key [extra…]`.
func (b *bench) rcloneCopyto(file, key string, extra ...string) command {
	return b.rcloneCmd("copyto", append([]string{file, b.rcloneRemote(b.srv.Endpoint, key)}, extra...)...)
}

// rcloneCopy is `rclone copy dir remote:prefix --transfers n` to endpoint.
func (b *bench) rcloneCopy(endpoint, dir, prefix string, transfers int) command {
	return b.rcloneCmd("copy", dir, b.rcloneRemote(endpoint, prefix), "--transfers", fmt.Sprint(transfers))
}

// writeRandomFile writes size bytes of seeded pseudo-random data (not
// sparse, not compressible) to path and syncs it, so that writeback does not
// run during the measurements.
func writeRandomFile(path string, size int64, seed uint64) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("make folder for %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	src := io.LimitReader(rand.NewChaCha8(key), size)
	buf := make([]byte, 4<<20)
	if _, err := io.CopyBuffer(f, src, buf); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

// stamp overwrites the first bytes of each file with n, so that the next
// upload sees new content: Upshot's history recognises content it has
// uploaded before and would only hand back the old link. The change stays
// in the page cache; nothing is synced.
func stamp(n uint64, files ...string) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], n)
	for _, p := range files {
		f, err := os.OpenFile(p, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("stamp %s: %w", p, err)
		}
		_, werr := f.WriteAt(b[:], 0)
		if err := errors.Join(werr, f.Close()); err != nil {
			return fmt.Errorf("stamp %s: %w", p, err)
		}
	}
	return nil
}

// countLines counts the non-empty lines a run printed.
func countLines(s string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			n++
		}
	}
	return n
}
