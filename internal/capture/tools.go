package capture

import (
	"slices"
	"strings"
)

// The screenshot programs used on Linux and the BSDs when no portal runs,
// as data: what to run for each mode, and where each program works.

// Placeholders in a step's arguments.
const (
	argFile = "{file}" // the file the picture is to be written to
	argPrev = "{prev}" // the previous step's output, trimmed
)

// step is one program run.
type step struct {
	prog string
	args []string
	// picks says the user chooses something in this step (slurp): when it
	// fails, they cancelled.
	picks bool
}

// tool is a screenshot program (with its helpers).
type tool struct {
	name  string // for Shot.Tool
	label string // for Which and messages: what to install
	// x11 says it needs an X server: on a Wayland session only with
	// XWayland (DISPLAY set).
	x11 bool
	// wayland says it needs a Wayland compositor (wlroots' screencopy).
	wayland bool
	// stdout says the picture comes on the last step's standard output
	// instead of in {file}.
	stdout bool
	// steps says what to run for each mode. A Window recipe whose programs
	// are not all installed falls back to the Region one.
	steps map[Mode][]step
}

// tools is the order in which the programs are tried.
var tools = []tool{
	{
		name: "gnome-screenshot", label: "gnome-screenshot",
		steps: map[Mode][]step{
			Region: {{prog: "gnome-screenshot", args: []string{"-a", "-f", argFile}}},
			Window: {{prog: "gnome-screenshot", args: []string{"-w", "-f", argFile}}},
			Screen: {{prog: "gnome-screenshot", args: []string{"-f", argFile}}},
		},
	},
	{
		// -b: no window, -n: no notification.
		name: "spectacle", label: "spectacle",
		steps: map[Mode][]step{
			Region: {{prog: "spectacle", args: []string{"-b", "-n", "-o", argFile, "-r"}}},
			Window: {{prog: "spectacle", args: []string{"-b", "-n", "-o", argFile, "-a"}}},
			Screen: {{prog: "spectacle", args: []string{"-b", "-n", "-o", argFile, "-f"}}},
		},
	},
	{
		// slurp prints the rectangle the user drags ("x,y wxh"), or fails
		// on Esc; it has no window picking, so a window is a region too.
		name: "grim", label: "grim and slurp", wayland: true,
		steps: map[Mode][]step{
			Region: {{prog: "slurp", picks: true}, {prog: "grim", args: []string{"-g", argPrev, argFile}}},
			Window: {{prog: "slurp", picks: true}, {prog: "grim", args: []string{"-g", argPrev, argFile}}},
			Screen: {{prog: "grim", args: []string{argFile}}},
		},
	},
	{
		name: "maim", label: "maim", x11: true,
		steps: map[Mode][]step{
			Region: {{prog: "maim", args: []string{"-s", argFile}}},
			Window: {{prog: "xdotool", args: []string{"getactivewindow"}}, {prog: "maim", args: []string{"-i", argPrev, argFile}}},
			Screen: {{prog: "maim", args: []string{argFile}}},
		},
	},
	{
		// The file never exists beforehand, so scrot needs no -o
		// (overwrite), which older versions lack.
		name: "scrot", label: "scrot", x11: true,
		steps: map[Mode][]step{
			Region: {{prog: "scrot", args: []string{"-s", argFile}}},
			Window: {{prog: "scrot", args: []string{"-u", argFile}}},
			Screen: {{prog: "scrot", args: []string{argFile}}},
		},
	},
	{
		name: "flameshot", label: "flameshot", stdout: true,
		steps: map[Mode][]step{
			Region: {{prog: "flameshot", args: []string{"gui", "--raw"}}},
			Window: {{prog: "flameshot", args: []string{"gui", "--raw"}}},
			Screen: {{prog: "flameshot", args: []string{"full", "--raw"}}},
		},
	},
	{
		// Without -window, import lets the user drag a rectangle or click a
		// window.
		name: "import", label: "ImageMagick (import)", x11: true,
		steps: map[Mode][]step{
			Region: {{prog: "import", args: []string{argFile}}},
			Window: {{prog: "import", args: []string{argFile}}},
			Screen: {{prog: "import", args: []string{"-window", "root", argFile}}},
		},
	},
}

