// Upshot's Cloudflare Worker: serves the objects of a private Backblaze B2
// bucket at the user's own domain, https://img.example.com/<key>.
//
// Plain-text bindings: UPSHOT_MODE ("signed" or "token"), S3_ENDPOINT and
// S3_REGION (signed), DOWNLOAD_URL (token), BUCKET, CACHE_CONTROL.
// Secrets: B2_KEY_ID and B2_KEY (signed: a read-only key limited to the
// bucket), B2_DOWNLOAD_TOKEN (token: a download authorization for the
// bucket).
//
// It answers GET and HEAD of one object at a time and never lists the
// bucket. Nothing from the origin reaches the visitor but the body and a
// few content headers: errors are short plain texts of its own.

const DEFAULT_CACHE_CONTROL = "public, max-age=31536000, immutable";
const LISTING_PARAMS = ["list-type", "prefix", "delimiter", "versions", "uploads"];
const COPIED_HEADERS = ["content-type", "content-length", "content-range", "accept-ranges", "last-modified"];
const CACHED_HEADERS = ["content-type", "content-length", "accept-ranges", "last-modified", "etag"];
const MAX_KEY_BYTES = 1024;
const EXPIRED =
  "The link's authorization has expired; Upshot renews it while it runs (or run upshot cdn-refresh)";
const UNAVAILABLE = "This link cannot be served right now";
const BAD_GATEWAY = "Bad gateway: the storage behind this link did not answer as expected";

export default {
  async fetch(request, env, ctx) {
    try {
      return await handle(request, env, ctx);
    } catch (err) {
      console.error("upshot: " + (err && err.stack ? err.stack : err));
      return text(502, BAD_GATEWAY);
    }
  },
};

async function handle(request, env, ctx) {
  const method = request.method;
  if (method === "OPTIONS") return preflight();
  if (method !== "GET" && method !== "HEAD") {
    return text(405, "Method not allowed", { Allow: "GET, HEAD" });
  }
  const head = method === "HEAD";
  const url = new URL(request.url);
  const key = objectKey(url, env.BUCKET || "");
  if (key === null) return notFound();

  const conf = settings(env);
  if (conf.problem) {
    console.error("upshot: misconfigured: " + conf.problem);
    return text(503, UNAVAILABLE);
  }

  // Only whole objects are cached, under one URL per key: the query
  // string, the /file/<bucket>/ prefix and the method do not split it.
  const range = request.headers.get("range");
  const cacheKey = range === null ? new Request(url.origin + "/" + encodeKey(key)) : null;
  const cache = cacheKey ? edgeCache() : null;
  if (cache) {
    const hit = await cache.match(cacheKey).catch((err) => {
      console.error("upshot: cache lookup: " + err);
      return undefined;
    });
    if (hit) return conditional(request, fromCache(hit, conf, head));
  }

  let origin = await fetchOrigin(conf, key, range);
  if (range !== null && origin.status === 200 && !origin.headers.has("content-range")) {
    // The range was dropped on the way; ask once more before sending it all.
    await discard(origin);
    origin = await fetchOrigin(conf, key, range);
  }

  const status = origin.status;
  if (status === 200 || status === 206 || status === 304) {
    const answer = success(origin, conf, head);
    if (cache && !head && status === 200) {
      ctx.waitUntil(
        cache.put(cacheKey, answer.clone()).catch((err) => console.error("upshot: cache store: " + err)),
      );
    }
    return conditional(request, answer);
  }
  return failure(origin, conf);
}

// settings reads the bindings, or names the first one missing.
function settings(env) {
  const conf = {
    mode: env.UPSHOT_MODE,
    bucket: env.BUCKET,
    cacheControl: env.CACHE_CONTROL || DEFAULT_CACHE_CONTROL,
  };
  const need = (name) => {
    const v = env[name];
    if (typeof v !== "string" || v === "") {
      conf.problem = conf.problem || name + " is not set";
    }
    return v;
  };
  need("BUCKET");
  if (conf.mode === "signed") {
    conf.endpoint = trimSlash(need("S3_ENDPOINT") || "");
    conf.region = need("S3_REGION");
    conf.keyId = need("B2_KEY_ID");
    conf.secret = need("B2_KEY");
  } else if (conf.mode === "token") {
    conf.downloadURL = trimSlash(need("DOWNLOAD_URL") || "");
    conf.token = need("B2_DOWNLOAD_TOKEN");
  } else {
    conf.problem = 'UPSHOT_MODE is "' + conf.mode + '", want "signed" or "token"';
  }
  return conf;
}

