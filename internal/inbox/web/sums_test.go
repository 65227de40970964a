package web

import (
	"crypto/md5"
	"crypto/sha1"
	"encoding/hex"
)

// sums returns the SHA1 and MD5 of data in hex.
func sums(data []byte) (string, string) {
	s, m := sha1.Sum(data), md5.Sum(data)
	return hex.EncodeToString(s[:]), hex.EncodeToString(m[:])
}
