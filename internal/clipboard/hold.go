package clipboard

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// HoldCommand is the first argument with which the package re-executes the
// running program (os.Executable) to keep a Persist write alive on X11 when
// neither xclip nor xsel is installed. main must then call [Hold] and exit
// with its result, before parsing flags or opening any window.
const HoldCommand = "__upshot-clipboard-hold"

const (
	// readyEnv names the inherited file descriptor on which the holder
	// reports "ok" once it owns the clipboard, or why it could not.
	readyEnv = "UPSHOT_CLIPBOARD_READY_FD"
	// maxHold bounds how long a holder keeps the clipboard.
	maxHold = 24 * time.Hour
	// maxHoldBytes bounds the text a holder accepts.
	maxHoldBytes = 16 << 20
)

// Hold is the body of the helper process that keeps clipboard text alive
// after a short-lived writer exits. It reads the text from stdin, takes the
// clipboard through golang.design/x/clipboard (Init, then Write), tells the
// process that started it that it owns the clipboard, and then stays until
// another program takes the clipboard or 24 hours pass. It returns the exit
// code: 0 after holding, 1 when it could not take the clipboard, 2 when
// started wrongly.
//
// The writer starts the helper in a session of its own with stdout and
// stderr on /dev/null, so it survives the writer and its terminal. Hold
// is meant to be called once, from main; it is not for library use.
func Hold(stdin io.Reader) int {
	ready := io.WriteCloser(nopCloser{os.Stderr})
	if v, ok := os.LookupEnv(readyEnv); ok {
		_ = os.Unsetenv(readyEnv)
		fd, err := strconv.Atoi(v)
		if err != nil || fd < 3 {
			fmt.Fprintf(os.Stderr, "%s: %s=%q is not an inherited file descriptor\n", HoldCommand, readyEnv, v)
			return 2
		}
		ready = os.NewFile(uintptr(fd), "clipboard-ready")
	}
	return hold(stdin, ready, maxHold)
}

// hold does Hold's work; it closes ready once it has reported.
func hold(stdin io.Reader, ready io.WriteCloser, limit time.Duration) int {
	report := func(msg string) {
		_, _ = io.WriteString(ready, msg+"\n")
		_ = ready.Close()
	}
	data, err := io.ReadAll(io.LimitReader(stdin, maxHoldBytes+1))
	if err != nil {
		report("reading the text from stdin: " + err.Error())
		return 1
	}
	if len(data) > maxHoldBytes {
		report(fmt.Sprintf("the text is longer than %d bytes", maxHoldBytes))
		return 1
	}
	if err := libInit(); err != nil {
		first, _, _ := strings.Cut(err.Error(), "\n")
		report(fmt.Sprintf("cannot open X display %q: %s", os.Getenv("DISPLAY"), first))
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), libTimeout)
	changed, err := libWrite(ctx, fmtText, data)
	cancel()
	if err != nil {
		report(err.Error())
		return 1
	}
	report("ok")
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-changed: // another program took the clipboard
	case <-t.C:
	}
	return 0
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// spawnHolder re-executes this program as a detached holder of text (see
// Hold) and returns once the holder owns the clipboard, so that the caller
// may exit right away.
func spawnHolder(ctx context.Context, text string) error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("clipboard holder: finding this program to re-execute: %w (or install xclip)", err)
	}
	what := filepath.Base(exe) + " " + HoldCommand
	pr, pw, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer pr.Close()
	// Not CommandContext: the holder must outlive ctx and this process.
	cmd := exec.Command(exe, HoldCommand)
	cmd.Stdin = strings.NewReader(text)
	cmd.Env = append(os.Environ(), readyEnv+"=3") // ExtraFiles[0] is fd 3
	cmd.ExtraFiles = []*os.File{pw}
	detach(cmd)
	err = cmd.Start()
	pw.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	go func() { _ = cmd.Wait() }() // reap the holder whenever it exits

	res := make(chan []byte, 1)
	go func() {
		msg, _ := io.ReadAll(io.LimitReader(pr, 4096))
		res <- msg
	}()
	t := time.NewTimer(holdReadyTimeout)
	defer t.Stop()
	var msg []byte
	select {
	case msg = <-res:
	case <-t.C:
		_ = cmd.Process.Kill()
		return fmt.Errorf("%s did not take the clipboard within %v (or install xclip)", what, holdReadyTimeout)
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
	}
	switch line := strings.TrimSpace(string(msg)); line {
	case "ok":
		return nil
	case "":
		return fmt.Errorf("%s exited without taking the clipboard (does main call clipboard.Hold when os.Args[1] is %s?)", what, HoldCommand)
	default:
		return fmt.Errorf("%s: %s", what, line)
	}
}
