package uploader

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// TestReadmeConfigLoads keeps the README's config example honest: every
// ```toml block in it must load (with credentials from the environment).
func TestReadmeConfigLoads(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```toml\n(.*?)```").FindAllSubmatch(raw, -1)
	if len(blocks) == 0 {
		t.Fatal("README.md has no toml example")
	}
	t.Setenv(EnvKeyID, "004example")
	t.Setenv(EnvKey, "example-key")
	var body []byte
	for _, b := range blocks {
		body = append(body, b[1]...)
	}
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, body, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err != nil {
		t.Fatalf("the README's config does not load:\n%v", err)
	}
}
