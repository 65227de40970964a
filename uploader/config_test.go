package uploader

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, body string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodConfig = `
[target]
endpoint = "https://s3.us-west-004.backblazeb2.com"
bucket = "my-blog-images"
key_id = "004a"
key = "K004supersecretvalue"
url_template = "https://img.example.com/{key}"
cache_control = "public, max-age=31536000, immutable"
[output]
format = "markdown"
[transfer]
part_size = "50MB"
[[watch]]
dir = "~/Pictures/Screenshots"
include = ["*.png"]
`

func TestLoadGoodConfig(t *testing.T) {
	t.Setenv(EnvKeyID, "")
	t.Setenv(EnvKey, "")
	c, err := Load(writeConfig(t, goodConfig, 0o600))
	if err != nil {
		t.Fatal(err)
	}
	if c.Target.Region != "us-west-004" || c.Transfer.PartSize != 50_000_000 || c.Transfer.MultipartThreshold != 50_000_000 ||
		c.Target.PathTemplate != DefaultPathTemplate || c.Output.Format != "markdown" || c.KeySource != "config" || len(c.Watch) != 1 {
		t.Fatalf("defaults not applied as expected: %+v", c)
	}
}

func TestEnvCredentialsWin(t *testing.T) {
	t.Setenv(EnvKeyID, "envid")
	t.Setenv(EnvKey, "envsecret")
	body := strings.Replace(goodConfig, `key = "K004supersecretvalue"`, "", 1)
	c, err := Load(writeConfig(t, body, 0o644)) // no secret in the file: mode does not matter
	if err != nil {
		t.Fatal(err)
	}
	if c.Target.KeyID != "envid" || c.Target.Key.Reveal() != "envsecret" || c.KeySource != "env" {
		t.Fatalf("env credentials not used: %+v", c.Target)
	}
}

func TestSecretInReadableFileRefused(t *testing.T) {
	t.Setenv(EnvKeyID, "")
	t.Setenv(EnvKey, "")
	p := writeConfig(t, goodConfig, 0o644)
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), "chmod 600 "+p) || !strings.Contains(err.Error(), "0644") {
		t.Fatalf("Load of a 0644 file holding the key = %v, want a refusal naming chmod 600", err)
	}
	if strings.Contains(err.Error(), "K004supersecretvalue") {
		t.Fatal("error shows the secret")
	}
}

func TestValidationNamesFieldAndFix(t *testing.T) {
	t.Setenv(EnvKeyID, "")
	t.Setenv(EnvKey, "")
	cases := map[string]struct{ edit, field, hint string }{
		"http":        {`endpoint = "http://s3.example.com"`, "target.endpoint", "use https://"},
		"no scheme":   {`endpoint = "s3.example.com"`, "target.endpoint", "with its scheme"},
		"bucket":      {`bucket = ""`, "target.bucket", "bucket's name"},
		"template":    {`path_template = "{year}/{nme}{ext}"`, "target.path_template", "unknown placeholder {nme}"},
		"url":         {`url_template = "img.example.com/x"`, "target.url_template", "{key}"},
		"format":      {"[output]\nformat = \"rtf\"", "output.format", "use url, markdown, html or bbcode"},
		"part":        {"[transfer]\npart_size = 1000", "transfer.part_size", "5MiB"},
		"single PUT":  {"[transfer]\nmultipart_threshold = \"5GiB\"", "transfer.multipart_threshold", "at most 5 GB"},
		"unknown key": {`bukket = "x"`, "target.bukket", "check its spelling"},
		"inbox port":  {"[inbox]\nlisten = \"8765\"", "inbox.listen", "like :8765"},
		"inbox idle":  {"[inbox]\nidle = \"10s\"", "inbox.idle", "1m to 24h"},
		"inbox size":  {"[inbox]\nmax_size = \"6GB\"", "inbox.max_size", "up to 5GB"},
		"inbox type":  {"[inbox]\ntypes = [\"jpeg\"]", "inbox.types", "image/*"},
		"inbox rate":  {"[inbox]\ngrants_per_minute = -1", "inbox.grants_per_minute", "1 to 10000"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			body := strings.Replace(goodConfig, "[output]\nformat = \"markdown\"\n", "", 1)
			body = strings.Replace(body, "[transfer]\npart_size = \"50MB\"\n", "", 1)
			body = strings.Replace(body, "[target]\n", "[target]\n", 1)
			if strings.HasPrefix(c.edit, "[") {
				body += c.edit + "\n"
			} else {
				key, _, _ := strings.Cut(c.edit, " =")
				lines := strings.Split(body, "\n")
				replaced := false
				for i, l := range lines {
					if strings.HasPrefix(l, key+" =") {
						lines[i], replaced = c.edit, true
					}
				}
				if !replaced {
					lines = append(lines[:2], append([]string{c.edit}, lines[2:]...)...)
				}
				body = strings.Join(lines, "\n")
			}
			_, err := Load(writeConfig(t, body, 0o600))
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Load = %v, want a *FieldError", err)
			}
			if !strings.Contains(err.Error(), c.field+":") || !strings.Contains(err.Error(), c.hint) {
				t.Fatalf("error %q should name %s and say %q", err, c.field, c.hint)
			}
		})
	}
}