// session is what the environment says about the graphical session.
type session struct {
	x11     bool   // DISPLAY is set
	wayland bool   // WAYLAND_DISPLAY is set
	desktop string // XDG_CURRENT_DESKTOP, e.g. "GNOME" or "sway"
}

// choice is a tool picked for one mode, with the steps to run.
type choice struct {
	tool  *tool
	steps []step
	note  string // for Which, when the mode falls back to another recipe
}

// describe names the tool for Which.
func (c choice) describe() string {
	if c.note != "" {
		return c.tool.label + " (" + c.note + ")"
	}
	return c.tool.label
}

// order is the tools in the order they are tried in session s: grim first
// on a Wayland session other than GNOME's or KDE's (whose compositors lack
// the screencopy protocol grim needs, and have tools of their own).
func order(s session) []*tool {
	out := make([]*tool, 0, len(tools))
	for i := range tools {
		out = append(out, &tools[i])
	}
	if s.wayland && !desktopIs(s.desktop, "GNOME") && !desktopIs(s.desktop, "KDE") {
		slices.SortStableFunc(out, func(a, b *tool) int {
			switch {
			case a.wayland == b.wayland:
				return 0
			case a.wayland:
				return -1
			}
			return 1
		})
	}
	return out
}

// desktopIs reports whether XDG_CURRENT_DESKTOP (a colon-separated list)
// names desktop.
func desktopIs(list, desktop string) bool {
	for d := range strings.SplitSeq(list, ":") {
		if strings.EqualFold(d, desktop) {
			return true
		}
	}
	return false
}

// usable reports whether tool t can run in session s.
func (t *tool) usable(s session) bool {
	switch {
	case t.x11:
		return s.x11
	case t.wayland:
		return s.wayland
	}
	return s.x11 || s.wayland
}

// recipe returns t's steps for mode when their programs are installed
// (has reports that), falling back from Window to Region.
func (t *tool) recipe(mode Mode, has func(string) bool) ([]step, string, bool) {
	installed := func(steps []step) bool {
		for _, st := range steps {
			if !has(st.prog) {
				return false
			}
		}
		return true
	}
	if steps := t.steps[mode]; installed(steps) {
		return steps, "", true
	}
	if mode == Window {
		if steps := t.steps[Region]; installed(steps) {
			missing := ""
			for _, st := range t.steps[Window] {
				if !has(st.prog) {
					missing = st.prog
					break
				}
			}
			return steps, "a region: install " + missing + " to take the active window", true
		}
	}
	return nil, "", false
}

// pickTool chooses the screenshot program for mode in session s, given
// which programs are installed, or says what to install.
func pickTool(s session, mode Mode, has func(string) bool) (choice, error) {
	if !s.x11 && !s.wayland {
		return choice{}, &UnavailableError{Reason: "no display: capture needs a desktop session (DISPLAY or WAYLAND_DISPLAY)"}
	}
	var labels, partial []string
	for _, t := range order(s) {
		if !t.usable(s) {
			continue
		}
		if steps, note, ok := t.recipe(mode, has); ok {
			return choice{tool: t, steps: steps, note: note}, nil
		}
		labels = append(labels, t.label)
		// A tool whose main program is there but not its helper.
		var missing []string
		main := false
		for _, st := range t.steps[mode] {
			if has(st.prog) {
				main = main || st.prog == t.name
			} else {
				missing = append(missing, st.prog)
			}
		}
		if main {
			partial = append(partial, t.name+" is installed but needs "+strings.Join(missing, " and "))
		}
	}
	reason := "no screenshot tool found: install " + orList(labels)
	if s.wayland && !s.x11 {
		reason = "no screenshot tool for this Wayland session found: install " + orList(labels) + " (maim, scrot and ImageMagick's import need X11)"
	}
	if len(partial) > 0 {
		reason += "; " + strings.Join(partial, "; ")
	}
	return choice{}, &UnavailableError{Reason: reason}
}

// orList joins items as "a, b or c".
func orList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// commandLine is a step's program and arguments with the placeholders
// filled in.
func (st step) commandLine(file, prev string) []string {
	out := []string{st.prog}
	for _, a := range st.args {
		switch a {
		case argFile:
			a = file
		case argPrev:
			a = prev
		}
		out = append(out, a)
	}
	return out
}
