// Package cdn serves a private bucket through the user's custom domain: it
// deploys Upshot's Worker (package worker) on the domain with the
// Cloudflare API, gives it what it needs to read the bucket (a read-only
// key, or a B2 download authorization that it renews), checks the result
// through the domain as uploads check their links, and takes it all away
// again. The command line and the window only present it.
//
// A Setup is a value; its methods may run concurrently with uploads, but
// two Deploy, Refresh or Remove calls for one domain must not overlap.
package cdn

import (
	"cmp"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"upshot/internal/cdn/worker"
	"upshot/internal/cloudflare"
	"upshot/uploader"
)

// deployer is what a Setup needs from the Cloudflare API.
type deployer interface {
	FindZone(ctx context.Context, domain string) (cloudflare.Zone, error)
	Deploy(ctx context.Context, d cloudflare.Deployment) ([]cloudflare.Change, error)
	Remove(ctx context.Context, zone cloudflare.Zone, scriptName, pattern string) ([]cloudflare.Change, error)
}

// bucket is what a Setup needs from the uploader.
type bucket interface {
	DownloadAuthorization(ctx context.Context, prefix string, valid time.Duration) (uploader.DownloadAuthorization, error)
	ReadKeyProblems(ctx context.Context, keyID string, key uploader.Secret) (uploader.KeyScope, []string, error)
	PutProbe(ctx context.Context) (uploader.ProbeObject, func(context.Context) error, error)
}

var (
	_ deployer = (*cloudflare.Client)(nil)
	_ bucket   = (*uploader.Uploader)(nil)
)

// Setup deploys, renews and removes the Worker of one config.
type Setup struct {
	Config *uploader.Config
	CF     deployer
	Bucket bucket
	// ReadKey is the secret of cdn.read_key_id (signed mode).
	ReadKey uploader.Secret
	// StateDir keeps when the download authorization expires (token
	// mode); the data folder.
	StateDir string
	// HTTP fetches the check through the domain; default a client with
	// a 30 s timeout.
	HTTP *http.Client
	// CheckFor is how long the check through the domain keeps trying
	// while Cloudflare puts a new route in place; default 60 s.
	CheckFor time.Duration
}

// FromConfig is the set-up of cfg, with the Cloudflare client (when
// withCloudflare: the token from CLOUDFLARE_API_TOKEN or the keyring) and,
// in signed mode, the Worker's read key (UPSHOT_READ_KEY or the keyring).
// stateDir is the data folder.
func FromConfig(ctx context.Context, cfg *uploader.Config, up *uploader.Uploader, stateDir string, withCloudflare bool) (Setup, error) {
	s := Setup{Config: cfg, Bucket: up, StateDir: stateDir}
	if withCloudflare {
		tok, err := uploader.CloudflareToken(ctx)
		if err != nil {
			return s, err
		}
		var opts []cloudflare.Option
		if cfg.CDN.CloudflareAPIURL != "" {
			opts = append(opts, cloudflare.WithBaseURL(cfg.CDN.CloudflareAPIURL))
		}
		s.CF = cloudflare.New(tok.Reveal(), opts...)
	}
	if cfg.CDN.Auth == uploader.CDNSigned {
		key, err := cfg.CDN.ReadKey(ctx)
		if err != nil {
			return s, err
		}
		s.ReadKey = key
	}
	return s, nil
}

// Result is what a deployment did.
type Result struct {
	Domain  string
	Changes []cloudflare.Change
	// Checked is the probe link fetched through the domain, whose SHA1
	// matched.
	Checked string
	// Expires is when the download authorization ends (token mode).
	Expires time.Time
}

// Domain is the custom domain of cfg: the host (and port) of its
// url_template.
func Domain(cfg *uploader.Config) (string, error) {
	t := cfg.Target.URLTemplate
	if t == "" {
		return "", errors.New("no custom domain: set target.url_template, e.g. https://img.example.com/{key}")
	}
	u, err := url.Parse(strings.NewReplacer("{key}", "k", "{bucket}", "b").Replace(t))
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("target.url_template %q names no domain: write it like https://img.example.com/{key}", t)
	}
	return u.Host, nil
}

