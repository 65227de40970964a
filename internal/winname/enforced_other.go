//go:build !windows

package winname

// enforced: only Windows refuses these names.
const enforced = false
