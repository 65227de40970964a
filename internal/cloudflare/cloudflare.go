// Package cloudflare is a small client for the part of the Cloudflare API
// that Upshot needs to put its Worker in front of a custom domain: find the
// domain's zone, upload a module Worker with plain bindings and secrets,
// route the domain to it, and take all of that away again.
//
// Deploy and Remove are idempotent: they read what Cloudflare holds first and
// make a changing call only for what differs, and they report each change
// they made. The API token and secret values never appear in an error, a
// Change or a log line.
//
// A Client is safe for concurrent use, but two Deploy or Remove calls for the
// same Worker must not run at once.
package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
)

// DefaultBaseURL is the Cloudflare API v4 base.
const DefaultBaseURL = "https://api.cloudflare.com/client/v4"

// Client calls the Cloudflare API with one API token.
type Client struct {
	base  string
	token string
	hc    *http.Client
	log   *slog.Logger
}

// Option configures a Client.
type Option func(*Client)

// WithBaseURL sets the API base instead of DefaultBaseURL.
func WithBaseURL(u string) Option {
	return func(c *Client) { c.base = strings.TrimRight(u, "/") }
}

// WithHTTPClient sets the HTTP client (its transport, proxy and TLS
// settings). Each request still gets the Client's own timeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithLogger makes the Client log each request at debug level: the call,
// the method and endpoint (with account and zone IDs as placeholders), the
// status and the attempt. Bodies, the token and secrets are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) { c.log = l }
}

// New returns a Client that authenticates with the API token.
func New(token string, opts ...Option) *Client {
	c := &Client{base: DefaultBaseURL, token: token, hc: http.DefaultClient}
	for _, o := range opts {
		o(c)
	}
	return c
}

// String describes the Client without its token.
func (c *Client) String() string { return "cloudflare.Client(" + c.base + ")" }

// GoString is String, so %#v does not print the token either.
func (c *Client) GoString() string { return c.String() }

// Zone is a Cloudflare zone (a domain added to Cloudflare) and the account
// that holds it.
type Zone struct {
	ID, Name, AccountID string
}

// VerifyToken asks Cloudflare whether the token is valid and active. It says
// nothing about the token's permissions.
func (c *Client) VerifyToken(ctx context.Context) error {
	var res struct {
		Status string `json:"status"`
	}
	ep := endpoint{method: http.MethodGet, tmpl: "/user/tokens/verify", path: "/user/tokens/verify"}
	if err := c.call(ctx, "verify the token", ep, nil, nil, "", &res, nil); err != nil {
		return err
	}
	if res.Status != "active" {
		return fmt.Errorf("the Cloudflare token is %s, not active: %w; %s", res.Status, ErrTokenRefused, tokenAdvice)
	}
	return nil
}

// FindZone finds the zone that holds domain (e.g. img.example.com): it asks
// for the domain itself, then for each parent (example.com), stopping before
// the top-level domain.
func (c *Client) FindZone(ctx context.Context, domain string) (Zone, error) {
	d, err := normalizeDomain(domain)
	if err != nil {
		return Zone{}, err
	}
	labels := strings.Split(d, ".")
	var tried []string
	for i := 0; i < len(labels)-1; i++ {
		name := strings.Join(labels[i:], ".")
		tried = append(tried, name)
		z, found, err := c.zoneByName(ctx, name)
		if err != nil {
			return Zone{}, err
		}
		if found {
			return z, nil
		}
	}
	return Zone{}, fmt.Errorf("no Cloudflare zone holds %s (looked for %s): add the domain to Cloudflare, or give the token Zone: Read on its zone", d, strings.Join(tried, ", "))
}

func (c *Client) zoneByName(ctx context.Context, name string) (Zone, bool, error) {
	ep := endpoint{method: http.MethodGet, tmpl: "/zones", path: "/zones"}
	items, err := c.list(ctx, "find the zone", ep, url.Values{"name": {name}}, nil)
	if err != nil {
		return Zone{}, false, err
	}
	for _, raw := range items {
		var z struct {
			ID      string `json:"id"`
			Name    string `json:"name"`
			Account struct {
				ID string `json:"id"`
			} `json:"account"`
		}
		if err := json.Unmarshal(raw, &z); err != nil {
			return Zone{}, false, fmt.Errorf("find the zone: Cloudflare's answer is not a zone list: %w", err)
		}
		if strings.EqualFold(z.Name, name) && z.ID != "" && z.Account.ID != "" {
			return Zone{ID: z.ID, Name: z.Name, AccountID: z.Account.ID}, true, nil
		}
	}
	return Zone{}, false, nil
}

// normalizeDomain lower-cases domain, drops a trailing dot and checks that
// it is a host name with at least two labels.
func normalizeDomain(domain string) (string, error) {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	if d == "" {
		return "", fmt.Errorf("no domain given: give the custom domain, like img.example.com")
	}
	if strings.ContainsAny(d, "/:@ ") {
		return "", fmt.Errorf("%q is not a domain: give the host name only, like img.example.com", domain)
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "", fmt.Errorf("%q is not a domain with a zone: give a name like img.example.com", domain)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", fmt.Errorf("%q is not a valid domain name (label %q): give a name like img.example.com (write international names in their xn-- form)", domain, l)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return "", fmt.Errorf("%q is not a valid domain name (character %q): give a name like img.example.com (write international names in their xn-- form)", domain, r)
			}
		}
	}
	return d, nil
}
