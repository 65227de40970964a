package uploader

import "testing"

// envOf is a getenv over a fixed environment.
func envOf(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// macFolders is a Mac whose user is ann: os.UserConfigDir on Darwin is
// $HOME/Library/Application Support.
func macFolders(env map[string]string) folders {
	return folders{
		goos:   "darwin",
		getenv: envOf(env),
		home:   "/Users/ann",
		config: "/Users/ann/Library/Application Support",
		temp:   "/var/folders/xy/T",
	}
}

func TestFoldersOnMac(t *testing.T) {
	// The XDG and Windows variables mean nothing on macOS.
	f := macFolders(map[string]string{
		"HOME":            "/Users/ann",
		"XDG_DATA_HOME":   "/Users/ann/.xdg-data",
		"XDG_CONFIG_HOME": "/Users/ann/.xdg-config",
		"LOCALAPPDATA":    "/Users/ann/AppData/Local",
	})
	if got, want := f.configPath(), "/Users/ann/Library/Application Support/upshot/config.toml"; got != want {
		t.Errorf("config file %q, want %q", got, want)
	}
	if got, want := f.dataDir(), "/Users/ann/Library/Application Support/upshot"; got != want {
		t.Errorf("data folder %q, want %q", got, want)
	}
}

func TestFoldersOnMacFromEnvironment(t *testing.T) {
	f := macFolders(map[string]string{
		EnvConfig:  "/Volumes/work/upshot.toml",
		EnvDataDir: "relative/data",
	})
	if got := f.configPath(); got != "/Volumes/work/upshot.toml" {
		t.Errorf("config file %q, want UPSHOT_CONFIG's", got)
	}
	if got := f.dataDir(); got != "relative/data" {
		t.Errorf("data folder %q, want UPSHOT_DATA_DIR's, as given", got)
	}
}

// Without HOME, os.UserConfigDir fails on macOS: the config file is then
// looked for in the working folder, and the data goes to the temporary
// folder.
func TestFoldersOnMacWithoutHome(t *testing.T) {
	f := folders{goos: "darwin", getenv: envOf(nil), temp: "/var/folders/xy/T"}
	if got, want := f.configPath(), "upshot/config.toml"; got != want {
		t.Errorf("config file %q, want %q", got, want)
	}
	if got, want := f.dataDir(), "/var/folders/xy/T/upshot"; got != want {
		t.Errorf("data folder %q, want %q", got, want)
	}
}

// The same inputs on Linux give the XDG folders: the choice is GOOS's.
func TestFoldersOnLinuxDiffer(t *testing.T) {
	f := macFolders(map[string]string{"XDG_DATA_HOME": "/Users/ann/.xdg-data"})
	f.goos = "linux"
	if got, want := f.dataDir(), "/Users/ann/.xdg-data/upshot"; got != want {
		t.Errorf("data folder %q, want %q", got, want)
	}
	f.getenv = envOf(nil)
	if got, want := f.dataDir(), "/Users/ann/.local/share/upshot"; got != want {
		t.Errorf("data folder without XDG_DATA_HOME %q, want %q", got, want)
	}
}
