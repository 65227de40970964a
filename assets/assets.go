// Package assets holds Upshot's icons and images, embedded in the binary.
package assets

import _ "embed"

//go:generate go run gen_tray.go

// Icon is the application icon: a 256×256 PNG.
//
//go:embed icon.png
var Icon []byte

// Tray icons, 64×64 PNGs drawn from Icon by gen_tray.go: TrayIdle when
// nothing is happening, TrayUploading while files upload, TrayError when
// the last upload failed.
var (
	//go:embed tray_idle.png
	TrayIdle []byte
	//go:embed tray_uploading.png
	TrayUploading []byte
	//go:embed tray_error.png
	TrayError []byte
)
