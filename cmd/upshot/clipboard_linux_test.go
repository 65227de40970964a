package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"upshot/internal/devtools/xvfbtest"
)

// TestClipboardOutlivesCLI runs the real binary under Xvfb: after it has
// exited, the X clipboard still holds the link it printed, whether xclip
// is installed or the binary has to keep the selection itself.
func TestClipboardOutlivesCLI(t *testing.T) {
	xclip, err := exec.LookPath("xclip")
	if err != nil {
		t.Fatal("xclip is needed to read the clipboard from outside (make test installs it)")
	}
	display := xvfbtest.Start(t, 640, 480)
	e := newCLIEnv(t, "")
	for _, c := range []struct{ name, path string }{
		{"with xclip", os.Getenv("PATH")},
		{"without tools", t.TempDir()}, // an empty PATH: no xclip, no xsel
	} {
		t.Run(c.name, func(t *testing.T) {
			file := tempFile(t, strings.ReplaceAll(c.name, " ", "-")+".png", 500)
			env := []string{"DISPLAY=" + display, "WAYLAND_DISPLAY=", "PATH=" + c.path,
				"UPSHOT_DATA_DIR=" + e.data, "B2_APPLICATION_KEY_ID=" + e.srv.AccessKey, "B2_APPLICATION_KEY=" + e.srv.SecretKey}
			code, out, errs, _ := runBin(t, nil, env, "upload", "--config", e.config, "--format", "markdown", file)
			if code != 0 || errs != "" {
				t.Fatalf("exit %d, stderr %q", code, errs)
			}
			read := exec.CommandContext(t.Context(), xclip, "-o", "-selection", "clipboard")
			read.Env = append(os.Environ(), "DISPLAY="+display)
			got, err := read.Output()
			if err != nil {
				t.Fatalf("xclip -o: %v", err)
			}
			if want := strings.TrimSpace(out); string(got) != want || !strings.HasPrefix(want, "![") {
				t.Fatalf("clipboard holds %q, the CLI printed %q", got, want)
			}
		})
	}
}

func TestNoDisplayStillPrintsLink(t *testing.T) {
	e := newCLIEnv(t, "")
	a, b := tempFile(t, "a.png", 10), tempFile(t, "b.png", 20)
	env := []string{"DISPLAY=", "WAYLAND_DISPLAY=", "UPSHOT_DATA_DIR=" + e.data,
		"B2_APPLICATION_KEY_ID=" + e.srv.AccessKey, "B2_APPLICATION_KEY=" + e.srv.SecretKey}
	code, out, errs, _ := runBin(t, nil, env, "upload", "--config", e.config, a, b)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if n := strings.Count(out, e.srv.Endpoint); n != 2 {
		t.Fatalf("want both links printed, got %q", out)
	}
	if strings.Count(errs, "warning") != 1 || !strings.Contains(errs, "no display") {
		t.Fatalf("want one warning about the missing display, got %q", errs)
	}
}