// plan is one deployment worked out from the config.
type plan struct {
	domain  string
	deploy  cloudflare.Deployment
	expires time.Time
}

// plan works out the Worker, its bindings and secrets.
func (s Setup) plan(ctx context.Context) (plan, error) {
	cfg := s.Config
	domain, err := Domain(cfg)
	if err != nil {
		return plan{}, err
	}
	opts := worker.Options{Mode: worker.Mode(cfg.CDN.Auth), S3Endpoint: cfg.Target.Endpoint, Region: cfg.Target.Region,
		Bucket: cfg.Target.Bucket, CacheControl: cfg.Target.CacheControl}
	secrets := map[string]string{}
	var expires time.Time
	switch opts.Mode {
	case worker.Signed:
		_, problems, err := s.Bucket.ReadKeyProblems(ctx, cfg.CDN.ReadKeyID, s.ReadKey)
		if err != nil {
			return plan{}, err
		}
		if len(problems) > 0 {
			return plan{}, fmt.Errorf("the Worker's read key %s is not a read-only key for %s: %s", cfg.CDN.ReadKeyID, cfg.Target.Bucket, strings.Join(problems, "; "))
		}
		secrets[worker.SecretKeyID], secrets[worker.SecretKey] = cfg.CDN.ReadKeyID, s.ReadKey.Reveal()
	case worker.Token:
		prefix := ""
		if tmpl, err := uploader.ParseKeyTemplate(cfg.Target.PathTemplate); err == nil {
			prefix = tmpl.StaticPrefix()
		}
		auth, err := s.Bucket.DownloadAuthorization(ctx, prefix, cfg.CDN.TokenLife())
		if err != nil {
			return plan{}, err
		}
		secrets[worker.SecretDownloadToken], expires = auth.Token.Reveal(), auth.Expires
		// One b2_authorize_account gives the token and the host it is for.
		opts.DownloadURL = cmp.Or(cfg.Target.DownloadURL, auth.DownloadURL)
	}
	if err := opts.Validate(); err != nil {
		return plan{}, err
	}
	plain, _ := worker.Bindings(opts)
	zone, err := s.CF.FindZone(ctx, hostOnly(domain))
	if err != nil {
		return plan{}, err
	}
	return plan{domain: domain, expires: expires, deploy: cloudflare.Deployment{
		Zone: zone,
		Script: cloudflare.Script{Name: cloudflare.ScriptName(hostOnly(domain)), MainModule: worker.ModuleName,
			CompatibilityDate: worker.CompatibilityDate, Module: worker.Module(), Plain: plain},
		Secrets: secrets,
		Pattern: hostOnly(domain) + "/*",
	}}, nil
}

// hostOnly drops a port.
func hostOnly(hostport string) string {
	if h, _, ok := strings.Cut(hostport, ":"); ok {
		return h
	}
	return hostport
}

// Deploy makes the domain serve the private bucket: the Worker, its
// secrets and its route, changing only what differs from what Cloudflare
// holds, then a check through the domain. Running it again changes
// nothing (in token mode it renews the authorization: see Refresh).
func (s Setup) Deploy(ctx context.Context) (Result, error) {
	p, err := s.plan(ctx)
	if err != nil {
		return Result{}, err
	}
	changes, err := s.CF.Deploy(ctx, p.deploy)
	res := Result{Domain: p.domain, Changes: changes, Expires: p.expires}
	if err != nil {
		return res, err
	}
	if !p.expires.IsZero() {
		if err := saveState(s.StateDir, state{Domain: p.domain, Expires: p.expires}); err != nil {
			return res, err
		}
	}
	res.Checked, err = s.Check(ctx)
	return res, err
}

