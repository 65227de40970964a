//go:build windows

package winname

// enforced: Windows refuses these names.
const enforced = true
