package uploader

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"upshot/internal/keyring"
)

// Environment variables of a private bucket's set-up.
const (
	// EnvCloudflareToken is the Cloudflare API token that deploys the
	// Worker (Workers Scripts: Edit, Workers Routes: Edit, Zone: Read).
	EnvCloudflareToken = "CLOUDFLARE_API_TOKEN"
	// EnvReadKey is the secret of cdn.read_key_id.
	EnvReadKey = "UPSHOT_READ_KEY"
)

// CloudflareKeyringID is the keyring entry that holds the Cloudflare API
// token when it is not in the environment.
const CloudflareKeyringID = "cloudflare-api-token"

// CDN is a private bucket served through the custom domain by a
// Cloudflare Worker that Upshot writes and deploys.
type CDN struct {
	// Private says the bucket is private: links go through the Worker.
	Private bool `toml:"private"`
	// Auth is how the Worker reads the bucket: "signed" (the default: it
	// signs each request with a read-only key, nothing expires) or
	// "token" (a B2 download authorization that Upshot renews).
	Auth string `toml:"auth"`
	// ReadKeyID is the read-only key of signed mode; its secret comes
	// from UPSHOT_READ_KEY or the keyring.
	ReadKeyID string `toml:"read_key_id"`
	// TokenDays is how long each download authorization of token mode
	// lasts, 1 to 7; default 7.
	TokenDays int `toml:"token_days"`
	// CloudflareAPIURL is the Cloudflare API's base; empty: the public
	// one, https://api.cloudflare.com/client/v4.
	CloudflareAPIURL string `toml:"cloudflare_api_url"`
}

// The ways a Worker reads a private bucket.
const (
	CDNSigned = "signed"
	CDNToken  = "token"
)

// TokenLife is how long each download authorization lasts.
func (c CDN) TokenLife() time.Duration { return time.Duration(c.TokenDays) * 24 * time.Hour }

func (c *CDN) setDefaults() {
	if c.Auth == "" {
		c.Auth = CDNSigned
	}
	if c.TokenDays == 0 {
		c.TokenDays = 7
	}
}

// validateCDN checks the [cdn] section.
func (c *Config) validateCDN(bad func(field, problem, fix string)) {
	d := c.CDN
	switch d.Auth {
	case CDNSigned, CDNToken:
	default:
		bad("cdn.auth", fmt.Sprintf("%q is not a way to read the bucket", d.Auth), "use signed or token")
	}
	if d.TokenDays < 1 || d.TokenDays > 7 {
		bad("cdn.token_days", fmt.Sprintf("%d is out of range", d.TokenDays), "use 1 to 7: B2's download authorizations last at most 7 days")
	}
	if d.Private && c.Target.URLTemplate == "" {
		bad("cdn.private", "needs a custom domain", "set target.url_template, e.g. https://img.example.com/{key}")
	}
	if d.CloudflareAPIURL != "" && !strings.HasPrefix(d.CloudflareAPIURL, "https://") && !isLoopbackURL(d.CloudflareAPIURL) {
		bad("cdn.cloudflare_api_url", fmt.Sprintf("%q is not an https URL", d.CloudflareAPIURL), "remove it to use https://api.cloudflare.com/client/v4")
	}
	if d.Private && d.Auth == CDNSigned && strings.TrimSpace(d.ReadKeyID) == "" {
		bad("cdn.read_key_id", "is empty", "create a key that can only read "+c.Target.Bucket+" and put its ID here (its key in "+EnvReadKey+" or the keyring)")
	}
}

// CloudflareToken finds the Cloudflare API token: the environment, else
// the keyring. It never comes from the config file.
func CloudflareToken(ctx context.Context) (Secret, error) {
	if v := strings.TrimSpace(os.Getenv(EnvCloudflareToken)); v != "" {
		return NewSecret(v), nil
	}
	v, err := keyring.Get(ctx, CloudflareKeyringID)
	if err != nil || v == "" {
		return Secret{}, fmt.Errorf("no Cloudflare API token: set %s, or save it in the settings window (it needs Workers Scripts: Edit, Workers Routes: Edit and Zone: Read)", EnvCloudflareToken)
	}
	return NewSecret(v), nil
}

// ReadKey finds the secret of cdn.read_key_id: UPSHOT_READ_KEY, else the
// keyring entry under that key ID.
func (c CDN) ReadKey(ctx context.Context) (Secret, error) {
	if v := strings.TrimSpace(os.Getenv(EnvReadKey)); v != "" {
		return NewSecret(v), nil
	}
	if c.ReadKeyID != "" {
		if v, err := keyring.Get(ctx, c.ReadKeyID); err == nil && v != "" {
			return NewSecret(v), nil
		}
	}
	return Secret{}, fmt.Errorf("no key for cdn.read_key_id %q: set %s, or save it in the settings window", c.ReadKeyID, EnvReadKey)
}