func TestLoopbackHTTPAllowed(t *testing.T) {
	for _, ep := range []string{"http://127.0.0.1:9000", "http://localhost:7070", "http://[::1]:7070"} {
		c := Config{Target: Target{Endpoint: ep, Bucket: "b-1", KeyID: "id", Key: NewSecret("s")}}
		c.SetDefaults()
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", ep, err)
		}
	}
}

func TestMissingConfig(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, ErrNoConfig) || !strings.Contains(err.Error(), "--config") {
		t.Fatalf("Load(missing) = %v", err)
	}
}

func TestSyntaxErrorDoesNotEchoSecret(t *testing.T) {
	body := "[target]\nkey = \"S3cr3tValue\" junk\n"
	_, err := Load(writeConfig(t, body, 0o600))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("Load = %v, want a syntax error on line 2", err)
	}
	if strings.Contains(err.Error(), "S3cr3tValue") {
		t.Fatalf("syntax error shows the secret: %v", err)
	}
}

func TestSecretRedacted(t *testing.T) {
	s := NewSecret("hunter2")
	c := Config{Target: Target{Key: s}}
	j, _ := json.Marshal(c)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q", c, c, c, s, s), string(j)} {
		if strings.Contains(out, "hunter2") {
			t.Fatalf("secret printed: %s", out)
		}
	}
	if s.Reveal() != "hunter2" {
		t.Fatal("Reveal lost the value")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]Size{"5000000": 5e6, "100MB": 1e8, "64MiB": 64 << 20, " 1 GB ": 1e9} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v", in, got, err)
		}
	}
	if _, err := ParseSize("12 parsecs"); err == nil {
		t.Error("bad unit accepted")
	}
}

func TestSaveRoundTrip(t *testing.T) {
	t.Setenv(EnvKeyID, "")
	t.Setenv(EnvKey, "")
	c, err := Load(writeConfig(t, goodConfig, 0o600))
	if err != nil {
		t.Fatal(err)
	}
	for _, keyInFile := range []bool{true, false} {
		p := filepath.Join(t.TempDir(), "sub", "config.toml")
		if err := c.Save(p, keyInFile); err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(p)
		raw, _ := os.ReadFile(p)
		if fi.Mode().Perm() != 0o600 || strings.Contains(string(raw), "K004supersecretvalue") != keyInFile {
			t.Fatalf("keyInFile=%v: mode %v, file:\n%s", keyInFile, fi.Mode(), raw)
		}
		if !keyInFile {
			t.Setenv(EnvKey, "from-env") // the key must come from somewhere
		}
		back, err := Load(p)
		if err != nil {
			t.Fatal(err)
		}
		if back.Target.URLTemplate != c.Target.URLTemplate || back.Transfer.PartSize != c.Transfer.PartSize ||
			back.Output.Format != c.Output.Format || len(back.Watch) != 1 || back.Watch[0].Include[0] != "*.png" {
			t.Fatalf("round trip lost settings: %+v", back)
		}
	}
}