// Refresh renews the Worker's download authorization (token mode): a new
// one from B2 replaces the secret, and nothing else changes.
func (s Setup) Refresh(ctx context.Context) (Result, error) {
	if s.Config.CDN.Auth != uploader.CDNToken {
		return Result{}, errors.New("nothing to renew: in signed mode (cdn.auth = \"signed\") the Worker's key does not expire")
	}
	return s.Deploy(ctx)
}

// Remove takes the Worker, its route and its secrets away.
func (s Setup) Remove(ctx context.Context) ([]cloudflare.Change, error) {
	domain, err := Domain(s.Config)
	if err != nil {
		return nil, err
	}
	zone, err := s.CF.FindZone(ctx, hostOnly(domain))
	if err != nil {
		return nil, err
	}
	changes, err := s.CF.Remove(ctx, zone, cloudflare.ScriptName(hostOnly(domain)), hostOnly(domain)+"/*")
	if err == nil && s.StateDir != "" {
		_ = os.Remove(statePath(s.StateDir))
	}
	return changes, err
}

// Check writes a probe object, fetches it through the domain, compares
// its SHA1 and deletes it: "link verified" for a private bucket. It keeps
// trying for CheckFor while a new route takes effect.
func (s Setup) Check(ctx context.Context) (string, error) {
	probe, remove, err := s.Bucket.PutProbe(ctx)
	defer func() { _ = remove(context.WithoutCancel(ctx)) }()
	if err != nil {
		return "", fmt.Errorf("write a probe object to check the domain: %w", err)
	}
	hc := s.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	limit := s.CheckFor
	if limit == 0 {
		limit = time.Minute
	}
	deadline := time.Now().Add(limit)
	wait := 250 * time.Millisecond
	for {
		err = fetchSHA1(ctx, hc, probe.URL, probe.SHA1)
		if err == nil {
			return probe.URL, nil
		}
		if time.Now().Add(wait).After(deadline) {
			return "", fmt.Errorf("the Worker is deployed, but %w (Cloudflare may need a minute more: run upshot cdn-setup --private again)", err)
		}
		select {
		case <-ctx.Done():
			return "", context.Cause(ctx)
		case <-time.After(wait):
		}
		wait = min(2*wait, 4*time.Second)
	}
}

// fetchSHA1 GETs link and compares its body's SHA1.
func fetchSHA1(ctx context.Context, hc *http.Client, link, want string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return fmt.Errorf("the probe link %s is not a URL: %w", link, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("the probe link %s could not be fetched: %w", link, err)
	}
	defer resp.Body.Close()
	h := sha1.New()
	if _, err := io.Copy(h, io.LimitReader(resp.Body, 1<<20)); err != nil {
		return fmt.Errorf("reading %s: %w", link, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("the probe link %s answered HTTP %d", link, resp.StatusCode)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != want {
		return fmt.Errorf("the probe link %s served other content (SHA1 %s, not %s)", link, got, want)
	}
	return nil
}

// state is what Upshot remembers of a token-mode deployment.
type state struct {
	Domain  string    `json:"domain"`
	Expires time.Time `json:"expires"`
}

func statePath(dir string) string { return filepath.Join(dir, "cdn-token.json") }

func saveState(dir string, st state) error {
	if dir == "" {
		return nil
	}
	b, _ := json.Marshal(st)
	tmp := statePath(dir) + ".tmp"
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("remember the authorization's expiry: %w", err)
	}
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("remember the authorization's expiry: %w", err)
	}
	return os.Rename(tmp, statePath(dir))
}

// Expiry is when the download authorization deployed for domain ends, as
// last deployed from this data folder; zero when unknown.
func Expiry(stateDir, domain string) time.Time {
	b, err := os.ReadFile(statePath(stateDir))
	if err != nil {
		return time.Time{}
	}
	var st state
	if json.Unmarshal(b, &st) != nil || st.Domain != domain {
		return time.Time{}
	}
	return st.Expires
}

