// Upshot's phone inbox. The page gets its token from the link's fragment,
// asks the computer for the session, and sends each chosen file: the worker
// removes a photo's location data and hashes the bytes, the computer grants
// a signed upload, the bytes go straight to the bucket (or through the
// computer when the bucket cannot be reached), and the computer is told.
'use strict';

const LANES = 2; // files sent at once
const TOKEN_KEY = 'upshot.inbox.token';
const UNSAFE_HEADERS = new Set(['content-length', 'host', 'connection']); // the browser sets these
const TYPES_BY_EXT = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', gif: 'image/gif',
  heic: 'image/heic', heif: 'image/heif', avif: 'image/avif', mp4: 'video/mp4', m4v: 'video/x-m4v',
  mov: 'video/quicktime', webm: 'video/webm', '3gp': 'video/3gpp',
};

const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

let token = '';
let session = null; // {desktop, max_size, types, strip}
let expired = false; // a 401 stops everything
const waiting = []; // rows not started yet
let running = 0;

// ---- The token: from the fragment, kept for a reload in this tab only.

function takeToken() {
  let fromHash = location.hash.slice(1);
  try { fromHash = decodeURIComponent(fromHash); } catch { /* keep it as it is */ }
  if (fromHash) {
    history.replaceState(null, '', location.pathname + location.search);
    try { sessionStorage.setItem(TOKEN_KEY, fromHash); } catch { /* private mode */ }
    return fromHash;
  }
  try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}

// ---- Talking to the computer.

class Refusal extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

const UNREACHABLE = 'Your computer cannot be reached. Is Upshot’s phone inbox still open there, and is this phone on the same Wi-Fi?';

// api calls the computer's API with JSON and returns its answer, or throws a
// Refusal with the plain words the computer sent.
async function api(method, path, body) {
  let res;
  try {
    res = await fetch(path, {
      method,
      cache: 'no-store',
      headers: { Authorization: `Bearer ${token}`, ...(body && { 'Content-Type': 'application/json' }) },
      body: body && JSON.stringify(body),
    });
  } catch {
    throw new Refusal(0, UNREACHABLE);
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw refusal(res.status, data.error, res.headers.get('Retry-After'));
  return data;
}

function refusal(status, message, retryAfter) {
  const err = new Refusal(status, message || `Your computer answered with an error (${status}).`, Number(retryAfter) || 0);
  if (status === 401) stopAll(err.message);
  return err;
}

// put sends body with XMLHttpRequest, for its upload progress. It resolves
// with the status and the response text; status 0 means the request did
// not get through (network error, or the bucket's CORS refused it).
function put(url, headers, body, onProgress) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    for (const [k, v] of Object.entries(headers)) {
      if (!UNSAFE_HEADERS.has(k.toLowerCase())) xhr.setRequestHeader(k, v);
    }
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText, retryAfter: xhr.getResponseHeader('Retry-After') });
    xhr.onerror = xhr.onabort = xhr.ontimeout = () => resolve({ status: 0, text: '' });
    xhr.send(body);
  });
}

// ---- The worker, which strips and hashes.

const worker = new Worker('worker.js');
const jobs = new Map(); // id → {resolve, reject, onProgress}
let nextJob = 1;
let workerBroken = '';

worker.onmessage = ({ data }) => {
  if (data.kind === 'fatal') return failJobs(data.message);
  if (data.kind === 'csp') return console.error(`Content-Security-Policy in the worker: ${data.text}`);
  const job = jobs.get(data.id);
  if (!job) return;
  if (data.kind === 'progress') return job.onProgress(data.done / data.total);
  jobs.delete(data.id);
  if (data.kind === 'done') job.resolve(data);
  else job.reject(new Error(data.message));
};
worker.onerror = () => failJobs('This page could not start its file checker. Reload the page to try again.');

function failJobs(message) {
  workerBroken = message;
  for (const job of jobs.values()) job.reject(new Error(message));
  jobs.clear();
}

// prepare has the worker strip (when asked) and hash a file.
function prepare(file, strip, onProgress) {
  if (workerBroken) return Promise.reject(new Error(workerBroken));
  return new Promise((resolve, reject) => {
    const id = nextJob++;
    jobs.set(id, { resolve, reject, onProgress });
    worker.postMessage({ id, file, strip });
  });
}

// ---- Rows.

