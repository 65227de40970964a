package capture

import "testing"

func TestParseUserDirs(t *testing.T) {
	const home = "/home/ada"
	cases := []struct {
		data string
		want string
		ok   bool
	}{
		{"# written by xdg-user-dirs-update\nXDG_DESKTOP_DIR=\"$HOME/Desktop\"\nXDG_PICTURES_DIR=\"$HOME/Bilder\"\n", "/home/ada/Bilder", true},
		{`XDG_PICTURES_DIR="${HOME}/My Pictures/"`, "/home/ada/My Pictures", true},
		{`XDG_PICTURES_DIR="/srv/pics"`, "/srv/pics", true},
		{`XDG_PICTURES_DIR="$HOME/say \"cheese\""`, `/home/ada/say "cheese"`, true},
		{`XDG_PICTURES_DIR="$HOMEWORK/pics"`, "", false},
		{`XDG_PICTURES_DIR="pics"`, "", false},
		{`# XDG_PICTURES_DIR="/srv/pics"`, "", false},
		{"XDG_DOCUMENTS_DIR=\"$HOME/Docs\"\n", "", false},
	}
	for _, c := range cases {
		got, ok := parseUserDirs(c.data, home)
		if got != c.want || ok != c.ok {
			t.Errorf("parseUserDirs(%q) = %q, %v; want %q, %v", c.data, got, ok, c.want, c.ok)
		}
	}
}

// macOS: captures go to ~/Pictures/Upshot; without HOME, under the
// temporary folder.
func TestHomePictures(t *testing.T) {
	if got := homePictures("/Users/ann", "/var/folders/xy/T"); got != "/Users/ann/Pictures" {
		t.Errorf("homePictures = %q, want /Users/ann/Pictures", got)
	}
	if got := homePictures("", "/var/folders/xy/T"); got != "/var/folders/xy/T/Pictures" {
		t.Errorf("homePictures without a home = %q, want /var/folders/xy/T/Pictures", got)
	}
}
