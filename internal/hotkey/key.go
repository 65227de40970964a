package hotkey

import (
	"fmt"
	"strings"
)

// Modifier is a set of modifier keys.
type Modifier uint8

// The modifier keys. Super is the Windows key on Windows and Linux (Cmd on a
// Mac keyboard).
const (
	Ctrl Modifier = 1 << iota
	Shift
	Alt
	Super
)

// modNames are the modifiers in canonical order, with their names.
var modNames = []struct {
	mod  Modifier
	name string
}{{Ctrl, "Ctrl"}, {Shift, "Shift"}, {Alt, "Alt"}, {Super, "Super"}}

// modAliases maps every accepted spelling (lower case) to its modifier.
var modAliases = map[string]Modifier{
	"ctrl": Ctrl, "control": Ctrl, "ctl": Ctrl,
	"shift": Shift,
	"alt":   Alt, "option": Alt, "opt": Alt,
	"super": Super, "win": Super, "windows": Super, "meta": Super, "cmd": Super, "command": Super, "logo": Super,
}

// Key is one shortcut: modifiers and one key name ("A".."Z", "0".."9",
// "F1".."F24", "Print", "Space", "Insert", "Delete", "Home", "End",
// "PageUp", "PageDown", "Up", "Down", "Left", "Right", "Escape", "Tab",
// "Pause", "Enter", "Backspace", "ScrollLock", the keypad's "Num0".."Num9"
// and the punctuation keys "Minus", "Equal", "Comma", "Period", "Slash",
// "Backslash", "Semicolon", "Quote", "BracketLeft", "BracketRight" and
// "Backquote"). Parse returns Name in its canonical spelling; the zero Key
// means "not set".
type Key struct {
	Mods Modifier
	Name string
}

// IsZero reports whether k is the zero Key (no shortcut set).
func (k Key) IsZero() bool { return k == Key{} }

// String returns k as Parse reads it, in the canonical order
// Ctrl+Shift+Alt+Super+Name, or "" for the zero Key.
func (k Key) String() string {
	if k.IsZero() {
		return ""
	}
	var b strings.Builder
	for _, m := range modNames {
		if k.Mods&m.mod != 0 {
			b.WriteString(m.name)
			b.WriteByte('+')
		}
	}
	name := k.Name
	if info, ok := lookupKey(name); ok {
		name = info.name
	}
	b.WriteString(name)
	return b.String()
}

// Parse reads a shortcut such as "Ctrl+Shift+Alt+3". It ignores case and
// spaces around '+', and accepts Control or Ctl for Ctrl, Option for Alt,
// and Win, Meta or Cmd for Super. An empty string or "none" is the zero Key
// (not set). A plain key, or Shift alone with a key that types a character,
// is refused because it would stop that key from typing; only Print and
// F13–F24 work without a modifier.
func Parse(s string) (Key, error) {
	trimmed := strings.TrimSpace(s)
	if trimmed == "" || strings.EqualFold(trimmed, "none") {
		return Key{}, nil
	}
	var (
		k       Key
		info    keyInfo
		keyPart string
	)
	for part := range strings.SplitSeq(trimmed, "+") {
		part = strings.TrimSpace(part)
		if part == "" {
			return Key{}, fmt.Errorf("shortcut %q has an empty part between '+' signs: write it like Ctrl+Shift+3", s)
		}
		if m, ok := modAliases[strings.ToLower(part)]; ok {
			if k.Mods&m != 0 {
				return Key{}, fmt.Errorf("shortcut %q names %s twice", s, modName(m))
			}
			k.Mods |= m
			continue
		}
		ki, ok := lookupKey(part)
		if !ok {
			return Key{}, fmt.Errorf("shortcut %q: unknown key %q: use a letter, a digit, F1–F24, Print, Space, Insert, Delete, Home, End, PageUp, PageDown, an arrow (Up, Down, Left, Right), Escape, Tab or Pause", s, part)
		}
		if keyPart != "" {
			if ki.name == info.name {
				return Key{}, fmt.Errorf("shortcut %q names the key %s twice", s, ki.name)
			}
			return Key{}, fmt.Errorf("shortcut %q has two keys, %s and %s: a shortcut is modifiers and one key", s, info.name, ki.name)
		}
		keyPart, info = part, ki
	}
	if keyPart == "" {
		return Key{}, fmt.Errorf("shortcut %q has no key after its modifiers: add one, as in Ctrl+Shift+3", s)
	}
	k.Name = info.name
	if err := checkTyping(k, info); err != nil {
		return Key{}, fmt.Errorf("shortcut %q: %w", s, err)
	}
	return k, nil
}

// checkTyping refuses shortcuts that would take a key away from typing.
func checkTyping(k Key, info keyInfo) error {
	switch {
	case k.Mods == 0 && !info.alone:
		return fmt.Errorf("%s alone would stop that key from working in every program: add Ctrl, Alt or Super (only Print and F13–F24 work alone)", info.name)
	case k.Mods == Shift && info.types:
		return fmt.Errorf("only Shift with %s would stop Shift+%s from typing: add Ctrl, Alt or Super", info.name, info.name)
	}
	return nil
}

func modName(m Modifier) string {
	for _, n := range modNames {
		if n.mod == m {
			return n.name
		}
	}
	return fmt.Sprintf("Modifier(%d)", m)
}

