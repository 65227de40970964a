package uploader

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"upshot/internal/keyring"
)

// Environment variables Upshot reads.
const (
	EnvKeyID   = "B2_APPLICATION_KEY_ID"
	EnvKey     = "B2_APPLICATION_KEY"
	EnvConfig  = "UPSHOT_CONFIG"
	EnvDataDir = "UPSHOT_DATA_DIR"
)

// Defaults for the [transfer] section.
const (
	DefaultPartSize    = 100_000_000
	MinPartSize        = 5 << 20       // B2 allows 5,000,000 bytes; S3 and most others 5 MiB
	MaxPartSize        = 5_000_000_000 // B2's limit for a part and for a single PUT (S3 allows 5 GiB)
	maxParts           = 10_000
	DefaultConcurrency = 4
)

// Config is Upshot's settings file. Load it with [Load]; a Config returned
// without error has passed [Config.Validate]. It is a value: copy it freely,
// but do not change it while an [Uploader] built from it runs.
type Config struct {
	Target   Target   `toml:"target"`
	Output   Output   `toml:"output"`
	Transfer Transfer `toml:"transfer"`
	Privacy  Privacy  `toml:"privacy"`
	Inbox    Inbox    `toml:"inbox"`
	Capture  Capture  `toml:"capture"`
	Hotkeys  Hotkeys  `toml:"hotkeys"`
	CDN      CDN      `toml:"cdn"`
	Watch    []Watch  `toml:"watch"`

	// Path is the file the config was read from ("" when built in code).
	Path string `toml:"-"`
	// KeySource says where the secret came from: "env", "keyring",
	// "config" or "".
	KeySource string `toml:"-"`
}

// Target is the bucket uploads go to and how links to it are made.
type Target struct {
	Endpoint     string `toml:"endpoint"`
	Region       string `toml:"region"`
	Bucket       string `toml:"bucket"`
	KeyID        string `toml:"key_id"`
	Key          Secret `toml:"key"`
	PathStyle    bool   `toml:"path_style"`
	PathTemplate string `toml:"path_template"`
	URLTemplate  string `toml:"url_template"`
	DownloadURL  string `toml:"download_url"`
	CacheControl string `toml:"cache_control"`
	// VerifyLinks fetches each new link and compares it with the upload;
	// nil means on when URLTemplate is set.
	VerifyLinks *bool `toml:"verify_links"`
	// B2APIURL is B2's native API, for the key-scope check; default
	// https://api.backblazeb2.com. Setting it also turns the check on for
	// endpoints that are not *.backblazeb2.com.
	B2APIURL string `toml:"b2_api_url"`
}

// ShouldVerifyLinks reports whether new links are fetched and compared.
func (t Target) ShouldVerifyLinks() bool {
	if t.VerifyLinks != nil {
		return *t.VerifyLinks
	}
	return t.URLTemplate != ""
}

// Output chooses how a link is written to the clipboard and stdout.
type Output struct {
	Format string `toml:"format"`
}

// Transfer tunes uploads.
type Transfer struct {
	// Concurrency bounds the requests in flight to the endpoint: files
	// and the parts of large ones share it.
	Concurrency int `toml:"concurrency"`
	// PartSize is the multipart part size, and files larger than
	// MultipartThreshold upload in parts.
	PartSize           Size `toml:"part_size"`
	MultipartThreshold Size `toml:"multipart_threshold"`
}

// Privacy controls what leaves the machine besides the picture.
type Privacy struct {
	// StripMetadata removes Exif (GPS, camera, times), XMP, IPTC and text
	// chunks from JPEG, PNG and WebP before upload, losslessly; nil means
	// on.
	StripMetadata *bool `toml:"strip_metadata"`
}

// Strips reports whether metadata is stripped by default.
func (p Privacy) Strips() bool { return p.StripMetadata == nil || *p.StripMetadata }

// Inbox is the phone inbox: a page on the local network from which a
// phone uploads straight to the bucket, with grants the desktop signs.
type Inbox struct {
	// Listen is the address and port the page is served on; default
	// ":8765" (every interface: the phone is on the LAN).
	Listen string `toml:"listen"`
	// Idle ends a session after this long without a request; default 15m.
	Idle Duration `toml:"idle"`
	// MaxSize is the largest file a phone may send; default 2GB.
	MaxSize Size `toml:"max_size"`
	// Types are the media types a phone may send, such as "image/*" or
	// "video/mp4"; default images and videos.
	Types []string `toml:"types"`
	// GrantsPerMinute bounds how many uploads a session may start each
	// minute; default 120.
	GrantsPerMinute int `toml:"grants_per_minute"`
}

