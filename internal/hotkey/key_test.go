package hotkey

import (
	"errors"
	"strings"
	"testing"
)

var parseCases = []struct {
	in   string
	want Key
	str  string // String() of want
}{
	{"", Key{}, ""},
	{"  ", Key{}, ""},
	{"none", Key{}, ""},
	{"NONE", Key{}, ""},
	{"Ctrl+Shift+Alt+3", Key{Ctrl | Shift | Alt, "3"}, "Ctrl+Shift+Alt+3"},
	{"alt+shift+ctrl+3", Key{Ctrl | Shift | Alt, "3"}, "Ctrl+Shift+Alt+3"},
	{" Control + Shift + a ", Key{Ctrl | Shift, "A"}, "Ctrl+Shift+A"},
	{"ctl+x", Key{Ctrl, "X"}, "Ctrl+X"},
	{"Win+Print", Key{Super, "Print"}, "Super+Print"},
	{"Super+Shift+s", Key{Shift | Super, "S"}, "Shift+Super+S"},
	{"Meta+F1", Key{Super, "F1"}, "Super+F1"},
	{"Cmd+Option+4", Key{Alt | Super, "4"}, "Alt+Super+4"},
	{"Print", Key{0, "Print"}, "Print"},
	{"printscreen", Key{0, "Print"}, "Print"},
	{"Shift+Print", Key{Shift, "Print"}, "Shift+Print"},
	{"F13", Key{0, "F13"}, "F13"},
	{"f24", Key{0, "F24"}, "F24"},
	{"Shift+F5", Key{Shift, "F5"}, "Shift+F5"},
	{"Ctrl+Alt+pgup", Key{Ctrl | Alt, "PageUp"}, "Ctrl+Alt+PageUp"},
	{"Ctrl+Alt+Page_Down", Key{}, ""}, // unknown: see parseErrors
	{"Alt+Esc", Key{Alt, "Escape"}, "Alt+Escape"},
	{"Ctrl+Space", Key{Ctrl, "Space"}, "Ctrl+Space"},
	{"Ctrl+Alt+Num7", Key{Ctrl | Alt, "Num7"}, "Ctrl+Alt+Num7"},
	{"Ctrl+Alt+-", Key{Ctrl | Alt, "Minus"}, "Ctrl+Alt+Minus"},
	{"Ctrl+Shift+Delete", Key{Ctrl | Shift, "Delete"}, "Ctrl+Shift+Delete"},
	{"Shift+Insert", Key{Shift, "Insert"}, "Shift+Insert"},
	{"Ctrl+Pause", Key{Ctrl, "Pause"}, "Ctrl+Pause"},
}

