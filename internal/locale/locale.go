// Package locale tidies the locale environment for the window program.
//
// Many servers and containers set LANG=C.UTF-8: the "C" locale, no language,
// with UTF-8 text. Fyne reads the locale while its packages initialise,
// before main runs, and logs "Error parsing user locale C" for it, since
// "C" is not a language tag; for plain C or POSIX it stays quiet. Both
// mean the same, so the window program is started with the codeset
// dropped. Nothing else in the environment changes.
package locale

import "strings"

// lookup is the order in which the locale variables decide the language
// of messages; the first one set wins.
var lookup = []string{"LC_ALL", "LC_MESSAGES", "LANG"}

// Tidy returns env with the deciding locale variable changed from C.<codeset>
// or POSIX.<codeset> to C, and reports whether it changed anything. env is
// in os.Environ's form and is not modified.
func Tidy(env []string) ([]string, bool) {
	for _, name := range lookup {
		i := index(env, name)
		if i < 0 {
			continue
		}
		v := env[i][len(name)+1:]
		if v == "" {
			continue
		}
		base, _, hasCodeset := strings.Cut(v, ".")
		if !hasCodeset || (base != "C" && base != "POSIX") {
			return env, false
		}
		out := append([]string(nil), env...)
		out[i] = name + "=C"
		return out, true
	}
	return env, false
}

// index finds the last entry for name, the one getenv returns.
func index(env []string, name string) int {
	for i := len(env) - 1; i >= 0; i-- {
		if strings.HasPrefix(env[i], name+"=") {
			return i
		}
	}
	return -1
}