// Default inbox settings.
const (
	DefaultInboxListen               = ":8765"
	DefaultInboxIdle                 = 15 * time.Minute
	DefaultInboxMaxSize         Size = 2_000_000_000
	DefaultInboxGrantsPerMinute      = 120
)

// DefaultInboxTypes are the media types a phone may send by default.
// SVG and HTML are left out: a page on the bucket's domain could run
// scripts there.
var DefaultInboxTypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif", "image/avif",
	"video/mp4", "video/quicktime", "video/webm"}

// Duration is a time span written in TOML as a string such as "15m".
type Duration time.Duration

// UnmarshalTOML implements toml.Unmarshaler.
func (d *Duration) UnmarshalTOML(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("want a duration like \"15m\", got %v", v)
	}
	n, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration: write it like 90s, 15m or 1h", s)
	}
	*d = Duration(n)
	return nil
}

// Watch is one watched folder.
type Watch struct {
	Dir     string   `toml:"dir"`
	Include []string `toml:"include"`
	Poll    bool     `toml:"poll"`
	// KeepMetadata uploads this folder's photos with their metadata.
	KeepMetadata bool `toml:"keep_metadata"`
}

// Size is a byte count written in TOML as a number (bytes) or a string such
// as "100MB", "5MiB" or "1GB".
type Size int64

// UnmarshalTOML implements toml.Unmarshaler.
func (s *Size) UnmarshalTOML(v any) error {
	switch v := v.(type) {
	case int64:
		*s = Size(v)
		return nil
	case string:
		n, err := ParseSize(v)
		*s = n
		return err
	}
	return fmt.Errorf("want a number of bytes or a string like \"100MB\", got %v", v)
}

// String writes the size the way file managers do: 999 B, 1.0 kB, 2.1 MB,
// 5.0 GB. The command line, the window and the phone's page all use it.
func (s Size) String() string {
	const unit = 1000
	n := int64(s)
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

var sizeRE = regexp.MustCompile(`^\s*([0-9]+)\s*([a-zA-Z]*)\s*$`)

// ParseSize reads "5000000", "100MB" (10^6) or "64MiB" (2^20).
func ParseSize(s string) (Size, error) {
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a size: write bytes or a number with KB, MB, GB, KiB, MiB or GiB", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is too large", s)
	}
	mult := map[string]int64{"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30}[strings.ToUpper(m[2])]
	if mult == 0 {
		return 0, fmt.Errorf("%q has an unknown unit %q: use KB, MB, GB, KiB, MiB or GiB", s, m[2])
	}
	return Size(n * mult), nil
}

// FieldError is one problem with one config field.
type FieldError struct {
	Field   string // e.g. "target.endpoint"
	Problem string
	Fix     string
}

func (e *FieldError) Error() string {
	if e.Fix == "" {
		return e.Field + ": " + e.Problem
	}
	return e.Field + ": " + e.Problem + ": " + e.Fix
}

// ErrNoConfig is wrapped by [Load] when the config file does not exist.
var ErrNoConfig = errors.New("no config file")

// DefaultConfigPath is $UPSHOT_CONFIG, else config.toml in the user's config
// directory.
func DefaultConfigPath() string { return hostFolders().configPath() }

// folders is what the default config file and data folder are made of on
// one system: its GOOS, its environment, and the folders the os package
// finds there ("" when there is none). [hostFolders] describes this system.
type folders struct {
	goos   string
	getenv func(string) string
	home   string // os.UserHomeDir
	config string // os.UserConfigDir: $HOME/Library/Application Support on macOS
	temp   string // os.TempDir
}

// hostFolders describes this system.
func hostFolders() folders {
	home, err := os.UserHomeDir()
	if err != nil {
		home = ""
	}
	config, err := os.UserConfigDir()
	if err != nil {
		config = ""
	}
	return folders{goos: runtime.GOOS, getenv: os.Getenv, home: home, config: config, temp: os.TempDir()}
}