func TestParse(t *testing.T) {
	for _, c := range parseCases {
		if c.in == "Ctrl+Alt+Page_Down" {
			continue
		}
		got, err := Parse(c.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got != c.want {
			t.Errorf("Parse(%q) = %#v, want %#v", c.in, got, c.want)
		}
		if s := got.String(); s != c.str {
			t.Errorf("Parse(%q).String() = %q, want %q", c.in, s, c.str)
		}
		if got.IsZero() != (c.str == "") {
			t.Errorf("Parse(%q).IsZero() = %v", c.in, got.IsZero())
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Ctrl+Alt+Page_Down", `unknown key "Page_Down"`},
		{"Ctrl+Hyper+3", `unknown key "Hyper"`},
		{"A", "A alone would stop that key from working"},
		{"3", "add Ctrl, Alt or Super (only Print and F13–F24 work alone)"},
		{"F5", "F5 alone"},
		{"Escape", "Escape alone"},
		{"Shift+A", "only Shift with A would stop Shift+A from typing: add Ctrl, Alt or Super"},
		{"shift+3", "would stop Shift+3 from typing"},
		{"Shift+Space", "would stop Shift+Space from typing"},
		{"Ctrl+Ctrl+3", "names Ctrl twice"},
		{"Control+Ctl+3", "names Ctrl twice"},
		{"Win+Super+3", "names Super twice"},
		{"Ctrl+3+3", "names the key 3 twice"},
		{"Ctrl+A+B", "has two keys, A and B"},
		{"Ctrl+Shift", "no key after its modifiers"},
		{"Ctrl++3", "empty part"},
		{"Ctrl+3+", "empty part"},
		{"+", "empty part"},
	} {
		k, err := Parse(c.in)
		if err == nil {
			t.Errorf("Parse(%q) = %v, want an error containing %q", c.in, k, c.want)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%q) error %q, want it to contain %q", c.in, err, c.want)
		}
		if !strings.Contains(err.Error(), c.in) {
			t.Errorf("Parse(%q) error %q does not quote the input", c.in, err)
		}
	}
}

// Every key name in the table parses with a modifier and round-trips.
func TestEveryKeyRoundTrips(t *testing.T) {
	seen := map[string]bool{}
	for alias, info := range keyTable {
		for _, mods := range []Modifier{Ctrl | Alt, Ctrl | Shift | Alt | Super} {
			k, err := Parse(modsString(mods) + alias)
			if err != nil {
				t.Fatalf("Parse with key %q: %v", alias, err)
			}
			if k.Name != info.name {
				t.Errorf("alias %q parsed as %q, want %q", alias, k.Name, info.name)
			}
			back, err := Parse(k.String())
			if err != nil || back != k {
				t.Errorf("Parse(%q) = %v, %v; want %v", k.String(), back, err, k)
			}
		}
		seen[info.name] = true
	}
	// The names the API promises.
	for _, n := range []string{"A", "Z", "0", "9", "F1", "F24", "Print", "Space", "Insert", "Delete", "Home", "End", "PageUp", "PageDown", "Up", "Down", "Left", "Right", "Escape", "Tab", "Pause"} {
		if !seen[n] {
			t.Errorf("key %q is missing", n)
		}
	}
}

func modsString(m Modifier) string {
	var b strings.Builder
	for _, n := range modNames {
		if m&n.mod != 0 {
			b.WriteString(n.name + "+")
		}
	}
	return b.String()
}

func TestStringOfUnparsedKey(t *testing.T) {
	// A Key built in code gets the canonical name; an unknown one is kept.
	if got := (Key{Mods: Super | Ctrl, Name: "pgdn"}).String(); got != "Ctrl+Super+PageDown" {
		t.Errorf("String = %q", got)
	}
	if got := (Key{Mods: Alt, Name: "Hyper"}).String(); got != "Alt+Hyper" {
		t.Errorf("String = %q", got)
	}
}

func FuzzParse(f *testing.F) {
	for _, c := range parseCases {
		f.Add(c.in)
		f.Add(c.str)
	}
	f.Add("Ctrl+Shift+Alt+Super+F24")
	f.Add("ctrl + + a")
	f.Fuzz(func(t *testing.T, s string) {
		k, err := Parse(s)
		if err != nil {
			return
		}
		str := k.String()
		back, err := Parse(str)
		if err != nil {
			t.Fatalf("Parse(%q) = %v, but Parse of its String %q fails: %v", s, k, str, err)
		}
		if back != k {
			t.Fatalf("Parse(%q) = %#v; Parse(%q) = %#v", s, k, str, back)
		}
		if back.String() != str {
			t.Fatalf("String is not stable: %q, then %q", str, back.String())
		}
		if k.IsZero() != (str == "") {
			t.Fatalf("Parse(%q): IsZero %v with String %q", s, k.IsZero(), str)
		}
	})
}

func TestPlan(t *testing.T) {
	if _, _, err := plan([]Binding{{ID: "a", Key: Key{Ctrl, "A"}}, {ID: "b"}, {ID: "a"}}); err == nil || !strings.Contains(err.Error(), `"a" is listed twice`) {
		t.Errorf("an ID used twice: %v", err)
	}
	keys, errs, err := plan([]Binding{
		{ID: "region", Key: Key{Ctrl | Shift | Alt, "3"}},
		{ID: "off", Key: Key{}},
		{ID: "screen", Key: Key{Ctrl | Shift | Alt, "4"}},
		{ID: "clip", Key: Key{Alt | Shift | Ctrl, "3"}},
		{ID: "open", Key: Key{Ctrl, "Hyper"}},
		{ID: "pause", Key: Key{Super, "pause"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.id+"="+k.key.String())
	}
	if got, want := strings.Join(ids, " "), "region=Ctrl+Shift+Alt+3 screen=Ctrl+Shift+Alt+4 pause=Super+Pause"; got != want {
		t.Errorf("planned %s, want %s", got, want)
	}
	if len(errs) != 2 || errs["clip"] == nil || errs["open"] == nil {
		t.Fatalf("errors %v, want clip and open", errs)
	}
	if !strings.Contains(errs["clip"].Error(), "Ctrl+Shift+Alt+3 is already the shortcut for region") {
		t.Errorf("clip: %v", errs["clip"])
	}
	if !strings.Contains(errs["open"].Error(), `"Hyper" is not a key`) {
		t.Errorf("open: %v", errs["open"])
	}
	var taken *TakenError
	if errors.As(errs["clip"], &taken) {
		t.Errorf("a key used twice by Upshot is not taken by another program")
	}
}

func TestTakenError(t *testing.T) {
	err := error(&TakenError{Key: Key{Ctrl | Shift | Alt, "3"}})
	want := "Ctrl+Shift+Alt+3 is already taken by another program: choose another in Settings → Capture"
	if err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
}

func TestRepeatFilter(t *testing.T) {
	type ev struct {
		press bool
		code  uint32
		time  uint32
		want  bool // for presses: a new press
	}
	for name, evs := range map[string][]ev{
		// Detectable auto-repeat: presses, then one release.
		"detectable": {{true, 12, 100, true}, {true, 12, 760, false}, {true, 12, 800, false}, {false, 12, 830, false}, {true, 12, 900, true}, {false, 12, 950, false}},
		// Core auto-repeat: a release and a press with the same time.
		"core": {{true, 12, 100, true}, {false, 12, 760, false}, {true, 12, 760, false}, {false, 12, 800, false}, {true, 12, 800, false}, {false, 12, 830, false}, {true, 12, 900, true}},
		// Two keys held at once are each pressed once.
		"two keys": {{true, 12, 100, true}, {true, 13, 120, true}, {true, 12, 130, false}, {false, 13, 140, false}, {true, 13, 150, true}},
		// A release of another key with the same time is no repeat.
		"other key": {{true, 12, 100, true}, {false, 13, 200, false}, {false, 12, 200, false}, {true, 13, 200, false}, {true, 14, 200, true}},
	} {
		var f repeatFilter
		for i, e := range evs {
			if !e.press {
				f.release(e.code, e.time)
				continue
			}
			if got := f.press(e.code, e.time); got != e.want {
				t.Errorf("%s: event %d (press %d at %d): new = %v, want %v", name, i, e.code, e.time, got, e.want)
			}
		}
	}
}
