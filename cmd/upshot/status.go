package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"upshot/internal/core"
	"upshot/internal/store"
	"upshot/uploader"
)

// runStatus says which Upshot runs the queue and what the queue holds.
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("status", stderr)
	asJSON := fs.Bool("json", false, "print one JSON object")
	if rest, err := parseInterleaved(fs, args); err != nil || len(rest) > 0 {
		if err == nil {
			fmt.Fprintln(stderr, "upshot status takes no arguments")
		}
		return exitUsage
	}
	st, err := core.Reach(uploader.DataDir()).Status(ctx)
	if errors.Is(err, core.ErrNotRunning) {
		if *asJSON {
			fmt.Fprintln(stdout, `{"running":false}`)
		} else {
			fmt.Fprintln(stdout, "not running: files wait in the queue until the window or upshot watch starts")
		}
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "upshot: %s\n", oneLine(err))
		return exitFailed
	}
	if *asJSON {
		line, _ := json.Marshal(struct {
			Running bool `json:"running"`
			core.Status
		}{true, st})
		fmt.Fprintf(stdout, "%s\n", line)
		return exitOK
	}
	what := map[string]string{core.RoleWindow: "the window", core.RoleWatch: "upshot watch", core.RoleUpload: "upshot upload", core.RoleInbox: "upshot inbox"}[st.Role]
	if what == "" {
		what = st.Role
	}
	fmt.Fprintf(stdout, "running: %s (process %d)", what, st.PID)
	switch {
	case st.Watching == 1:
		fmt.Fprint(stdout, ", watching 1 folder")
	case st.Watching > 1:
		fmt.Fprintf(stdout, ", watching %d folders", st.Watching)
	}
	fmt.Fprintf(stdout, "\nuploaded since it started: %d\nqueue: %d waiting, %d uploading, %d failed (retried later), %d need you\n",
		st.Uploaded, st.Jobs[store.StateQueued], st.Jobs[store.StateUploading], st.Jobs[store.StateFailed], st.Jobs[store.StateRejected])
	return exitOK
}