// keyInfo describes one key name and its codes on each system.
type keyInfo struct {
	name   string // canonical spelling
	keysym uint32 // X11 keysym
	xkb    string // XKB keysym name, as the GlobalShortcuts portal spells triggers
	vk     uint16 // Windows virtual-key code
	types  bool   // the key types a character
	alone  bool   // the key may be a shortcut without modifiers
}

// keyTable is indexed by lower-case name and alias.
var keyTable = buildKeyTable()

func buildKeyTable() map[string]keyInfo {
	t := map[string]keyInfo{}
	add := func(info keyInfo, aliases ...string) {
		for _, n := range append([]string{info.name}, aliases...) {
			t[strings.ToLower(n)] = info
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		lower := c + 'a' - 'A'
		add(keyInfo{name: string(c), keysym: uint32(lower), xkb: string(lower), vk: uint16(c), types: true})
	}
	for c := '0'; c <= '9'; c++ {
		add(keyInfo{name: string(c), keysym: uint32(c), xkb: string(c), vk: uint16(c), types: true})
		n := c - '0'
		add(keyInfo{name: fmt.Sprintf("Num%d", n), keysym: 0xffb0 + uint32(n), xkb: fmt.Sprintf("KP_%d", n), vk: 0x60 + uint16(n), types: true},
			fmt.Sprintf("Numpad%d", n), fmt.Sprintf("KP%d", n), fmt.Sprintf("KP_%d", n))
	}
	for n := 1; n <= 24; n++ {
		add(keyInfo{name: fmt.Sprintf("F%d", n), keysym: 0xffbe + uint32(n-1), xkb: fmt.Sprintf("F%d", n), vk: 0x70 + uint16(n-1), alone: n >= 13})
	}
	add(keyInfo{name: "Print", keysym: 0xff61, xkb: "Print", vk: 0x2c, alone: true}, "PrintScreen", "PrtSc", "PrtScn", "SysRq")
	add(keyInfo{name: "Space", keysym: 0x20, xkb: "space", vk: 0x20, types: true})
	add(keyInfo{name: "Insert", keysym: 0xff63, xkb: "Insert", vk: 0x2d}, "Ins")
	add(keyInfo{name: "Delete", keysym: 0xffff, xkb: "Delete", vk: 0x2e}, "Del")
	add(keyInfo{name: "Home", keysym: 0xff50, xkb: "Home", vk: 0x24})
	add(keyInfo{name: "End", keysym: 0xff57, xkb: "End", vk: 0x23})
	add(keyInfo{name: "PageUp", keysym: 0xff55, xkb: "Prior", vk: 0x21}, "PgUp", "Prior")
	add(keyInfo{name: "PageDown", keysym: 0xff56, xkb: "Next", vk: 0x22}, "PgDn", "Next")
	add(keyInfo{name: "Left", keysym: 0xff51, xkb: "Left", vk: 0x25})
	add(keyInfo{name: "Up", keysym: 0xff52, xkb: "Up", vk: 0x26})
	add(keyInfo{name: "Right", keysym: 0xff53, xkb: "Right", vk: 0x27})
	add(keyInfo{name: "Down", keysym: 0xff54, xkb: "Down", vk: 0x28})
	add(keyInfo{name: "Escape", keysym: 0xff1b, xkb: "Escape", vk: 0x1b}, "Esc")
	add(keyInfo{name: "Tab", keysym: 0xff09, xkb: "Tab", vk: 0x09})
	add(keyInfo{name: "Pause", keysym: 0xff13, xkb: "Pause", vk: 0x13}, "Break")
	add(keyInfo{name: "Enter", keysym: 0xff0d, xkb: "Return", vk: 0x0d}, "Return")
	add(keyInfo{name: "Backspace", keysym: 0xff08, xkb: "BackSpace", vk: 0x08})
	add(keyInfo{name: "ScrollLock", keysym: 0xff14, xkb: "Scroll_Lock", vk: 0x91})
	add(keyInfo{name: "Minus", keysym: 0x2d, xkb: "minus", vk: 0xbd, types: true}, "-")
	add(keyInfo{name: "Equal", keysym: 0x3d, xkb: "equal", vk: 0xbb, types: true}, "Equals", "=")
	add(keyInfo{name: "Comma", keysym: 0x2c, xkb: "comma", vk: 0xbc, types: true}, ",")
	add(keyInfo{name: "Period", keysym: 0x2e, xkb: "period", vk: 0xbe, types: true}, "Dot", ".")
	add(keyInfo{name: "Slash", keysym: 0x2f, xkb: "slash", vk: 0xbf, types: true}, "/")
	add(keyInfo{name: "Backslash", keysym: 0x5c, xkb: "backslash", vk: 0xdc, types: true}, `\`)
	add(keyInfo{name: "Semicolon", keysym: 0x3b, xkb: "semicolon", vk: 0xba, types: true}, ";")
	add(keyInfo{name: "Quote", keysym: 0x27, xkb: "apostrophe", vk: 0xde, types: true}, "Apostrophe", "'")
	add(keyInfo{name: "BracketLeft", keysym: 0x5b, xkb: "bracketleft", vk: 0xdb, types: true}, "[")
	add(keyInfo{name: "BracketRight", keysym: 0x5d, xkb: "bracketright", vk: 0xdd, types: true}, "]")
	add(keyInfo{name: "Backquote", keysym: 0x60, xkb: "grave", vk: 0xc0, types: true}, "Grave", "`")
	return t
}

// lookupKey finds a key by any accepted spelling, ignoring case.
func lookupKey(name string) (keyInfo, bool) {
	info, ok := keyTable[strings.ToLower(strings.TrimSpace(name))]
	return info, ok
}
