// Package tidy applies [locale.Tidy] to this process's environment when it
// is initialised. Import it for its side effect, in the window program only:
//
//	import _ "upshot/internal/locale/tidy"
//
// It must run before Fyne's lang package reads the locale in its own
// initialisation. Go initialises packages in import-path order, each as
// soon as its imports are ready; this package imports only the standard
// library's os and strings and upshot/internal/locale, while Fyne's lang
// package waits for packages under vendor/, whose paths sort after
// upshot/. TestQuitsCleanlyAtAnyMoment in package app fails if that ever
// stops holding.
package tidy

import (
	"os"
	"strings"

	"upshot/internal/locale"
)

func init() {
	env, changed := locale.Tidy(os.Environ())
	if !changed {
		return
	}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && os.Getenv(k) != v {
			_ = os.Setenv(k, v)
		}
	}
}