function trimSlash(s) {
  return s.replace(/\/+$/, "");
}

// objectKey returns the key a path names, or null when the request must
// be answered 404: no key, a "folder", or a query that asks for a listing.
function objectKey(url, bucket) {
  for (const p of LISTING_PARAMS) {
    if (url.searchParams.has(p)) return null;
  }
  let path = url.pathname;
  if (bucket !== "") {
    const legacy = "/file/" + bucket + "/";
    if (path.startsWith(legacy)) path = "/" + path.slice(legacy.length);
    else if (path === "/file/" + bucket) return null;
  }
  let key;
  try {
    // Per segment, so that "+" stays a plus and %2F stays inside its segment.
    key = path.slice(1).split("/").map(decodeURIComponent).join("/");
  } catch {
    return null;
  }
  if (key === "" || key.endsWith("/")) return null;
  if (new TextEncoder().encode(key).length > MAX_KEY_BYTES) return null;
  return key;
}

// encodeKey escapes a key the way S3 signs it: RFC 3986 unreserved
// characters and "/" stay, everything else (a "+" too) is %XX of UTF-8.
function encodeKey(key) {
  return key.split("/").map(encodeSegment).join("/");
}

function encodeSegment(s) {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

function edgeCache() {
  try {
    return caches.default;
  } catch (err) {
    console.error("upshot: no cache: " + err);
    return null;
  }
}

async function fetchOrigin(conf, key, range) {
  const headers = new Headers();
  if (range !== null) headers.set("range", range);
  let target;
  if (conf.mode === "token") {
    target = conf.downloadURL + "/file/" + encodeSegment(conf.bucket) + "/" + encodeKey(key);
    headers.set("authorization", conf.token);
  } else {
    target = conf.endpoint + "/" + encodeSegment(conf.bucket) + "/" + encodeKey(key);
    await signV4(headers, target, conf);
  }
  // A GET even for HEAD: the edge turns HEAD into GET toward the origin,
  // and the signature must match the method that arrives.
  return fetch(target, { method: "GET", headers, redirect: "manual" });
}

// signV4 adds AWS Signature Version 4 headers for a GET of target with an
// unsigned payload. Only host, x-amz-content-sha256 and x-amz-date are
// signed, so headers added on the way (range, accept-encoding, cf-*) do not
// break the signature.
async function signV4(headers, target, conf) {
  const u = new URL(target);
  const now = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+/, "");
  const day = now.slice(0, 8);
  const payload = "UNSIGNED-PAYLOAD";
  headers.set("x-amz-content-sha256", payload);
  headers.set("x-amz-date", now);
  const signed = "host;x-amz-content-sha256;x-amz-date";
  const canonical = [
    "GET",
    u.pathname,
    "",
    "host:" + u.host,
    "x-amz-content-sha256:" + payload,
    "x-amz-date:" + now,
    "",
    signed,
    payload,
  ].join("\n");
  const scope = day + "/" + conf.region + "/s3/aws4_request";
  const toSign = ["AWS4-HMAC-SHA256", now, scope, hex(await sha256(canonical))].join("\n");
  const key = await signingKey(conf, day);
  const signature = hex(await hmac(key, toSign));
  headers.set(
    "authorization",
    "AWS4-HMAC-SHA256 Credential=" + conf.keyId + "/" + scope + ", SignedHeaders=" + signed + ", Signature=" + signature,
  );
}

// The derived key only changes with the day, so an isolate keeps the last.
let lastSigningKey = { id: null, key: null };

async function signingKey(conf, day) {
  const id = day + "\n" + conf.region + "\n" + conf.secret;
  if (lastSigningKey.id !== id) {
    let k = await hmac(new TextEncoder().encode("AWS4" + conf.secret), day);
    k = await hmac(k, conf.region);
    k = await hmac(k, "s3");
    k = await hmac(k, "aws4_request");
    lastSigningKey = { id, key: k };
  }
  return lastSigningKey.key;
}

async function hmac(rawKey, data) {
  const key = await crypto.subtle.importKey("raw", rawKey, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(data)));
}

async function sha256(data) {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(data)));
}