// RenewAt is when a download authorization that expires at expires and
// lasts life should be renewed: once half its life is gone, so that a
// computer that sleeps a while still renews it in time.
func RenewAt(expires time.Time, life time.Duration) time.Time {
	return expires.Add(-life / 2)
}

// renewSoon is how close to its end a download authorization is warned
// about.
const renewSoon = 2 * 24 * time.Hour

// Audit is what "upshot check" says of a private bucket: whether the
// Worker's key can only read the bucket (signed mode), how long the
// download authorization lasts (token mode), and whether a probe object
// comes back through the domain with its SHA1.
func (s Setup) Audit(ctx context.Context, now time.Time) []uploader.Finding {
	var out []uploader.Finding
	add := func(l uploader.Level, format string, args ...any) {
		out = append(out, uploader.Finding{Level: l, Topic: "private bucket", Detail: fmt.Sprintf(format, args...)})
	}
	cfg := s.Config
	domain, err := Domain(cfg)
	if err != nil {
		add(uploader.LevelFail, "%v", err)
		return out
	}
	switch cfg.CDN.Auth {
	case uploader.CDNSigned:
		_, problems, err := s.Bucket.ReadKeyProblems(ctx, cfg.CDN.ReadKeyID, s.ReadKey)
		switch {
		case err != nil:
			add(uploader.LevelFail, "%v", err)
		case len(problems) > 0:
			for _, p := range problems {
				add(uploader.LevelFail, "the Worker's key %s: %s", cfg.CDN.ReadKeyID, p)
			}
		default:
			add(uploader.LevelOK, "the Worker's key %s can only read %s (b2_authorize_account)", cfg.CDN.ReadKeyID, cfg.Target.Bucket)
		}
	case uploader.CDNToken:
		exp := Expiry(s.StateDir, domain)
		switch {
		case exp.IsZero():
			add(uploader.LevelWarn, "no download authorization was deployed from this computer: run upshot cdn-setup --private")
		case !now.Before(exp):
			add(uploader.LevelFail, "the Worker's download authorization expired %s, so the links fail: run upshot cdn-refresh", exp.Local().Format("2006-01-02 15:04"))
		case exp.Sub(now) < renewSoon:
			add(uploader.LevelWarn, "the Worker's download authorization expires %s: Upshot renews it while the window or upshot watch runs; otherwise run upshot cdn-refresh (upshot cdn-refresh --schedule shows how to schedule it)", exp.Local().Format("2006-01-02 15:04"))
		default:
			add(uploader.LevelOK, "the Worker's download authorization lasts until %s", exp.Local().Format("2006-01-02 15:04"))
		}
	}
	if link, err := s.Check(ctx); err != nil {
		add(uploader.LevelFail, "%v", err)
	} else {
		add(uploader.LevelOK, "link verified through %s: %s", domain, link)
	}
	return out
}

// retryRenewal is how long KeepRenewed waits after a failed renewal.
const retryRenewal = time.Hour

// KeepRenewed renews the Worker's download authorization (token mode)
// whenever half its life is gone, until ctx ends: the window and "upshot
// watch" run it. It does nothing in signed mode, or when no authorization
// was deployed from this data folder. report, if set, hears of each
// renewal (err nil) and each failure, from KeepRenewed's goroutine.
func (s Setup) KeepRenewed(ctx context.Context, report func(expires time.Time, err error)) {
	if !s.Config.CDN.Private || s.Config.CDN.Auth != uploader.CDNToken {
		return
	}
	domain, err := Domain(s.Config)
	if err != nil {
		return
	}
	life := s.Config.CDN.TokenLife()
	for {
		exp := Expiry(s.StateDir, domain)
		if exp.IsZero() {
			return
		}
		wait := time.Until(RenewAt(exp, life))
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
		res, err := s.Refresh(ctx)
		if ctx.Err() != nil {
			return
		}
		if report != nil {
			report(res.Expires, err)
		}
		if err != nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(retryRenewal):
			}
		}
	}
}
