// The inbox's worker: it strips and hashes the files the page hands it, off
// the page's thread, with Upshot's own Go code compiled to WebAssembly
// (upshot.wasm, started by Go's wasm_exec.js).
//
// Page → worker: {id, file: Blob, strip: bool}
// Worker → page: {kind: 'ready'} once the module runs, or {kind: 'fatal', message};
//   {kind: 'csp', text} when the Content-Security-Policy blocked something here;
//   per job: {id, kind: 'progress', done, total} while hashing,
//   then {id, kind: 'done', blob, size, sha1, md5, changed, removed, format}
//   or {id, kind: 'error', message}.
'use strict';
importScripts('wasm_exec.js');

const SLICE = 4 << 20; // bytes read and hashed at a time
const PHOTO_MAX = 64 << 20; // photos up to this size are read whole and stripped
const PHOTOS = ['image/jpeg', 'image/png', 'image/webp'];

// Go cannot throw into JavaScript: a failed call returns an Error, which
// this wrapper throws.
const throwing = (f) => (...args) => {
  const r = f(...args);
  if (r instanceof Error) throw r;
  return r;
};

// A blocked load in a worker is easy to miss: tell the page.
self.addEventListener('securitypolicyviolation', (e) => {
  postMessage({ kind: 'csp', text: `${e.effectiveDirective} blocked ${e.blockedURI}` });
});

const ready = (async () => {
  const go = new Go();
  const { instance } = await WebAssembly.instantiateStreaming(fetch('upshot.wasm'), go.importObject);
  go.run(instance); // defines globalThis.upshot, then waits for calls
  const { strip, newHasher } = self.upshot;
  self.upshot = {
    strip: throwing(strip),
    newHasher() {
      const h = newHasher();
      return { update: throwing(h.update.bind(h)), sum: throwing(h.sum.bind(h)) };
    },
  };
})();

ready.then(
  () => postMessage({ kind: 'ready' }),
  (err) => postMessage({ kind: 'fatal', message: `This page could not start its file checker (${err.message}).` }),
);

// Jobs run one at a time, in order, so memory holds at most one photo.
let queue = Promise.resolve();
self.onmessage = (e) => {
  const job = e.data;
  queue = queue.then(() => run(job));
};

async function run({ id, file, strip }) {
  try {
    await ready;
    postMessage({ id, kind: 'done', ...(await prepare(id, file, strip)) });
  } catch (err) {
    postMessage({ id, kind: 'error', message: err.message || String(err) });
  }
}

// prepare strips a photo if asked and hashes the bytes to be sent.
async function prepare(id, file, strip) {
  const h = upshot.newHasher();
  if (strip && PHOTOS.includes(file.type)) {
    if (file.size > PHOTO_MAX) {
      throw new Error('This photo is over 64 MB, too large to remove its location data on the phone, so it was not sent.');
    }
    const res = upshot.strip(new Uint8Array(await file.arrayBuffer()), file.name || 'this photo');
    for (let off = 0; off < res.bytes.length; off += SLICE) h.update(res.bytes.subarray(off, off + SLICE));
    const blob = res.changed ? new Blob([res.bytes], { type: file.type }) : file;
    return { blob, size: blob.size, ...h.sum(), changed: res.changed, removed: res.removed, format: res.format };
  }
  // Anything else is read in slices, so a long video never sits in memory.
  await hashSlices(id, file, h);
  return { blob: file, size: file.size, ...h.sum(), changed: false, removed: [], format: '' };
}

// hashSlices feeds the file to the hasher SLICE bytes at a time, in one
// buffer, and reports progress after each slice. Where the file can be read
// into the page's own buffer (a byte stream), that one buffer serves the
// whole file and memory stays flat; elsewhere each slice is read on its own
// and copied into it, and the slices wait for the garbage collector. Either
// way the hasher is only handed views of that buffer: Go holds on to every
// value it is handed until its own garbage collector runs, which hashing
// alone seldom starts.
async function hashSlices(id, file, h) {
  let buf = new ArrayBuffer(Math.min(SLICE, file.size));
  let reader = null;
  try {
    reader = file.stream().getReader({ mode: 'byob' });
  } catch { /* not a byte stream in this browser */ }
  for (let off = 0; off < file.size;) {
    const want = Math.min(SLICE, file.size - off);
    let got = 0;
    if (reader) {
      while (got < want) {
        const { done, value } = await reader.read(new Uint8Array(buf, got, want - got));
        if (done) throw new Error('The file got shorter while it was being read. Choose it again.');
        buf = value.buffer; // the read moved the buffer into the view it returned
        got += value.length;
      }
    } else {
      const slice = new Uint8Array(await file.slice(off, off + want).arrayBuffer());
      new Uint8Array(buf).set(slice);
      got = slice.length;
    }
    h.update(new Uint8Array(buf, 0, got));
    off += got;
    postMessage({ id, kind: 'progress', done: off, total: file.size });
  }
  if (reader) reader.releaseLock();
}
