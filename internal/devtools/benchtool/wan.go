package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// wanProxy stands in for a distant server: a reverse proxy on 127.0.0.1
// that holds every request for one round trip before passing it on. On this
// loopback test bed the server shares the CPUs with the client, so
// concurrency can only win what the cores allow; with a real endpoint most
// of a small upload is waiting on the network, which is what the proxy adds
// back. The Host header is kept, so SigV4 signatures stay valid.
type wanProxy struct {
	URL string // "http://127.0.0.1:PORT"
	srv *http.Server
	ln  net.Listener
}

// startWANProxy starts a proxy to target that delays each request by rtt.
func startWANProxy(target string, rtt time.Duration) (*wanProxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("parse server URL: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the WAN proxy: %w", err)
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(u)
			r.Out.Host = r.In.Host
		},
		Transport: &http.Transport{
			Proxy:               nil, // loopback only
			MaxIdleConnsPerHost: 256,
			IdleConnTimeout:     30 * time.Second,
		},
	}
	p := &wanProxy{URL: "http://" + ln.Addr().String(), ln: ln}
	p.srv = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t := time.NewTimer(rtt)
			defer t.Stop()
			select {
			case <-t.C:
				rp.ServeHTTP(w, r)
			case <-r.Context().Done():
			}
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go p.srv.Serve(ln)
	return p, nil
}

// Close stops the proxy and its connections.
func (p *wanProxy) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := p.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("stop the WAN proxy: %w", errors.Join(err, p.srv.Close()))
	}
	return nil
}
