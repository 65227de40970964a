// Package assets holds Upshot's icons and images, embedded in the binary.
package assets

import _ "embed"

// Icon is the application icon: a 256×256 PNG.
//
//go:embed icon.png
var Icon []byte
