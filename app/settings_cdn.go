package app

// The settings' private-bucket panel: Upshot's Worker on the custom
// domain, deployed and removed with the Cloudflare API (internal/cdn).

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"upshot/internal/cdn"
	"upshot/internal/cloudflare"
	"upshot/internal/keyring"
	"upshot/uploader"
)

// deployTimeout bounds a deployment, its check through the domain
// included.
const deployTimeout = 3 * time.Minute

// privatePanel is the private bucket's part of the custom-domain set-up.
type privatePanel struct {
	auth      *widget.Select
	readKeyID *widget.Entry
	readKey   *widget.Entry
	cfToken   *widget.Entry
	deploy    *widget.Button
	remove    *widget.Button
	result    *widget.Label
	box       fyne.CanvasObject
}

// authNames are the ways the Worker reads the bucket, as the panel says.
var authNames = map[string]string{
	uploader.CDNSigned: "Signed: a read-only key, nothing expires (recommended)",
	uploader.CDNToken:  "Token: a download authorization Upshot renews every few days",
}

// privateBox is the panel, built from the settings when first shown.
func (s *settingsForm) privateBox() fyne.CanvasObject {
	if s.private == nil {
		s.private = s.buildPrivatePanel(s.base)
	}
	return s.private.box
}

// buildPrivatePanel makes the panel from cfg.
func (s *settingsForm) buildPrivatePanel(cfg *uploader.Config) *privatePanel {
	p := &privatePanel{}
	p.auth = widget.NewSelect([]string{authNames[uploader.CDNSigned], authNames[uploader.CDNToken]}, nil)
	p.auth.SetSelected(authNames[cfg.CDN.Auth])
	if p.auth.Selected == "" {
		p.auth.SetSelected(authNames[uploader.CDNSigned])
	}
	p.readKeyID = s.entry(cfg.CDN.ReadKeyID, "the read-only key's ID (b2 key create --bucket "+cfg.Target.Bucket+" upshot-worker readFiles)")
	p.readKey = widget.NewPasswordEntry()
	p.readKey.SetPlaceHolder("its application key (kept in the OS keyring; " + uploader.EnvReadKey + " also works)")
	p.cfToken = widget.NewPasswordEntry()
	p.cfToken.SetPlaceHolder("a Cloudflare API token with Workers Scripts: Edit, Workers Routes: Edit, Zone: Read (" + uploader.EnvCloudflareToken + " also works)")
	p.deploy = widget.NewButtonWithIcon("Deploy the Worker", theme.UploadIcon(), func() { s.runPrivate(false) })
	p.deploy.Importance = widget.HighImportance
	p.remove = widget.NewButtonWithIcon("Remove the Worker", theme.DeleteIcon(), func() { s.runPrivate(true) })
	p.result = widget.NewLabel("")
	p.result.Wrapping = fyne.TextWrapWord
	p.result.Hide()
	intro := widget.NewLabel("For a private bucket, Upshot deploys a Cloudflare Worker on your domain that reads the bucket for your links. " +
		"Links then work through the domain only; the keys never leave Cloudflare and this computer.")
	intro.Wrapping = fyne.TextWrapWord
	heading := widget.NewLabelWithStyle("Private bucket", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	p.box = container.NewVBox(heading, intro,
		s.field("The Worker reads", p.auth, "cdn.auth"),
		s.field("Read key ID", p.readKeyID, "cdn.read_key_id"),
		s.field("Read key", p.readKey, "cdn.read_key"),
		s.field("Cloudflare token", p.cfToken, "cdn.cloudflare_token"),
		container.NewHBox(p.remove, p.deploy), p.result)
	return p
}

// runPrivate saves the panel's settings and keys, then deploys (or
// removes) the Worker off the UI thread and shows what happened.
func (s *settingsForm) runPrivate(remove bool) {
	p := s.private
	cfg, newKey, ok := s.validate()
	if !ok {
		return
	}
	cfg.CDN.Private = !remove
	cfg.CDN.ReadKeyID = strings.TrimSpace(p.readKeyID.Text)
	for a, name := range authNames {
		if name == p.auth.Selected {
			cfg.CDN.Auth = a
		}
	}
	if err := cfg.Validate(); err != nil {
		s.showPrivate(errText(err), true)
		return
	}
	readKey, cfToken := strings.TrimSpace(p.readKey.Text), strings.TrimSpace(p.cfToken.Text)
	p.deploy.Disable()
	p.remove.Disable()
	s.showPrivate("Working…", false)
	u := s.u
	old := s.base
	go func() {
		ctx, cancel := context.WithTimeout(u.ctx, deployTimeout)
		defer cancel()
		text, err := func() (string, error) {
			if readKey != "" && cfg.CDN.ReadKeyID != "" {
				if err := uploader.StoreKey(ctx, cfg.CDN.ReadKeyID, uploader.NewSecret(readKey)); err != nil {
					return "", fmt.Errorf("keep the read key: %w (set %s instead)", err, uploader.EnvReadKey)
				}
			}
			if cfToken != "" {
				if err := keyring.Set(ctx, uploader.CloudflareKeyringID, cfToken); err != nil {
					return "", fmt.Errorf("keep the Cloudflare token: %w (set %s instead)", err, uploader.EnvCloudflareToken)
				}
			}
			if _, err := persist(ctx, u.core.configPath, cfg, old, newKey); err != nil {
				return "", err
			}
			if err := u.core.Use(ctx, cfg); err != nil {
				return "", err
			}
			_, up := u.core.Settings()
			setup, err := cdn.FromConfig(ctx, cfg, up, u.core.DataDir(), true)
			if err != nil {
				return "", err
			}
			if remove {
				changes, err := setup.Remove(ctx)
				return describeChanges(changes, "Nothing to remove."), err
			}
			res, err := setup.Deploy(ctx)
			text := describeChanges(res.Changes, "Nothing to change: the Worker, its secrets and its route are as they should be.")
			if err == nil {
				text += "\nLink verified: " + res.Checked + " came back through the Worker with its SHA1."
				if !res.Expires.IsZero() {
					text += "\nThe download authorization lasts until " + res.Expires.Local().Format("2006-01-02 15:04") + "; Upshot renews it while it runs."
				}
			}
			return text, err
		}()
		u.edge.Post(func() {
			p.deploy.Enable()
			p.remove.Enable()
			if err != nil {
				s.showPrivate(strings.TrimSpace(text+"\n"+errText(err)), true)
				return
			}
			p.readKey.SetText("")
			p.cfToken.SetText("")
			s.base = cfg
			s.showPrivate(text, false)
			u.keepRenewed(cfg)
		})
	}()
}

// describeChanges lists a deployment's changes, a line each.
func describeChanges(changes []cloudflare.Change, none string) string {
	if len(changes) == 0 {
		return none
	}
	var b strings.Builder
	for _, c := range changes {
		b.WriteString("• " + c.What + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// showPrivate shows the panel's outcome.
func (s *settingsForm) showPrivate(text string, failed bool) {
	r := s.private.result
	r.Importance = widget.MediumImportance
	if failed {
		r.Importance = widget.DangerImportance
	}
	r.SetText(text)
	r.Show()
}
