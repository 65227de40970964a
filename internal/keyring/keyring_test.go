package keyring

import (
	"context"
	"encoding/hex"
	"errors"
	"io/fs"
	"strings"
	"syscall"
	"testing"

	zk "github.com/zalando/go-keyring"
)

// On macOS go-keyring runs /usr/bin/security: it returns zk.ErrNotFound
// when security's output says the item "could not be found", and any other
// failure as it comes (os/exec's errors, a decoding error), with whatever
// string it has. These stand-ins give those answers.

// securityMissing is os/exec's error when /usr/bin/security cannot be run.
var securityMissing = &fs.PathError{Op: "fork/exec", Path: "/usr/bin/security", Err: syscall.ENOENT}

// badEncoding is the error of a stored value with the go-keyring-encoded:
// prefix that is not hex; go-keyring returns it with the bytes decoded so
// far.
func badEncoding() (string, error) {
	b, err := hex.DecodeString("41zz")
	return string(b), err
}

func TestGetFromKeychain(t *testing.T) {
	var service, user string
	got, err := get(t.Context(), func(s, u string) (string, error) {
		service, user = s, u
		return "K004secret", nil
	}, "004a")
	if err != nil || got != "K004secret" {
		t.Fatalf("get = %q, %v", got, err)
	}
	// security find-generic-password -s upshot -wa 004a
	if service != "upshot" || user != "004a" {
		t.Errorf("asked for service %q, account %q; want upshot, 004a", service, user)
	}
}

func TestGetKeychainErrors(t *testing.T) {
	decoded, decodeErr := badEncoding()
	cases := []struct {
		name     string
		secret   string
		err      error
		want     error
		mentions string
	}{
		{"item could not be found", "", zk.ErrNotFound, ErrNotFound, ""},
		{"security missing", "", securityMissing, ErrUnavailable, "/usr/bin/security"},
		{"keychain locked", "", errors.New("exit status 36"), ErrUnavailable, "exit status 36"},
		{"bad encoding", decoded, decodeErr, ErrUnavailable, "invalid byte"},
		{"no keyring on this platform", "", zk.ErrUnsupportedPlatform, ErrUnavailable, "unsupported"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := get(t.Context(), func(string, string) (string, error) { return tc.secret, tc.err }, "004a")
			if got != "" {
				t.Errorf("secret %q with the error, want none", got)
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.mentions) {
				t.Fatalf("error %v, want %v mentioning %q", err, tc.want, tc.mentions)
			}
			if tc.want == ErrNotFound && errors.Is(err, ErrUnavailable) {
				t.Errorf("error %v: a missing item is not an unavailable keyring", err)
			}
		})
	}
}

// security waiting on a Keychain prompt that nobody answers.
func TestGetWithoutAnswer(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	got, err := get(ctx, func(string, string) (string, error) {
		<-release
		return "late", nil
	}, "004a")
	if got != "" || !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "no answer") {
		t.Fatalf("get = %q, %v; want ErrUnavailable, no answer", got, err)
	}
}

func TestGetPanic(t *testing.T) {
	_, err := get(t.Context(), func(string, string) (string, error) { panic("dbus: connection closed") }, "004a")
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "connection closed") {
		t.Fatalf("error %v, want ErrUnavailable naming the panic", err)
	}
}

func TestDeleteFromKeychain(t *testing.T) {
	var service, user string
	if err := remove(t.Context(), func(s, u string) error { service, user = s, u; return nil }, "004a"); err != nil {
		t.Fatal(err)
	}
	if service != "upshot" || user != "004a" {
		t.Errorf("deleted service %q, account %q; want upshot, 004a", service, user)
	}
	// security delete-generic-password: "The specified item could not be
	// found in the keychain."
	if err := remove(t.Context(), func(string, string) error { return zk.ErrNotFound }, "004a"); err != nil {
		t.Errorf("deleting a missing key: %v, want nil", err)
	}
	if err := remove(t.Context(), func(string, string) error { return securityMissing }, "004a"); !errors.Is(err, ErrUnavailable) {
		t.Errorf("deleting without security: %v, want ErrUnavailable", err)
	}
}

// macOS takes at most about 3000 bytes of service, account and secret.
func TestSetTooBig(t *testing.T) {
	err := bounded(t.Context(), func() error { return zk.ErrSetDataTooBig })
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "too big") {
		t.Fatalf("error %v, want ErrUnavailable saying the data is too big", err)
	}
}
