package app

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
)

// TestPhonePage opens the phone inbox from the window: its code and
// address appear, a phone that opens the page is listed, the bucket's
// CORS rule can be set from there, and closing the inbox shuts the
// address.
func TestPhonePage(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	cfg := *h.cfg
	cfg.Inbox.Listen = "127.0.0.1:0"
	if err := h.core.Use(t.Context(), &cfg); err != nil {
		t.Fatal(err)
	}
	p := h.u.phone
	h.u.raise("phone")
	if h.u.tabs.Selected() != h.u.phoneTab || p.openBox.Visible() {
		t.Fatal("raise(\"phone\") should show the phone page, closed")
	}
	test.Tap(p.openBtn)
	h.until("the inbox opens", func() bool { return p.openBox.Visible() })
	addr := p.address.Text
	base, token, ok := strings.Cut(addr, "/#")
	if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") || len(token) != 22 || p.qr.Image == nil {
		t.Fatalf("address %q, QR %v: want a loopback page URL with a token, and its code", addr, p.qr.Image != nil)
	}
	if !p.allowBtn.Visible() || !strings.Contains(p.direct.Text, "through this computer") {
		t.Fatalf("without a CORS rule: %q, allow button shown %v", p.direct.Text, p.allowBtn.Visible())
	}

	req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/api/session", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("User-Agent", "Mozilla/5.0 (Linux; Android 15; Pixel 9)")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sess map[string]any
	json.NewDecoder(resp.Body).Decode(&sess)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(sess["desktop"].(string), "Upshot on") {
		t.Fatalf("the page's session: %d %v", resp.StatusCode, sess)
	}
	h.until("the phone is listed", func() bool { return strings.Contains(p.devices.Text, "Android phone at 127.0.0.1") })

	test.Tap(p.allowBtn)
	h.until("direct uploads are allowed", func() bool { return p.direct.Text == "Phones upload straight to your bucket." })
	if p.allowBtn.Visible() {
		t.Fatal("the allow button is still shown once the rule is set")
	}

	test.Tap(p.closeBtn)
	h.until("the inbox closes", func() bool { return p.closedBox.Visible() && !p.openBox.Visible() })
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the closed inbox's address answers %d, want 401", resp.StatusCode)
	}
	if !strings.Contains(p.reason.Text, "closed") || p.openBtn.Disabled() {
		t.Fatalf("after closing: %q, open button disabled %v", p.reason.Text, p.openBtn.Disabled())
	}
}
