//go:build !(windows || (linux && cgo && !android) || (darwin && cgo && !ios))

package clipboard

import (
	"context"
	"errors"
)

// libAvailable says golang.design/x/clipboard is built in. It is not: this
// build has no cgo (or the system has no support), and its calls would panic.
const libAvailable = false

var errNoLib = errors.New("golang.design/x/clipboard is not built in (it needs cgo on this system)")

func libInit() error                                                    { return errNoLib }
func libWrite(context.Context, format, []byte) (<-chan struct{}, error) { return nil, errNoLib }
func libRead(context.Context, format) ([]byte, error)                   { return nil, errNoLib }
