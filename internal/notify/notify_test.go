package notify

import (
	"errors"
	"strings"
	"testing"
)

func TestAppleScriptQuotes(t *testing.T) {
	got := appleScript(`Uploaded "a\b"`, "line one\nline two")
	want := `display notification "line one line two" with title "Uploaded \"a\\b\""`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestOsascriptArgs(t *testing.T) {
	cases := []struct{ title, body, script string }{
		{"Upshot", "Link copied", `display notification "Link copied" with title "Upshot"`},
		{"", "", `display notification "" with title ""`},
		{`say "hi"`, `C:\path\`, `display notification "C:\\path\\" with title "say \"hi\""`},
		{`\"`, `\\"`, `display notification "\\\\\"" with title "\\\""`},
		{"a\r\nb", "tab\there", "display notification \"tab\there\" with title \"a  b\""},
		{`" & (do shell script "rm -rf ~") & "`, "café ✓ 📸",
			`display notification "café ✓ 📸" with title "\" & (do shell script \"rm -rf ~\") & \""`},
	}
	for _, c := range cases {
		args := osascriptArgs(c.title, c.body)
		if len(args) != 2 || args[0] != "-e" || args[1] != c.script {
			t.Errorf("osascriptArgs(%q, %q) = %q, want -e %s", c.title, c.body, args, c.script)
		}
	}
}

// FuzzOsascriptArgs reads the script back as AppleScript would: it is
// one display notification command whose two string literals hold the
// body and the title, with line breaks made spaces, whatever they contain.
func FuzzOsascriptArgs(f *testing.F) {
	for _, s := range [][2]string{
		{"Upshot", "Link copied"},
		{`"`, `\`},
		{`\"`, `"\`},
		{"a\nb\rc", "\"\n\\"},
		{`" with title "x`, `" & quit & "`},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, title, body string) {
		args := osascriptArgs(title, body)
		if len(args) != 2 || args[0] != "-e" {
			t.Fatalf("args %q, want -e and a script", args)
		}
		script := args[1]
		rest, ok := strings.CutPrefix(script, "display notification ")
		if !ok {
			t.Fatalf("script %q is not a display notification", script)
		}
		gotBody, rest, err := appleLiteral(rest)
		if err != nil {
			t.Fatalf("script %q: the body: %v", script, err)
		}
		rest, ok = strings.CutPrefix(rest, " with title ")
		if !ok {
			t.Fatalf("script %q: no title after the body", script)
		}
		gotTitle, rest, err := appleLiteral(rest)
		if err != nil || rest != "" {
			t.Fatalf("script %q: the title: %v, then %q", script, err, rest)
		}
		flat := strings.NewReplacer("\r", " ", "\n", " ")
		if gotBody != flat.Replace(body) || gotTitle != flat.Replace(title) {
			t.Fatalf("script %q reads as body %q, title %q; want %q, %q", script, gotBody, gotTitle, body, title)
		}
	})
}

// appleLiteral reads the AppleScript string literal at the start of s and
// returns its value and what follows it. Inside the quotes a backslash
// escapes \, ", n, r or t; a line break is refused, as appleString never
// writes one.
func appleLiteral(s string) (value, rest string, err error) {
	if !strings.HasPrefix(s, `"`) {
		return "", "", errors.New("no opening quote")
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], nil
		case '\r', '\n':
			return "", "", errors.New("a line break inside the string")
		case '\\':
			if i+1 == len(s) {
				return "", "", errors.New("a backslash at the end")
			}
			i++
			switch e := s[i]; e {
			case '\\', '"':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			default:
				return "", "", errors.New(`an unknown escape \` + string(e))
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", errors.New("no closing quote")
}
