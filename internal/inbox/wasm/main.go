//go:build js && wasm

// Command wasm is the WebAssembly module of the phone inbox's page, built
// with GOOS=js GOARCH=wasm into internal/inbox/web/upshot.wasm by
// scripts/build-wasm.sh. On start it defines globalThis.upshot, the page's
// access to internal/inbox/filework, then waits for calls forever:
//
//	upshot.strip(u8: Uint8Array, name: string)
//	    → {bytes: Uint8Array, changed: bool, removed: string[], format: string}
//	upshot.newHasher() → h
//	h.update(u8: Uint8Array)
//	h.sum() → {sha1: "<hex>", md5: "<hex>"}
//
// A Go function called from JavaScript cannot throw (syscall/js has no way
// to), so a failed call returns a JavaScript Error whose message is plain
// words; worker.js throws it, so that the rest of the page sees functions
// that throw.
//
// JavaScript calls these functions one at a time, on the thread that loaded
// the module; each call is synchronous.
package main

import (
	"fmt"
	"syscall/js"

	"upshot/internal/inbox/filework"
)

func main() {
	js.Global().Set("upshot", js.ValueOf(map[string]any{
		"strip":     js.FuncOf(strip),
		"newHasher": js.FuncOf(newHasher),
	}))
	select {}
}

// jsError returns a JavaScript Error with message msg.
func jsError(format string, args ...any) js.Value {
	return js.Global().Get("Error").New(fmt.Sprintf(format, args...))
}

// bytesArg copies the Uint8Array arg into buf, grown as needed, and returns
// the copy; ok is false when arg is not a Uint8Array.
func bytesArg(arg js.Value, buf []byte) (b []byte, ok bool) {
	if arg.Type() != js.TypeObject || !arg.InstanceOf(js.Global().Get("Uint8Array")) {
		return nil, false
	}
	n := arg.Get("byteLength").Int()
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	js.CopyBytesToGo(buf, arg)
	return buf, true
}

// strip is upshot.strip(u8, name).
func strip(_ js.Value, args []js.Value) any {
	if len(args) < 1 {
		return jsError("upshot.strip needs the file's bytes as a Uint8Array")
	}
	name := "this file"
	if len(args) > 1 && args[1].Type() == js.TypeString {
		name = args[1].String()
	}
	data, ok := bytesArg(args[0], nil)
	if !ok {
		return jsError("upshot.strip needs the bytes of %s as a Uint8Array", name)
	}
	st, err := filework.Strip(data)
	if err != nil {
		return jsError("%s: %v", name, err)
	}
	out := js.Global().Get("Uint8Array").New(len(st.Bytes))
	js.CopyBytesToJS(out, st.Bytes)
	removed := make([]any, len(st.Removed))
	for i, r := range st.Removed {
		removed[i] = r
	}
	return map[string]any{"bytes": out, "changed": st.Changed, "removed": removed, "format": st.Format}
}

// hashers holds the hashers not yet summed, by the id kept on their JS
// object; sum forgets one.
var (
	hashers    = map[int]*filework.Hasher{}
	nextHasher = 1
	// sliceBuf receives each slice passed to update, reused so that hashing
	// a large file in slices keeps memory flat.
	sliceBuf []byte
	// update and sum are shared by every hasher object: they find their
	// Hasher through this.
	update = js.FuncOf(hasherUpdate)
	sum    = js.FuncOf(hasherSum)
)

// newHasher is upshot.newHasher().
func newHasher(js.Value, []js.Value) any {
	id := nextHasher
	nextHasher++
	hashers[id] = filework.NewHasher()
	return map[string]any{"id": id, "update": update, "sum": sum}
}

// hasherOf finds the Hasher of the object a method was called on.
func hasherOf(this js.Value, method string) (*filework.Hasher, int, js.Value) {
	if this.Type() != js.TypeObject || this.Get("id").Type() != js.TypeNumber {
		return nil, 0, jsError("%s must be called on a hasher from upshot.newHasher()", method)
	}
	id := this.Get("id").Int()
	h, ok := hashers[id]
	if !ok {
		return nil, 0, jsError("this hasher has already given its sum; start a new one with upshot.newHasher()")
	}
	return h, id, js.Undefined()
}

// hasherUpdate is h.update(u8).
func hasherUpdate(this js.Value, args []js.Value) any {
	h, _, errv := hasherOf(this, "update")
	if h == nil {
		return errv
	}
	if len(args) < 1 {
		return jsError("update needs a slice of the file as a Uint8Array")
	}
	var ok bool
	sliceBuf, ok = bytesArg(args[0], sliceBuf)
	if !ok {
		return jsError("update needs a slice of the file as a Uint8Array")
	}
	h.Update(sliceBuf)
	return js.Undefined()
}

// hasherSum is h.sum(); the hasher cannot be used after it.
func hasherSum(this js.Value, _ []js.Value) any {
	h, id, errv := hasherOf(this, "sum")
	if h == nil {
		return errv
	}
	delete(hashers, id)
	s, m := h.Sum()
	return map[string]any{"sha1": s, "md5": m}
}
