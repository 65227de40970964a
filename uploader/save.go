package uploader

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/BurntSushi/toml"

	"upshot/internal/keyring"
)

// fileTarget mirrors Target for writing: the key is a plain string here,
// and only set when the user chose to keep it in the file.
type fileTarget struct {
	Endpoint     string `toml:"endpoint"`
	Region       string `toml:"region,omitempty"`
	Bucket       string `toml:"bucket"`
	KeyID        string `toml:"key_id,omitempty"`
	Key          string `toml:"key,omitempty"`
	PathStyle    bool   `toml:"path_style,omitempty"`
	PathTemplate string `toml:"path_template"`
	URLTemplate  string `toml:"url_template,omitempty"`
	DownloadURL  string `toml:"download_url,omitempty"`
	CacheControl string `toml:"cache_control,omitempty"`
	VerifyLinks  *bool  `toml:"verify_links,omitempty"`
	B2APIURL     string `toml:"b2_api_url,omitempty"`
}

type fileTransfer struct {
	Concurrency        int   `toml:"concurrency,omitempty"`
	PartSize           int64 `toml:"part_size,omitempty"`
	MultipartThreshold int64 `toml:"multipart_threshold,omitempty"`
}

// fileInbox mirrors Inbox for writing: only what differs from the
// defaults is written, so that better defaults reach older files.
type fileInbox struct {
	Listen          string   `toml:"listen,omitempty"`
	Idle            string   `toml:"idle,omitempty"`
	MaxSize         int64    `toml:"max_size,omitzero"`
	Types           []string `toml:"types,omitempty"`
	GrantsPerMinute int      `toml:"grants_per_minute,omitzero"`
}

type fileCapture struct {
	Dir               string `toml:"dir,omitempty"`
	DeleteAfterUpload bool   `toml:"delete_after_upload,omitempty"`
	CopyImage         bool   `toml:"copy_image,omitempty"`
	Delay             string `toml:"delay,omitempty"`
}

type fileConfig struct {
	Target   fileTarget   `toml:"target"`
	Output   Output       `toml:"output"`
	Transfer fileTransfer `toml:"transfer"`
	Privacy  Privacy      `toml:"privacy"`
	Inbox    fileInbox    `toml:"inbox"`
	Capture  fileCapture  `toml:"capture"`
	Hotkeys  Hotkeys      `toml:"hotkeys"`
	CDN      fileCDN      `toml:"cdn"`
	Watch    []Watch      `toml:"watch"`
}

type fileCDN struct {
	Private   bool   `toml:"private,omitempty"`
	Auth      string `toml:"auth,omitempty"`
	ReadKeyID string `toml:"read_key_id,omitempty"`
	TokenDays int    `toml:"token_days,omitzero"`
	APIURL    string `toml:"cloudflare_api_url,omitempty"`
}

// inboxForFile keeps the inbox settings that differ from the defaults.
func inboxForFile(in Inbox) fileInbox {
	var f fileInbox
	if in.Listen != DefaultInboxListen {
		f.Listen = in.Listen
	}
	if d := time.Duration(in.Idle); d != 0 && d != DefaultInboxIdle {
		f.Idle = d.String()
	}
	if in.MaxSize != DefaultInboxMaxSize {
		f.MaxSize = int64(in.MaxSize)
	}
	if !slices.Equal(in.Types, DefaultInboxTypes) {
		f.Types = in.Types
	}
	if in.GrantsPerMinute != DefaultInboxGrantsPerMinute {
		f.GrantsPerMinute = in.GrantsPerMinute
	}
	return f
}

// captureForFile writes the capture settings.
func captureForFile(c Capture) fileCapture {
	f := fileCapture{Dir: c.Dir, DeleteAfterUpload: c.DeleteAfterUpload, CopyImage: c.CopyImage}
	if c.Delay != 0 {
		f.Delay = time.Duration(c.Delay).String()
	}
	return f
}

// Save writes the config to path as TOML, atomically and with mode 0600.
// With keyInFile the application key is written too; otherwise it is left
// out (keep it in the keyring with [StoreKey], or in the environment).
func (c *Config) Save(path string, keyInFile bool) error {
	fc := fileConfig{
		Target: fileTarget{Endpoint: c.Target.Endpoint, Region: c.Target.Region, Bucket: c.Target.Bucket, KeyID: c.Target.KeyID,
			PathStyle: c.Target.PathStyle, PathTemplate: c.Target.PathTemplate, URLTemplate: c.Target.URLTemplate,
			DownloadURL: c.Target.DownloadURL, CacheControl: c.Target.CacheControl, VerifyLinks: c.Target.VerifyLinks, B2APIURL: c.Target.B2APIURL},
		Output:   c.Output,
		Transfer: fileTransfer{Concurrency: c.Transfer.Concurrency, PartSize: int64(c.Transfer.PartSize), MultipartThreshold: int64(c.Transfer.MultipartThreshold)},
		Privacy:  c.Privacy,
		Inbox:    inboxForFile(c.Inbox),
		Capture:  captureForFile(c.Capture),
		Hotkeys:  c.Hotkeys,
		CDN: fileCDN{Private: c.CDN.Private, Auth: c.CDN.Auth, ReadKeyID: c.CDN.ReadKeyID, TokenDays: c.CDN.TokenDays,
			APIURL: c.CDN.CloudflareAPIURL},
		Watch: c.Watch,
	}
	if keyInFile {
		fc.Target.Key = c.Target.Key.Reveal()
	}
	var buf bytes.Buffer
	buf.WriteString("# Upshot settings. See the README, \"Configure\".\n")
	if err := toml.NewEncoder(&buf).Encode(fc); err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save config: %w", err)
	}
	if err := writeFileAtomic(path, buf.Bytes()); err != nil {
		return fmt.Errorf("save config to %s: %w", path, err)
	}
	return os.Chmod(path, 0o600)
}

// StoreKey puts the application key in the OS keyring under its key ID.
// It fails with keyring.ErrUnavailable where there is no keyring; the
// caller may then keep the key in the (0600) config file instead.
func StoreKey(ctx context.Context, keyID string, key Secret) error {
	if keyID == "" || key.IsZero() {
		return errors.New("store key: the key ID and key must both be set")
	}
	return keyring.Set(ctx, keyID, key.Reveal())
}
