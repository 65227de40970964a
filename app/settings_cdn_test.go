package app

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"upshot/internal/cloudflare"
	"upshot/internal/devtools/b2apitest"
	"upshot/internal/devtools/cfapitest"
	"upshot/uploader"
)

// TestPrivatePanelDeploys: the settings' private-bucket panel saves the
// [cdn] settings and deploys the Worker (token mode) with the Cloudflare
// API; the link is verified through the Worker running in workerd as the
// domain's edge, and Remove takes it away.
func TestPrivatePanelDeploys(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	b2 := b2apitest.Start(t, h.srv)
	b2.Key(h.srv.AccessKey, h.srv.SecretKey, b2.Allowed("readFiles", "writeFiles", "deleteFiles", "listFiles", "shareFiles"))
	const token = "cf-panel-token-0123456789"
	api := cfapitest.Start(t, cfapitest.Options{Token: token, Zones: []cfapitest.Zone{{ID: "z1", Name: "127.0.0.1", AccountID: "a1"}}})
	script := cloudflare.ScriptName("127.0.0.1")
	edge := api.StartEdge(t, "a1", script)
	t.Setenv(uploader.EnvCloudflareToken, token)
	cfg := *h.cfg
	cfg.Target.URLTemplate = edge + "/{key}"
	cfg.Target.B2APIURL = b2.URL
	cfg.CDN.CloudflareAPIURL = api.URL
	if err := h.core.Use(t.Context(), &cfg); err != nil {
		t.Fatal(err)
	}
	s := h.u.ensureSettings()
	s.findings.Add(s.privateBox())
	p := s.private
	p.auth.SetSelected(authNames[uploader.CDNToken])
	test.Tap(p.deploy)
	done := func() bool { return p.result.Visible() && p.result.Text != "Working…" }
	h.until("the deployment", done)
	if !strings.Contains(p.result.Text, "Link verified: "+edge+"/") || p.result.Importance == widget.DangerImportance {
		t.Fatalf("panel says %q", p.result.Text)
	}
	if api.Secrets("a1", script)["B2_DOWNLOAD_TOKEN"] == "" || len(api.Routes("z1")) != 1 {
		t.Fatal("the Worker, its secret or its route is missing")
	}
	t.Setenv(uploader.EnvKey, h.srv.SecretKey) // the key went to the keyring or the file
	saved, err := uploader.Load(h.core.configPath)
	if err != nil || !saved.CDN.Private || saved.CDN.Auth != uploader.CDNToken {
		t.Fatalf("saved [cdn] %+v, %v", saved.CDN, err)
	}
	if strings.Contains(p.result.Text, token) {
		t.Fatal("the panel shows the token")
	}

	p.result.SetText("")
	test.Tap(p.remove)
	h.until("the removal", done)
	if _, ok := api.Script("a1", script); ok || !strings.Contains(p.result.Text, "remove") {
		t.Fatalf("after Remove: panel %q, Worker still there %v", p.result.Text, ok)
	}
}
