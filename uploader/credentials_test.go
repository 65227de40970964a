package uploader

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"upshot/internal/keyring"
)

// keychain answers as internal/keyring does for macOS's Keychain: a key,
// keyring.ErrNotFound when security finds no item, or an error wrapping
// keyring.ErrUnavailable when /usr/bin/security fails or does not answer.
// It records the key IDs asked for.
type keychain struct {
	key   string
	err   error
	asked []string
}

func (k *keychain) get(keyID string) (string, error) {
	k.asked = append(k.asked, keyID)
	return k.key, k.err
}

// readConfig is a config as Load reads it, before the environment: with
// key set, the file holds a key (0600).
func readConfig(keyID, key string) *Config {
	c := &Config{Target: Target{Endpoint: "https://s3.us-west-004.backblazeb2.com", Bucket: "shots", KeyID: keyID}}
	if key != "" {
		c.Target.Key = NewSecret(key)
		c.KeySource = "config"
	}
	return c
}

func TestKeySourceOrder(t *testing.T) {
	unavailable := []error{
		fmt.Errorf("%w: fork/exec /usr/bin/security: no such file or directory", keyring.ErrUnavailable),
		fmt.Errorf("%w: exit status 36", keyring.ErrUnavailable), // locked, "User interaction is not allowed."
		fmt.Errorf("%w: no answer within 3s", keyring.ErrUnavailable),
	}
	type want struct {
		keyID, key, source string
		asked              []string // key IDs the keyring was asked for
	}
	type credCase struct {
		name     string
		env      map[string]string
		file     *Config
		keychain *keychain
		want     want
	}
	cases := []credCase{
		{"the environment wins over the file and the keyring",
			map[string]string{EnvKey: "envkey"}, readConfig("004a", "filekey"), &keychain{key: "chainkey"},
			want{"004a", "envkey", "env", nil}},
		{"the environment's key ID wins too",
			map[string]string{EnvKeyID: "004env", EnvKey: "envkey"}, readConfig("004a", ""), &keychain{key: "chainkey"},
			want{"004env", "envkey", "env", nil}},
		{"the file wins over the keyring, which is not asked",
			nil, readConfig("004a", "filekey"), &keychain{key: "chainkey"},
			want{"004a", "filekey", "config", nil}},
		{"the keyring, under the file's key ID",
			nil, readConfig("004a", ""), &keychain{key: "chainkey"},
			want{"004a", "chainkey", "keyring", []string{"004a"}}},
		{"the keyring, under the environment's key ID",
			map[string]string{EnvKeyID: "004env"}, readConfig("004a", ""), &keychain{key: "chainkey"},
			want{"004env", "chainkey", "keyring", []string{"004env"}}},
		{"no key in the keyring",
			nil, readConfig("004a", ""), &keychain{err: keyring.ErrNotFound},
			want{"004a", "", "", []string{"004a"}}},
		{"an empty key in the keyring",
			nil, readConfig("004a", ""), &keychain{},
			want{"004a", "", "", []string{"004a"}}},
		{"no key ID: the keyring is not asked",
			nil, readConfig("", ""), &keychain{key: "chainkey"},
			want{"", "", "", nil}},
	}
	for i, err := range unavailable {
		cases = append(cases, credCase{fmt.Sprintf("keyring unavailable %d", i), nil, readConfig("004a", ""), &keychain{key: "stale", err: err},
			want{"004a", "", "", []string{"004a"}}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.file
			c.applyCredentials(envOf(tc.env), tc.keychain.get)
			got := want{c.Target.KeyID, c.Target.Key.Reveal(), c.KeySource, tc.keychain.asked}
			if got.keyID != tc.want.keyID || got.key != tc.want.key || got.source != tc.want.source ||
				strings.Join(got.asked, ",") != strings.Join(tc.want.asked, ",") {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// Without a key from anywhere, Validate says where a key may come from.
func TestNoKeyAnywhere(t *testing.T) {
	c := readConfig("004a", "")
	c.applyCredentials(envOf(nil), (&keychain{err: fmt.Errorf("%w: exit status 36", keyring.ErrUnavailable)}).get)
	c.SetDefaults()
	err := c.Validate()
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "target.key" {
		t.Fatalf("Validate = %v, want a target.key problem", err)
	}
	for _, s := range []string{"environment, keyring or config file", EnvKey, "chmod 600"} {
		if !strings.Contains(fe.Error(), s) {
			t.Errorf("%q does not mention %q", fe.Error(), s)
		}
	}
}
