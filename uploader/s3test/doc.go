// Package s3test is Upshot's test bed: a real S3-compatible server on
// loopback, a fault-injecting proxy that behaves like Backblaze B2 in front
// of it (or holds every request for a while, as a distant server would),
// and a CDN stand-in that plays a custom domain in front of a public
// bucket.
//
// The server is the pinned versitygw (v1.8.0, posix backend), started as a
// child process on a free 127.0.0.1 port with random credentials, over
// plain HTTP or over TLS with a certificate made in-process. [Start] is for
// tests and benchmarks; [StartServer] is for the demo and
// internal/devtools/s3env. Nothing here is global: every server, proxy and
// CDN owns its port, its directories and its certificates, so tests may run
// them in parallel.
//
// A typical test:
//
//	srv := s3test.Start(t, s3test.Options{TLS: true, Versioning: true})
//	p := s3test.NewProxy(t, srv, s3test.ProxyOptions{TLS: true, B2: true})
//	p.Inject(s3test.Fault{Kind: s3test.SlowDown, Match: s3test.MatchPut})
//	// point the code under test at p.URL with srv's credentials and p.CertPool,
//	// then assert on p.Requests() and on srv.Client().
//
// The versitygw binary is found by [Binary]; install it with
// `scripts/deps.sh test`.
package s3test