// configPath is [DefaultConfigPath] on f's system.
func (f folders) configPath() string {
	if p := f.getenv(EnvConfig); p != "" {
		return p
	}
	dir := f.config
	if dir == "" {
		dir = "."
	}
	return filepath.Join(dir, "upshot", "config.toml")
}

// DataDir is where Upshot keeps its database, caches and thumbnails:
// $UPSHOT_DATA_DIR, else the user's data directory.
func DataDir() string { return hostFolders().dataDir() }

// dataDir is [DataDir] on f's system. On macOS it is the default config
// file's folder, ~/Library/Application Support/upshot.
func (f folders) dataDir() string {
	if p := f.getenv(EnvDataDir); p != "" {
		return p
	}
	var base string
	switch f.goos {
	case "windows":
		base = f.getenv("LOCALAPPDATA")
	case "darwin":
		base = f.config
	default:
		base = f.getenv("XDG_DATA_HOME")
		if base == "" && f.home != "" {
			base = filepath.Join(f.home, ".local", "share")
		}
	}
	if base == "" {
		base = f.temp
	}
	return filepath.Join(base, "upshot")
}

// Load reads, completes and validates the config at path. Credentials in the
// environment win over the file. A file that holds the secret must not be
// readable by other users.
func Load(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s: create it (see README, \"Configure\") or pass --config", ErrNoConfig, path)
	}
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var c Config
	md, err := toml.Decode(string(raw), &c)
	if err != nil {
		return nil, fmt.Errorf("config %s: %s: fix the TOML syntax", path, redactParseError(err, raw))
	}
	c.Path = path
	var errs []error
	for _, k := range md.Undecoded() {
		errs = append(errs, &FieldError{Field: k.String(), Problem: "is not a known setting", Fix: "check its spelling and section, or remove it"})
	}
	if !c.Target.Key.IsZero() {
		c.KeySource = "config"
		if err := checkPrivate(path); err != nil {
			errs = append(errs, &FieldError{Field: "target.key", Problem: err.Error(),
				Fix: fmt.Sprintf("run chmod 600 %s, or remove the key from the file and set %s instead", path, EnvKey)})
		}
	}
	c.applyEnv()
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("config %s:\n%w", path, err)
	}
	return &c, nil
}

// redactParseError keeps a TOML syntax error's position and message but never
// the text of the offending line, which may hold the key.
func redactParseError(err error, raw []byte) string {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return "invalid TOML"
	}
	msg := pe.Message
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.TrimSpace(k) == "key" {
			if v = strings.Trim(strings.TrimSpace(v), `"'`); v != "" {
				msg = strings.ReplaceAll(msg, v, redacted)
			}
		}
	}
	return fmt.Sprintf("line %d: %s", pe.Position.Line, msg)
}

// applyEnv takes credentials from the environment and fills in defaults.
func (c *Config) applyEnv() {
	c.applyCredentials(os.Getenv, func(keyID string) (string, error) {
		return keyring.Get(context.Background(), keyID)
	})
	c.SetDefaults()
}

// applyCredentials decides where the key comes from. The key ID and key
// in the environment (getenv) win over those read from the file; the
// keyring (lookup, under the key ID) is asked only when neither gave a
// key, and a keyring that fails or has no key leaves the key empty.
func (c *Config) applyCredentials(getenv func(string) string, lookup func(keyID string) (string, error)) {
	if v := getenv(EnvKeyID); v != "" {
		c.Target.KeyID = v
	}
	if v := getenv(EnvKey); v != "" {
		c.Target.Key = NewSecret(v)
		c.KeySource = "env"
	}
	if c.Target.Key.IsZero() && c.Target.KeyID != "" {
		if v, err := lookup(c.Target.KeyID); err == nil && v != "" {
			c.Target.Key = NewSecret(v)
			c.KeySource = "keyring"
		}
	}
}

var b2Endpoint = regexp.MustCompile(`^s3\.([a-z0-9-]+)\.backblazeb2\.com$`)

