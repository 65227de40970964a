package autostart

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/windows/registry"
)

// Supported says "Open at login" works on this system: on
// Windows through the user's Run key.
const Supported = true

// runKey is the user's list of programs Windows starts at login, and
// runValue Upshot's entry in it.
const (
	runKey   = `Software\Microsoft\Windows\CurrentVersion\Run`
	runValue = "Upshot"
)

// Enabled reports whether Upshot opens at login.
func Enabled() bool {
	k, err := registry.OpenKey(registry.CURRENT_USER, runKey, registry.QUERY_VALUE)
	if err != nil {
		return false
	}
	defer k.Close()
	_, _, err = k.GetStringValue(runValue)
	return err == nil
}

// Set writes or removes the Run entry, which starts the running
// executable.
func Set(enabled bool, _ string) error {
	k, _, err := registry.CreateKey(registry.CURRENT_USER, runKey, registry.SET_VALUE)
	if err != nil {
		return fmt.Errorf("open HKCU\\%s: %w", runKey, err)
	}
	defer k.Close()
	if !enabled {
		if err := k.DeleteValue(runValue); err != nil && !errors.Is(err, registry.ErrNotExist) {
			return fmt.Errorf("remove %s from HKCU\\%s: %w", runValue, runKey, err)
		}
		return nil
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find Upshot's own path for the Run entry: %w", err)
	}
	if err := k.SetStringValue(runValue, `"`+exe+`"`); err != nil {
		return fmt.Errorf("write %s in HKCU\\%s: %w", runValue, runKey, err)
	}
	return nil
}
