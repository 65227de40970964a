package notify

import (
	"context"
	"fmt"
	"os/exec"
)

// send runs osascript's "display notification".
func send(ctx context.Context, title, body string) error {
	if out, err := exec.CommandContext(ctx, "osascript", osascriptArgs(title, body)...).CombinedOutput(); err != nil {
		return fmt.Errorf("notify: osascript: %w: %s", err, out)
	}
	return nil
}
