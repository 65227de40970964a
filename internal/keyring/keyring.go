// Package keyring keeps the application key in the operating system's
// keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on
// Windows). Every call is bounded in time: a keyring that does not answer
// (no D-Bus session, a locked collection waiting for a prompt) counts as
// unavailable rather than hanging the caller.
package keyring

import (
	"context"
	"errors"
	"fmt"
	"time"

	zk "github.com/zalando/go-keyring"
)

// Service is the name Upshot's secrets are filed under.
const Service = "upshot"

// timeout bounds each keyring call.
const timeout = 3 * time.Second

var (
	// ErrNotFound: the keyring has no key for this key ID.
	ErrNotFound = errors.New("no key in the keyring")
	// ErrUnavailable: there is no usable keyring (headless, no D-Bus).
	ErrUnavailable = errors.New("the OS keyring is not available")
)

// Get returns the key stored for keyID.
func Get(ctx context.Context, keyID string) (string, error) { return get(ctx, zk.Get, keyID) }

// get asks read, go-keyring's Get, for keyID's key under Service.
func get(ctx context.Context, read func(service, user string) (string, error), keyID string) (string, error) {
	var secret string
	err := bounded(ctx, func() error {
		var err error
		secret, err = read(Service, keyID)
		return err
	})
	if err != nil {
		// A read that did not answer in time may still set secret.
		return "", err
	}
	return secret, nil
}

// Set stores the key for keyID, replacing any earlier one.
func Set(ctx context.Context, keyID, secret string) error {
	return bounded(ctx, func() error { return zk.Set(Service, keyID, secret) })
}

// Delete removes the key for keyID; a missing key is not an error.
func Delete(ctx context.Context, keyID string) error { return remove(ctx, zk.Delete, keyID) }

// remove has del, go-keyring's Delete, remove keyID's key under Service.
func remove(ctx context.Context, del func(service, user string) error, keyID string) error {
	err := bounded(ctx, func() error { return del(Service, keyID) })
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// bounded runs f with a time limit and maps the library's errors to ours.
func bounded(ctx context.Context, f func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("%w: %v", ErrUnavailable, r)
			}
		}()
		done <- f()
	}()
	select {
	case err := <-done:
		switch {
		case err == nil:
			return nil
		case errors.Is(err, zk.ErrNotFound):
			return ErrNotFound
		case errors.Is(err, zk.ErrUnsupportedPlatform):
			return fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	case <-ctx.Done():
		return fmt.Errorf("%w: no answer within %v", ErrUnavailable, timeout)
	}
}
