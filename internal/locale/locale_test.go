package locale

import (
	"slices"
	"testing"
)

func TestTidy(t *testing.T) {
	for _, c := range []struct {
		name    string
		env     []string
		want    []string
		changed bool
	}{
		{"C.UTF-8", []string{"HOME=/root", "LANG=C.UTF-8"}, []string{"HOME=/root", "LANG=C"}, true},
		{"C.utf8", []string{"LANG=C.utf8"}, []string{"LANG=C"}, true},
		{"POSIX with a codeset", []string{"LANG=POSIX.UTF-8"}, []string{"LANG=C"}, true},
		{"LC_ALL decides", []string{"LANG=en_GB.UTF-8", "LC_ALL=C.UTF-8"}, []string{"LANG=en_GB.UTF-8", "LC_ALL=C"}, true},
		{"LC_ALL wins over a C LANG", []string{"LANG=C.UTF-8", "LC_ALL=de_DE.UTF-8"}, []string{"LANG=C.UTF-8", "LC_ALL=de_DE.UTF-8"}, false},
		{"an empty LC_ALL does not decide", []string{"LC_ALL=", "LANG=C.UTF-8"}, []string{"LC_ALL=", "LANG=C"}, true},
		{"plain C", []string{"LANG=C"}, []string{"LANG=C"}, false},
		{"a language", []string{"LANG=fr_FR.UTF-8"}, []string{"LANG=fr_FR.UTF-8"}, false},
		{"nothing set", []string{"HOME=/root"}, []string{"HOME=/root"}, false},
		{"the last entry is the one in force", []string{"LANG=fr_FR.UTF-8", "LANG=C.UTF-8"}, []string{"LANG=fr_FR.UTF-8", "LANG=C"}, true},
	} {
		orig := slices.Clone(c.env)
		got, changed := Tidy(c.env)
		if !slices.Equal(got, c.want) || changed != c.changed {
			t.Errorf("%s: Tidy = %v, %v; want %v, %v", c.name, got, changed, c.want, c.changed)
		}
		if !slices.Equal(c.env, orig) {
			t.Errorf("%s: Tidy changed its argument", c.name)
		}
	}
}
