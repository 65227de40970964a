package cloudflare

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	// requestTimeout bounds each attempt of a request.
	requestTimeout = 30 * time.Second
	// maxRetries is how often a request is repeated after a 429, a 5xx or
	// a failed connection.
	maxRetries = 2
	// maxRetryWait is the longest Retry-After the client waits for; a
	// longer one ends the request with the error.
	maxRetryWait = 30 * time.Second
	// maxBody bounds what is read of an answer.
	maxBody = 32 << 20
	// maxPages bounds how many pages of a list are read.
	maxPages = 100
)

// endpoint is one API endpoint: tmpl names it with placeholders for account
// and zone IDs (for Changes, errors and logs), path is the real one.
type endpoint struct {
	method, tmpl, path string
}

func (e endpoint) String() string { return e.method + " " + e.tmpl }

// scope says which permission an endpoint needs.
type scope int

const (
	scopeNone scope = iota
	scopeZones
	scopeScripts
	scopeRoutes
)

func scriptEndpoint(method, account, name, suffix string) endpoint {
	return endpoint{
		method: method,
		tmpl:   "/accounts/{account_id}/workers/scripts/" + name + suffix,
		path:   "/accounts/" + url.PathEscape(account) + "/workers/scripts/" + url.PathEscape(name) + suffix,
	}
}

// secretEndpoint is the endpoint of one secret of a Worker.
func secretEndpoint(method, account, script, secret string) endpoint {
	ep := scriptEndpoint(method, account, script, "/secrets/")
	ep.tmpl += secret
	ep.path += url.PathEscape(secret)
	return ep
}

func routesEndpoint(method, zone, id string) endpoint {
	ep := endpoint{method: method, tmpl: "/zones/{zone_id}/workers/routes", path: "/zones/" + url.PathEscape(zone) + "/workers/routes"}
	if id != "" {
		ep.tmpl += "/{route_id}"
		ep.path += "/" + url.PathEscape(id)
	}
	return ep
}

func (e endpoint) scope() scope {
	switch {
	case e.tmpl == "/zones":
		return scopeZones
	case strings.HasPrefix(e.tmpl, "/zones/{zone_id}/workers/routes"):
		return scopeRoutes
	case strings.HasPrefix(e.tmpl, "/accounts/{account_id}/workers/scripts/"):
		return scopeScripts
	}
	return scopeNone
}

// apiEnvelope is Cloudflare's answer around every JSON result.
type apiEnvelope struct {
	Success    bool            `json:"success"`
	Errors     []ErrorDetail   `json:"errors"`
	Result     json.RawMessage `json:"result"`
	ResultInfo *struct {
		Page       int `json:"page"`
		TotalPages int `json:"total_pages"`
	} `json:"result_info"`
}

// response is an answer read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

// call makes one API call and decodes its envelope's result into out (when
// out is not nil). secrets are values to keep out of any error.
func (c *Client) call(ctx context.Context, what string, ep endpoint, query url.Values, body []byte, contentType string, out any, secrets []string) error {
	_, err := c.callEnvelope(ctx, what, ep, query, body, contentType, out, secrets)
	return err
}

func (c *Client) callEnvelope(ctx context.Context, what string, ep endpoint, query url.Values, body []byte, contentType string, out any, secrets []string) (*apiEnvelope, error) {
	resp, err := c.send(ctx, what, ep, query, body, contentType)
	if err != nil {
		return nil, err
	}
	if resp.status < 200 || resp.status > 299 {
		return nil, c.apiError(ctx, what, ep, resp, secrets)
	}
	if len(bytes.TrimSpace(resp.body)) == 0 {
		// Some deletions answer 2xx with no body at all.
		return &apiEnvelope{Success: true}, nil
	}
	var env apiEnvelope
	if err := json.Unmarshal(resp.body, &env); err != nil {
		return nil, fmt.Errorf("%s (%s): Cloudflare's answer (HTTP %d) is not the JSON envelope: %v", what, ep, resp.status, err)
	}
	if !env.Success {
		return nil, c.apiError(ctx, what, ep, resp, secrets)
	}
	if out != nil && len(env.Result) > 0 && string(env.Result) != "null" {
		if err := json.Unmarshal(env.Result, out); err != nil {
			return nil, fmt.Errorf("%s (%s): Cloudflare's result is not what was expected: %v", what, ep, err)
		}
	}
	return &env, nil
}

// list reads every page of a list endpoint and returns the items.
func (c *Client) list(ctx context.Context, what string, ep endpoint, query url.Values, secrets []string) ([]json.RawMessage, error) {
	var all []json.RawMessage
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	for page := 1; ; page++ {
		var items []json.RawMessage
		env, err := c.callEnvelope(ctx, what, ep, q, nil, "", &items, secrets)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if env.ResultInfo == nil || env.ResultInfo.TotalPages <= page || len(items) == 0 {
			return all, nil
		}
		if page >= maxPages {
			return nil, fmt.Errorf("%s (%s): the list has more than %d pages", what, ep, maxPages)
		}
		q.Set("page", strconv.Itoa(page+1))
	}
}

// send makes the request, repeating it after 429, 5xx and failed
// connections (at most maxRetries times; a POST only after 429, as it may
// have been carried out), and returns the last answer.
func (c *Client) send(ctx context.Context, what string, ep endpoint, query url.Values, body []byte, contentType string) (*response, error) {
	u := c.base + ep.path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	idempotent := ep.method != http.MethodPost
	for attempt := 1; ; attempt++ {
		resp, err := c.attempt(ctx, ep.method, u, body, contentType)
		status := 0
		if resp != nil {
			status = resp.status
		}
		if c.log != nil {
			args := []any{"call", what, "endpoint", ep.String(), "attempt", attempt}
			if err != nil {
				args = append(args, "error", err.Error())
			} else {
				args = append(args, "status", status)
			}
			c.log.DebugContext(ctx, "cloudflare request", args...)
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("%s (%s): %w", what, ep, ctxErr)
		}
		retry := false
		switch {
		case err != nil:
			retry = idempotent
		case status == http.StatusTooManyRequests:
			retry = true
		case status >= 500:
			retry = idempotent
		}
		if !retry || attempt > maxRetries {
			if err != nil {
				return nil, fmt.Errorf("%s (%s): Cloudflare could not be reached: %w; check the network connection and try again", what, ep, err)
			}
			return resp, nil
		}
		wait := time.Duration(attempt) * 500 * time.Millisecond
		if resp != nil {
			if d, ok := parseRetryAfter(resp.header.Get("Retry-After"), time.Now()); ok {
				if d > maxRetryWait {
					return resp, nil
				}
				wait = d
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%s (%s): %w", what, ep, ctx.Err())
		case <-t.C:
		}
	}
}

// attempt makes one request with its own timeout and reads the answer.
func (c *Client) attempt(ctx context.Context, method, u string, body []byte, contentType string) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read the answer: %w", err)
	}
	if len(data) > maxBody {
		return nil, errors.New("the answer is larger than 32 MiB")
	}
	return &response{status: res.StatusCode, header: res.Header, body: data}, nil
}

// parseRetryAfter reads a Retry-After value: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(max(n, 0)) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