// SetDefaults fills in every field left empty.
func (c *Config) SetDefaults() {
	t := &c.Target
	t.Endpoint = strings.TrimRight(strings.TrimSpace(t.Endpoint), "/")
	if t.Region == "" {
		t.Region = "us-east-1"
		if u, err := url.Parse(t.Endpoint); err == nil {
			if m := b2Endpoint.FindStringSubmatch(u.Hostname()); m != nil {
				t.Region = m[1]
			}
		}
	}
	if t.PathTemplate == "" {
		t.PathTemplate = DefaultPathTemplate
	}
	if t.CacheControl == "" {
		// Keys never change content, so caching for a year is safe; the
		// phone inbox's grants sign it too, so that no browser's own
		// Cache-Control ends up stored with the object.
		t.CacheControl = RecommendedCacheControl
	}
	if c.Output.Format == "" {
		c.Output.Format = string(FormatURL)
	}
	if c.Transfer.Concurrency == 0 {
		c.Transfer.Concurrency = DefaultConcurrency
	}
	if c.Transfer.PartSize == 0 {
		c.Transfer.PartSize = DefaultPartSize
	}
	if c.Transfer.MultipartThreshold == 0 {
		c.Transfer.MultipartThreshold = c.Transfer.PartSize
	}
	in := &c.Inbox
	if in.Listen == "" {
		in.Listen = DefaultInboxListen
	}
	if in.Idle == 0 {
		in.Idle = Duration(DefaultInboxIdle)
	}
	if in.MaxSize == 0 {
		in.MaxSize = DefaultInboxMaxSize
	}
	if len(in.Types) == 0 {
		in.Types = slices.Clone(DefaultInboxTypes)
	}
	if in.GrantsPerMinute == 0 {
		in.GrantsPerMinute = DefaultInboxGrantsPerMinute
	}
	c.Hotkeys.setDefaults()
	c.CDN.setDefaults()
}

// IsB2 reports whether the endpoint is Backblaze B2's S3 API.
func (t Target) IsB2() bool {
	u, err := url.Parse(t.Endpoint)
	return err == nil && b2Endpoint.MatchString(u.Hostname())
}