func TestInboxAcceptsType(t *testing.T) {
	in := Inbox{Types: []string{"image/*", "video/mp4"}}
	for typ, want := range map[string]bool{"image/jpeg": true, "IMAGE/PNG": true, "video/mp4": true,
		"video/webm": false, "text/html": false, "image": false, "": false, "image/svg+xml": false} {
		if got := in.AcceptsType(typ); got != want {
			t.Errorf("AcceptsType(%q) = %v, want %v", typ, got, want)
		}
	}
	if !(Inbox{Types: []string{"image/svg+xml"}}).AcceptsType("image/svg+xml") {
		t.Error("SVG listed by name is refused")
	}
}

func TestSizeString(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 2_150_000: "2.1 MB", 5e9: "5.0 GB"} {
		if got := Size(n).String(); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestSaveKeepsInboxCaptureAndHotkeys: the window's Save writes back the
// sections it does not edit itself, and what differs from the defaults.
func TestSaveKeepsInboxCaptureAndHotkeys(t *testing.T) {
	t.Setenv(EnvKeyID, "")
	t.Setenv(EnvKey, "")
	c, err := Load(writeConfig(t, goodConfig+`
[inbox]
listen = "127.0.0.1:9000"
idle = "30m"
types = ["image/*"]
[capture]
dir = "/tmp/caps"
delete_after_upload = true
copy_image = true
delay = "3s"
[hotkeys]
capture_region = "Ctrl+Alt+Print"
pause = "none"
`, 0o600))
	if err != nil {
		t.Fatal(err)
	}
	if c.Hotkeys.CaptureScreen != DefaultHotkeys.CaptureScreen || c.Hotkeys.CaptureRegion != "Ctrl+Alt+Print" || c.Hotkeys.Pause != HotkeyOff {
		t.Fatalf("hotkeys after load: %+v", c.Hotkeys)
	}
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := c.Save(p, true); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(p)
	if strings.Contains(string(raw), "grants_per_minute") || strings.Contains(string(raw), "max_size") {
		t.Fatalf("defaults were written out:\n%s", raw)
	}
	back, err := Load(p)
	if err != nil {
		t.Fatalf("%v\n%s", err, raw)
	}
	if back.Inbox.Listen != "127.0.0.1:9000" || time.Duration(back.Inbox.Idle) != 30*time.Minute || len(back.Inbox.Types) != 1 {
		t.Fatalf("inbox lost: %+v\n%s", back.Inbox, raw)
	}
	if back.Capture != c.Capture || back.Hotkeys != c.Hotkeys {
		t.Fatalf("capture or hotkeys lost: %+v %+v\n%s", back.Capture, back.Hotkeys, raw)
	}
}

func TestCaptureDelayRange(t *testing.T) {
	t.Setenv(EnvKeyID, "")
	t.Setenv(EnvKey, "")
	_, err := Load(writeConfig(t, goodConfig+"\n[capture]\ndelay = \"5m\"\n", 0o600))
	if err == nil || !strings.Contains(err.Error(), "capture.delay") {
		t.Fatalf("a 5m delay: %v", err)
	}
}

func TestCDNSettings(t *testing.T) {
	t.Setenv(EnvKeyID, "")
	t.Setenv(EnvKey, "")
	for _, c := range []struct {
		extra, want string // want: "" loads
	}{
		{"[cdn]\nprivate = true\nread_key_id = \"004read\"\n", ""},
		{"[cdn]\nprivate = true\nauth = \"token\"\ntoken_days = 3\n", ""},
		{"[cdn]\nprivate = true\n", "cdn.read_key_id: is empty"},
		{"[cdn]\nauth = \"magic\"\n", "cdn.auth"},
		{"[cdn]\nauth = \"token\"\ntoken_days = 8\n", "cdn.token_days"},
	} {
		cfg, err := Load(writeConfig(t, goodConfig+c.extra, 0o600))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.extra, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: %v, want %q", c.extra, err, c.want)
		case c.want == "" && (cfg.CDN.Auth == "" || cfg.CDN.TokenLife() < 24*time.Hour):
			t.Errorf("%q: defaults %+v", c.extra, cfg.CDN)
		}
	}
}