function hex(bytes) {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

// success keeps the origin's status and body (none for HEAD) and only the
// content headers; every x-amz-* and x-bz-* header stays behind.
function success(origin, conf, head) {
  const h = new Headers();
  for (const name of COPIED_HEADERS) {
    const v = origin.headers.get(name);
    if (v !== null) h.set(name, v);
  }
  const etag = etagOf(origin.headers);
  if (etag !== null) h.set("etag", etag);
  h.set("cache-control", conf.cacheControl);
  common(h);
  if (head) {
    discard(origin);
    return new Response(null, { status: origin.status, headers: h });
  }
  return new Response(origin.body, { status: origin.status, headers: h });
}

function fromCache(hit, conf, head) {
  const h = new Headers();
  for (const name of CACHED_HEADERS) {
    const v = hit.headers.get(name);
    if (v !== null) h.set(name, v);
  }
  h.set("cache-control", conf.cacheControl);
  common(h);
  if (head) {
    discard(hit);
    return new Response(null, { status: 200, headers: h });
  }
  return new Response(hit.body, { status: 200, headers: h });
}

// etagOf prefers the SHA-1 that Upshot and B2 record for the content,
// then the origin's own ETag.
function etagOf(h) {
  for (const name of ["x-amz-meta-sha1", "x-bz-content-sha1", "x-bz-info-sha1", "x-bz-info-large_file_sha1"]) {
    let v = (h.get(name) || "").trim().toLowerCase();
    if (v.startsWith("unverified:")) v = v.slice("unverified:".length);
    if (/^[0-9a-f]{40}$/.test(v)) return '"' + v + '"';
  }
  return h.get("etag");
}

// conditional answers 304 when the visitor already has this version.
// Validators are checked here: they are never sent to the origin.
function conditional(request, answer) {
  if (answer.status !== 200) return answer;
  const etag = answer.headers.get("etag");
  const inm = request.headers.get("if-none-match");
  let fresh = false;
  if (inm !== null) {
    const weak = (t) => t.trim().replace(/^W\//, "");
    fresh = inm.trim() === "*" || (etag !== null && inm.split(",").some((t) => weak(t) === weak(etag)));
  } else {
    const since = Date.parse(request.headers.get("if-modified-since") || "");
    const modified = Date.parse(answer.headers.get("last-modified") || "");
    fresh = !isNaN(since) && !isNaN(modified) && modified <= since;
  }
  if (!fresh) return answer;
  discard(answer);
  const h = new Headers();
  for (const name of ["etag", "cache-control", "last-modified"]) {
    const v = answer.headers.get(name);
    if (v !== null) h.set(name, v);
  }
  common(h);
  return new Response(null, { status: 304, headers: h });
}

async function failure(origin, conf) {
  const status = origin.status;
  let code = "";
  if (status >= 400 && status < 500 && status !== 404 && conf.mode === "signed") {
    const body = await origin.text().catch(() => "");
    const m = /<Code>([^<]{1,64})<\/Code>/.exec(body);
    if (m) code = m[1];
  } else {
    await discard(origin);
  }
  if (status === 404 || code === "NoSuchKey" || code === "NoSuchVersion") return notFound();
  if (conf.mode === "token" && (status === 401 || status === 403)) {
    console.error("upshot: the download authorization was refused (" + status + ")");
    return text(503, EXPIRED);
  }
  if (status === 416) {
    const h = { "content-range": origin.headers.get("content-range") || "bytes */*" };
    return text(416, "Range not satisfiable", h);
  }
  console.error("upshot: the origin answered " + status + (code ? " " + code : ""));
  return text(502, BAD_GATEWAY);
}

async function discard(response) {
  if (response.body) await response.body.cancel().catch(() => {});
}

function preflight() {
  const h = new Headers({
    "access-control-allow-methods": "GET, HEAD",
    "access-control-allow-headers": "Range, If-None-Match, If-Modified-Since",
    "access-control-max-age": "86400",
  });
  common(h);
  return new Response(null, { status: 204, headers: h });
}

function notFound() {
  return text(404, "Not found");
}

function text(status, body, extra) {
  const h = new Headers(extra || {});
  h.set("content-type", "text/plain; charset=utf-8");
  h.set("cache-control", "no-store");
  common(h);
  return new Response(body + "\n", { status, headers: h });
}

function common(h) {
  h.set("access-control-allow-origin", "*");
  h.set("access-control-expose-headers", "Content-Range, Accept-Ranges, ETag");
  h.set("x-content-type-options", "nosniff");
}