function formatSize(n) {
  if (n < 1000) return `${n} bytes`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let i = -1;
  do { n /= 1000; i++; } while (n >= 1000 && i < units.length - 1);
  return `${n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

class Row {
  constructor(file) {
    this.file = file;
    this.type = file.type || TYPES_BY_EXT[file.name.split('.').pop().toLowerCase()] || '';
    this.el = $('row').content.firstElementChild.cloneNode(true);
    const q = (sel) => this.el.querySelector(sel);
    [this.stateEl, this.fillEl, this.pathEl, this.linkEl, this.field, this.copyButton] =
      [q('.state'), q('.fill'), q('.path'), q('.link'), q('.field'), q('.copy')];
    q('.name').textContent = file.name;
    q('.name').title = file.name;
    q('.size').textContent = formatSize(file.size);
    this.field.addEventListener('focus', () => this.field.select());
    this.copyButton.addEventListener('click', () => copy(this.field, this.copyButton));
    this.steps = [];
    this.show('Waiting…', 0);
  }

  // step notes how long a step took since the last one (or since start),
  // in the row's tooltip: "Checked in 412 ms · granted in 35 ms · …".
  step(words) {
    const now = performance.now();
    this.steps.push(`${words} in ${Math.round(now - this.last)} ms`);
    this.last = now;
    const tip = this.steps.join(' · ');
    this.el.title = tip[0].toUpperCase() + tip.slice(1);
  }

  // show sets the state in words and the bar: a fraction, or null while
  // the length of the work is not known.
  show(words, fraction) {
    this.stateEl.textContent = words;
    this.el.classList.toggle('busy', fraction === null);
    if (fraction !== null) this.fillEl.style.width = `${Math.round(fraction * 100)}%`;
  }

  finish(answer, path, removed) {
    this.el.classList.add('done');
    this.show('Done', 1);
    const note = { direct: 'Sent straight to your bucket', relay: 'Sent through your computer', existing: 'Already uploaded' }[path];
    this.pathEl.textContent = removed ? `${note} · location data removed` : note;
    this.pathEl.hidden = false;
    this.field.value = answer.link || answer.url || '';
    this.linkEl.hidden = !this.field.value;
  }

  fail(message) {
    this.el.classList.add('failed');
    this.el.classList.remove('busy');
    this.stateEl.textContent = message;
  }
}

// copy puts the field's text on the clipboard. Plain http is not a secure
// context, so navigator.clipboard may be missing: then the field's text is
// selected and copied the old way.
async function copy(field, button) {
  let ok = false;
  if (navigator.clipboard && window.isSecureContext) {
    try { await navigator.clipboard.writeText(field.value); ok = true; } catch { /* fall back */ }
  }
  if (!ok) {
    field.focus();
    field.select();
    field.setSelectionRange(0, field.value.length);
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    // Copied: drop the selection. Not copied: leave it for the person to copy.
    if (ok) { field.setSelectionRange(0, 0); field.blur(); }
  }
  button.textContent = ok ? 'Copied' : 'Select and copy';
  button.classList.toggle('copied', ok);
  setTimeout(() => { button.textContent = 'Copy'; button.classList.remove('copied'); }, 2000);
}

// ---- Sending a file.

const PHOTOS = ['image/jpeg', 'image/png', 'image/webp'];

function accepted(type) {
  return session.types.some((p) => p === '*/*' || p === type || (p.endsWith('/*') && type.startsWith(p.slice(0, -1))));
}

// send takes one file from choosing to its link.
async function send(row) {
  const { file, type } = row;
  if (!type || !accepted(type)) throw new Error('This kind of file is not accepted here.');
  if (file.size > session.max_size) throw new Error(`Too large: files up to ${formatSize(session.max_size)} are accepted.`);

  row.last = performance.now();
  const stripping = session.strip && PHOTOS.includes(type);
  row.show(stripping ? 'Removing location data…' : 'Checking…', stripping ? null : 0);
  const typed = type === file.type ? file : new File([file], file.name, { type });
  const prep = await prepare(typed, session.strip, (f) => row.show('Checking…', f));
  row.step('checked');
  const ask = async () => {
    const g = await grant(row, { name: file.name, size: prep.size, type, sha1: prep.sha1, md5: prep.md5 });
    row.step('granted');
    return g;
  };

  let g = await ask();
  for (let regranted = false; ;) {
    if (g.existing) return row.finish(g, 'existing', false);
    row.show('Uploading 0%', 0);
    const hasType = Object.keys(g.headers).some((k) => k.toLowerCase() === 'content-type');
    // Without a signed type the body must carry none, or the browser adds one.
    const body = hasType ? prep.blob : prep.blob.slice(0, prep.blob.size);
    const r = await put(g.put_url, g.headers, body, (f) => row.show(`Uploading ${Math.floor(f * 100)}%`, f));
    if (r.status >= 200 && r.status < 300) {
      row.step('sent');
      row.show('Finishing…', 1);
      const done = await api('POST', '/api/done', { id: g.id });
      row.step('confirmed');
      return row.finish(done, 'direct', prep.changed);
    }
    row.step(`refused by the bucket (${r.status || 'unreachable'})`);
    const expiredGrant = r.status === 403 && /Request has expired|AccessDenied/.test(r.text) && Date.now() >= Date.parse(g.expires);
    if (!regranted && (expiredGrant || r.status === 412)) {
      regranted = true;
      g = await ask();
      continue;
    }
    if (r.status === 0 || r.status >= 500) return relay(row, prep);
    throw new Error(bucketRefusal(r));
  }
}

// grant asks the computer for a signed upload, waiting when it says to.
async function grant(row, req) {
  for (let tries = 1; ; tries++) {
    try {
      return await api('POST', '/api/grant', req);
    } catch (err) {
      if (err.status !== 429 || tries === 5) throw err;
      row.show('Waiting for your computer…', null);
      await sleep((err.retryAfter || 5) * 1000);
    }
  }
}

// relay sends the bytes through the computer, which uploads them itself.
async function relay(row, prep) {
  const url = `/api/relay?name=${encodeURIComponent(row.file.name)}&type=${encodeURIComponent(row.type)}`;
  const headers = { Authorization: `Bearer ${token}`, 'X-Upshot-Sha1': prep.sha1 };
  row.show('Uploading 0%', 0);
  const r = await put(url, headers, prep.blob, (f) => {
    row.show(f < 1 ? `Uploading ${Math.floor(f * 100)}%` : 'Your computer is uploading it…', f < 1 ? f : null);
  });
  if (r.status === 0) throw new Error(UNREACHABLE);
  let data = {};
  try { data = JSON.parse(r.text); } catch { /* not JSON */ }
  if (r.status !== 200) throw refusal(r.status, data.error, r.retryAfter);
  row.step('sent through your computer');
  row.finish(data, 'relay', prep.changed);
}

// bucketRefusal says in plain words why the bucket refused the upload.
function bucketRefusal({ status, text }) {
  const code = (/<Code>([^<]*)<\/Code>/.exec(text) || [])[1] || '';
  const words = {
    BadDigest: 'the file changed while it was being sent',
    InvalidDigest: 'the file changed while it was being sent',
    XAmzContentSHA256Mismatch: 'the file changed while it was being sent',
    IncompleteBody: 'the file changed while it was being sent',
    SignatureDoesNotMatch: 'the upload link did not match the file',
    AccessDenied: 'your bucket did not allow it (can the key write there?)',
    EntityTooLarge: 'the file is too large for your bucket',
    PreconditionFailed: 'another file took its name meanwhile; try again',
  }[code] || (status === 412 ? 'another file took its name meanwhile; try again' : `your bucket answered ${code || status}`);
  return `The upload was refused: ${words}`;
}

// ---- The queue: a few files at once.

function add(files) {
  for (const file of files) {
    const row = new Row(file);
    $('files').append(row.el);
    waiting.push(row);
  }
  $('empty').hidden = true;
  pump();
}

function pump() {
  while (running < LANES && waiting.length && !expired) {
    const row = waiting.shift();
    running++;
    send(row)
      .catch((err) => row.fail(err.message))
      .finally(() => { running--; summarize(); pump(); });
  }
  summarize();
}

function summarize() {
  const rows = $('files').children.length;
  if (!rows) return;
  const done = $('files').querySelectorAll('.done').length;
  const failed = $('files').querySelectorAll('.failed').length;
  $('summary').textContent = `${done} of ${rows} sent` + (failed ? ` · ${failed} not sent` : '');
  if (running || waiting.length) {
    const keep = document.createElement('span');
    keep.className = 'keep';
    keep.textContent = 'Keep this page open until every file is sent.';
    $('summary').append(keep);
  }
  $('summary').hidden = false;
}

// stopAll is the end of the link: nothing more can be sent.
function stopAll(message) {
  if (expired) return;
  expired = true;
  setStatus(message, true);
  for (const id of ['pick', 'camera']) $(id).disabled = true;
  document.body.classList.add('stopped');
  for (const row of waiting.splice(0)) row.fail('Not sent.');
}

function setStatus(words, bad) {
  $('status').textContent = words;
  $('status').classList.toggle('bad', Boolean(bad));
}

// ---- Start.

addEventListener('beforeunload', (e) => {
  if (running || waiting.length) e.preventDefault();
});

for (const id of ['pick', 'camera']) {
  $(id).addEventListener('change', (e) => {
    add([...e.target.files]);
    e.target.value = ''; // the same file can be chosen again
  });
}

(async () => {
  token = takeToken();
  if (!token) {
    setStatus('Open this page by scanning the QR code on your computer.', true);
    return;
  }
  try {
    session = await api('GET', '/api/session');
  } catch (err) {
    if (!expired) setStatus(err.message, true);
    return;
  }
  setStatus(`Sending to ${session.desktop}`);
  $('pick').accept = session.types.join(',');
  $('pick').disabled = false;
  const photos = session.types.some((p) => p === '*/*' || p === 'image/*' || p.startsWith('image/'));
  $('camera-button').hidden = !photos;
  $('camera').disabled = !photos;
  $('privacy').textContent = session.strip
    ? 'Location and camera details are removed from photos on this phone before they are sent.'
    : 'Photos are sent as they are, with their location and camera details.';
  $('privacy').hidden = false;
  document.body.classList.add('ready');
})();