// Validate checks every field and returns all problems at once, each a
// *FieldError naming the field and the fix.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, problem, fix string) {
		errs = append(errs, &FieldError{Field: field, Problem: problem, Fix: fix})
	}
	t := c.Target
	if t.Endpoint == "" {
		bad("target.endpoint", "is empty", "set it to your bucket's S3 endpoint, e.g. https://s3.us-west-004.backblazeb2.com")
	} else if u, err := url.Parse(t.Endpoint); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		bad("target.endpoint", fmt.Sprintf("%q is not a URL", t.Endpoint), "write it with its scheme, e.g. https://s3.us-west-004.backblazeb2.com")
	} else if u.Scheme != "https" && !isLoopback(u.Hostname()) {
		bad("target.endpoint", fmt.Sprintf("%q uses plain http, which would send the key and files unencrypted", t.Endpoint),
			"use https:// (plain http is allowed only for 127.0.0.1, ::1 or localhost)")
	} else if u.Path != "" && u.Path != "/" {
		bad("target.endpoint", fmt.Sprintf("%q has a path", t.Endpoint), "give only scheme and host; put the bucket in target.bucket")
	}
	if t.Bucket == "" {
		bad("target.bucket", "is empty", "set it to your bucket's name")
	} else if !validBucket(t.Bucket) {
		bad("target.bucket", fmt.Sprintf("%q is not a valid bucket name", t.Bucket), "use 3 to 63 letters, digits, '-' or '.', as shown in your bucket list")
	}
	if t.KeyID == "" {
		bad("target.key_id", "is empty", "set "+EnvKeyID+" or key_id to your application key's ID")
	}
	if t.Key.IsZero() {
		bad("target.key", "no application key found (environment, keyring or config file)", "set "+EnvKey+", save it in the settings window, or put key = \"…\" in the config (then chmod 600 it)")
	}
	if _, err := ParseKeyTemplate(t.PathTemplate); err != nil {
		bad("target.path_template", err.Error(), "")
	}
	if t.URLTemplate != "" {
		if err := checkURLTemplate(t.URLTemplate); err != nil {
			bad("target.url_template", err.Error(), "")
		}
	}
	if t.DownloadURL != "" {
		if u, err := url.Parse(t.DownloadURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			bad("target.download_url", fmt.Sprintf("%q is not a URL", t.DownloadURL), "use the form https://f004.backblazeb2.com")
		}
	}
	if t.B2APIURL != "" {
		if u, err := url.Parse(t.B2APIURL); err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
			bad("target.b2_api_url", fmt.Sprintf("%q is not an https URL", t.B2APIURL), "remove it to use "+DefaultB2APIURL)
		}
	}
	for _, r := range t.CacheControl {
		if r < 0x20 || r > 0x7e {
			bad("target.cache_control", "contains a character that cannot go in an HTTP header", "use plain ASCII, e.g. public, max-age=31536000, immutable")
			break
		}
	}
	if _, err := ParseFormat(c.Output.Format); err != nil {
		bad("output.format", err.Error(), "use url, markdown, html or bbcode")
	}
	tr := c.Transfer
	if tr.Concurrency < 1 || tr.Concurrency > 64 {
		bad("transfer.concurrency", fmt.Sprintf("%d is out of range", tr.Concurrency), "use 1 to 64")
	}
	if tr.PartSize < MinPartSize || tr.PartSize > MaxPartSize {
		bad("transfer.part_size", fmt.Sprintf("%d bytes is out of range", tr.PartSize), "use 5MiB to 5GB; 100MB is recommended")
	}
	if tr.MultipartThreshold < MinPartSize || tr.MultipartThreshold > MaxPartSize {
		bad("transfer.multipart_threshold", fmt.Sprintf("%d bytes is out of range", tr.MultipartThreshold), "use 5MiB to 5GB: B2 takes at most 5 GB (5,000,000,000 bytes) in one PUT")
	}
	in := c.Inbox
	if _, port, err := net.SplitHostPort(in.Listen); err != nil || port == "" {
		bad("inbox.listen", fmt.Sprintf("%q is not an address and port", in.Listen), "write it like :8765 or 192.168.1.10:8765")
	}
	if in.Idle < Duration(time.Minute) || in.Idle > Duration(24*time.Hour) {
		bad("inbox.idle", fmt.Sprintf("%v is out of range", time.Duration(in.Idle)), "use 1m to 24h")
	}
	if in.MaxSize < 1 || in.MaxSize > maxSinglePut {
		bad("inbox.max_size", fmt.Sprintf("%d bytes is out of range", in.MaxSize), "use up to 5GB: a phone sends each file in one PUT")
	}
	for _, t := range in.Types {
		if !validTypePattern(t) {
			bad("inbox.types", fmt.Sprintf("%q is not a media type", t), "use types like image/jpeg, or image/* for every image")
		}
	}
	if in.GrantsPerMinute < 1 || in.GrantsPerMinute > 10000 {
		bad("inbox.grants_per_minute", fmt.Sprintf("%d is out of range", in.GrantsPerMinute), "use 1 to 10000")
	}
	c.validateCapture(bad)
	c.validateCDN(bad)
	for i, w := range c.Watch {
		if strings.TrimSpace(w.Dir) == "" {
			bad(fmt.Sprintf("watch[%d].dir", i), "is empty", "set it to a folder to watch, e.g. ~/Pictures/Screenshots")
		}
		for _, g := range w.Include {
			if _, err := filepath.Match(g, "x"); err != nil {
				bad(fmt.Sprintf("watch[%d].include", i), fmt.Sprintf("%q is not a valid pattern", g), "use patterns like *.png")
			}
		}
	}
	return errors.Join(errs...)
}

// validTypePattern accepts "type/subtype" and "type/*".
func validTypePattern(p string) bool {
	major, minor, ok := strings.Cut(p, "/")
	return ok && major != "" && minor != "" && major != "*" && !strings.ContainsAny(p, " ;,") && (minor == "*" || !strings.Contains(minor, "*"))
}

// AcceptsType reports whether the inbox takes files of media type t. A
// wildcard such as "image/*" leaves out SVG, which can carry scripts that
// would run on the bucket's domain; list "image/svg+xml" to take it.
func (in Inbox) AcceptsType(t string) bool {
	t = strings.ToLower(t)
	major, minor, ok := strings.Cut(t, "/")
	if !ok || major == "" || minor == "" {
		return false
	}
	for _, p := range in.Types {
		p = strings.ToLower(p)
		if p == t || p == major+"/*" && t != "image/svg+xml" {
			return true
		}
	}
	return false
}

func validBucket(b string) bool {
	if len(b) < 3 || len(b) > 63 {
		return false
	}
	for _, r := range b {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return false
		}
	}
	return true
}

// isLoopback reports whether host is 127.0.0.0/8, ::1 or localhost.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isLoopbackURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && isLoopback(u.Hostname())
}
