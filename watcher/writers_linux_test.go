package watcher

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRenamedWhileOpenWaitsForClose: a file moved in while its writer
// still has it open is emitted once, complete, after the writer closes it,
// however long the writer takes; on Linux a closed file moved in goes at
// once (TestMoveFromOtherFolder).
func TestRenamedWhileOpenWaitsForClose(t *testing.T) {
	t.Parallel()
	h := start(t, Options{})
	src := filepath.Join(h.outside, "still-open.png")
	f, err := os.Create(src)
	must(t, err)
	first := content("open-1", 64<<10)
	_, err = f.Write(first)
	must(t, err)
	dst := filepath.Join(h.dir, "still-open.png")
	must(t, os.Rename(src, dst))
	// The writer goes on after the move; once the watcher has handled the
	// move (sync), it has emitted nothing and still waits for the file.
	h.sync()
	h.none(dst)
	if n := h.pending(); n != 1 {
		t.Fatalf("%d files waiting, want the open one", n)
	}
	rest := content("open-2", 64<<10)
	_, err = f.Write(rest)
	must(t, err)
	must(t, f.Close())
	h.expectOne(dst, append(first, rest...))
	h.barrier()
	h.once(dst)
}

func TestOpenForWriting(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f.png")
	f, err := os.Create(p)
	must(t, err)
	if open, known := openForWriting(p); !open || !known {
		t.Fatalf("while open for writing: open %v, known %v", open, known)
	}
	must(t, f.Close())
	if open, known := openForWriting(p); open || !known {
		t.Fatalf("after close: open %v, known %v", open, known)
	}
	r, err := os.Open(p)
	must(t, err)
	defer r.Close()
	if open, known := openForWriting(p); open || !known {
		t.Fatalf("open for reading only: open %v, known %v", open, known)
	}
}

// TestPollWaitsForOpenWriter: in a polled folder, a file whose writer
// stalls for longer than the poll interval, with the file still open, is
// not taken for complete; it goes once, whole, after the writer closes it.
func TestPollWaitsForOpenWriter(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := start(t, Options{Folders: []Folder{{Dir: dir, Poll: true, PollInterval: 20 * time.Millisecond}}})
	path := filepath.Join(dir, "stalled.png")
	f, err := os.Create(path)
	must(t, err)
	data := content("stalled", 64<<10)
	_, err = f.Write(data[:len(data)/2])
	must(t, err)
	// A file made after the stall began goes once two polls have seen it
	// unchanged; by then those polls saw the stalled file unchanged too.
	sentinel := filepath.Join(dir, "sentinel.png")
	must(t, os.WriteFile(sentinel, []byte("s"), 0o644))
	h.expectOne(sentinel, []byte("s"))
	h.none(path)
	_, err = f.Write(data[len(data)/2:])
	must(t, err)
	must(t, f.Close())
	h.expectOne(path, data)
	h.once(path, sentinel)
}
