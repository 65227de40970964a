package capture

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// The exact command lines of every tool and mode, with the file
// "/d/capture.png" and the previous step's output "PREV".
func TestToolCommandLines(t *testing.T) {
	const f = "/d/capture.png"
	want := map[string]map[Mode][][]string{
		"gnome-screenshot": {
			Region: {{"gnome-screenshot", "-a", "-f", f}},
			Window: {{"gnome-screenshot", "-w", "-f", f}},
			Screen: {{"gnome-screenshot", "-f", f}},
		},
		"spectacle": {
			Region: {{"spectacle", "-b", "-n", "-o", f, "-r"}},
			Window: {{"spectacle", "-b", "-n", "-o", f, "-a"}},
			Screen: {{"spectacle", "-b", "-n", "-o", f, "-f"}},
		},
		"grim": {
			Region: {{"slurp"}, {"grim", "-g", "PREV", f}},
			Window: {{"slurp"}, {"grim", "-g", "PREV", f}},
			Screen: {{"grim", f}},
		},
		"maim": {
			Region: {{"maim", "-s", f}},
			Window: {{"xdotool", "getactivewindow"}, {"maim", "-i", "PREV", f}},
			Screen: {{"maim", f}},
		},
		"scrot": {
			Region: {{"scrot", "-s", f}},
			Window: {{"scrot", "-u", f}},
			Screen: {{"scrot", f}},
		},
		"flameshot": {
			Region: {{"flameshot", "gui", "--raw"}},
			Window: {{"flameshot", "gui", "--raw"}},
			Screen: {{"flameshot", "full", "--raw"}},
		},
		"import": {
			Region: {{"import", f}},
			Window: {{"import", f}},
			Screen: {{"import", "-window", "root", f}},
		},
	}
	var names []string
	for _, tl := range tools {
		names = append(names, tl.name)
		for _, mode := range []Mode{Region, Window, Screen} {
			var got [][]string
			for _, st := range tl.steps[mode] {
				got = append(got, st.commandLine(f, "PREV"))
			}
			if !slices.EqualFunc(got, want[tl.name][mode], slices.Equal) {
				t.Errorf("%s %s: %q, want %q", tl.name, mode, got, want[tl.name][mode])
			}
		}
	}
	if wantOrder := []string{"gnome-screenshot", "spectacle", "grim", "maim", "scrot", "flameshot", "import"}; !slices.Equal(names, wantOrder) {
		t.Errorf("tools in order %q, want %q", names, wantOrder)
	}
}

// installed makes a has function for pickTool.
func installed(progs ...string) func(string) bool {
	return func(p string) bool { return slices.Contains(progs, p) }
}

var allProgs = []string{"gnome-screenshot", "spectacle", "grim", "slurp", "maim", "xdotool", "scrot", "flameshot", "import"}

func TestPickTool(t *testing.T) {
	x11 := session{x11: true}
	sway := session{wayland: true, desktop: "sway"}
	gnomeWayland := session{wayland: true, x11: true, desktop: "ubuntu:GNOME"}
	cases := []struct {
		name  string
		s     session
		mode  Mode
		progs []string
		tool  string
		first []string // the first step's command line, with file F and PREV
		which string
	}{
		{"X11, everything", x11, Region, allProgs, "gnome-screenshot", []string{"gnome-screenshot", "-a", "-f", "F"}, "gnome-screenshot"},
		{"X11 skips grim", x11, Screen, []string{"grim", "slurp", "scrot"}, "scrot", []string{"scrot", "F"}, "scrot"},
		{"sway prefers grim", sway, Region, allProgs, "grim", []string{"slurp"}, "grim and slurp"},
		{"sway skips X11 tools", sway, Screen, []string{"maim", "scrot", "import", "flameshot"}, "flameshot", []string{"flameshot", "full", "--raw"}, "flameshot"},
		{"GNOME on Wayland keeps the order", gnomeWayland, Region, allProgs, "gnome-screenshot", []string{"gnome-screenshot", "-a", "-f", "F"}, "gnome-screenshot"},
		{"XWayland allows X11 tools", session{wayland: true, x11: true, desktop: "sway"}, Window, []string{"scrot"}, "scrot", []string{"scrot", "-u", "F"}, "scrot"},
		{"maim window with xdotool", x11, Window, []string{"maim", "xdotool"}, "maim", []string{"xdotool", "getactivewindow"}, "maim"},
		{"maim window without xdotool", x11, Window, []string{"maim"}, "maim", []string{"maim", "-s", "F"}, "maim (a region: install xdotool to take the active window)"},
		{"grim screen without slurp", sway, Screen, []string{"grim"}, "grim", []string{"grim", "F"}, "grim and slurp"},
		{"import", x11, Screen, []string{"import"}, "import", []string{"import", "-window", "root", "F"}, "ImageMagick (import)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := pickTool(c.s, c.mode, installed(c.progs...))
			if err != nil {
				t.Fatal(err)
			}
			if got.tool.name != c.tool || !slices.Equal(got.steps[0].commandLine("F", "PREV"), c.first) || got.describe() != c.which {
				t.Errorf("got %s %q (%q), want %s %q (%q)", got.tool.name, got.steps[0].commandLine("F", "PREV"), got.describe(), c.tool, c.first, c.which)
			}
		})
	}
}

func TestPickToolUnavailable(t *testing.T) {
	cases := []struct {
		name  string
		s     session
		mode  Mode
		progs []string
		want  []string
	}{
		{"no display", session{}, Screen, allProgs, []string{"no display", "DISPLAY", "WAYLAND_DISPLAY"}},
		{"X11, nothing", session{x11: true}, Region, nil,
			[]string{"no screenshot tool found: install gnome-screenshot, spectacle, maim, scrot, flameshot or ImageMagick (import)"}},
		{"Wayland, X11 tools only", session{wayland: true}, Region, []string{"scrot", "maim", "import"},
			[]string{"Wayland", "install grim and slurp, gnome-screenshot, spectacle or flameshot", "need X11"}},
		{"grim without slurp", session{wayland: true}, Region, []string{"grim"},
			[]string{"grim and slurp", "grim is installed but needs slurp"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := pickTool(c.s, c.mode, installed(c.progs...))
			var u *UnavailableError
			if !errors.As(err, &u) {
				t.Fatalf("error %v, want an *UnavailableError", err)
			}
			for _, w := range c.want {
				if !strings.Contains(u.Reason, w) {
					t.Errorf("%q does not contain %q", u.Reason, w)
				}
			}
		})
	}
}
