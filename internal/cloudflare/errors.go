package cloudflare

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

var (
	// ErrTokenRefused is matched (errors.Is) by errors for which Cloudflare
	// refused the token itself: wrong, expired or revoked.
	ErrTokenRefused = errors.New("the Cloudflare token was refused")
	// ErrPermission is matched (errors.Is) by errors for which the token is
	// valid but lacks the permission the call needs.
	ErrPermission = errors.New("the Cloudflare token lacks a permission")
)

// tokenAdvice says what token to make.
const tokenAdvice = "create a token with Workers Scripts: Edit and Workers Routes: Edit (Zone: Read to find the zone)"

// ErrorDetail is one entry of the errors Cloudflare returns.
type ErrorDetail struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// APIError is a call Cloudflare answered with an error.
type APIError struct {
	// Call names the call in words, e.g. "upload the Worker".
	Call string
	// Endpoint is the method and path, with {account_id}, {zone_id} and
	// {route_id} for the IDs.
	Endpoint string
	// Status is the HTTP status.
	Status int
	// Errors are Cloudflare's error codes and messages (token and secret
	// values removed).
	Errors []ErrorDetail
	// TokenRefused is set when Cloudflare refused the token itself.
	TokenRefused bool
	// Permission is the permission the token lacks for this call, e.g.
	// "Workers Scripts: Edit on the account"; empty when that is not the
	// problem.
	Permission string
}

// Error describes the call, Cloudflare's answer and what to do.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): Cloudflare answered HTTP %d %s", e.Call, e.Endpoint, e.Status, http.StatusText(e.Status))
	for i, d := range e.Errors {
		if i == 0 {
			b.WriteString(" with error ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d %q", d.Code, d.Message)
	}
	switch {
	case e.TokenRefused:
		fmt.Fprintf(&b, ": the Cloudflare token was refused (it is wrong, expired or revoked): %s, and enter it again", tokenAdvice)
	case e.Permission != "":
		fmt.Fprintf(&b, ": the Cloudflare token lacks %s (%s): %s", e.Permission, e.Call, tokenAdvice)
	case e.Status == http.StatusTooManyRequests:
		b.WriteString(": Cloudflare limits the request rate; try again in a few minutes")
	case e.Status >= 500:
		b.WriteString(": Cloudflare had a problem; try again later")
	}
	return b.String()
}

// Is makes errors.Is(err, ErrTokenRefused) and errors.Is(err, ErrPermission)
// work.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrTokenRefused:
		return e.TokenRefused
	case ErrPermission:
		return e.Permission != ""
	}
	return false
}

func (e *APIError) hasCode(codes ...int) bool {
	return slices.ContainsFunc(e.Errors, func(d ErrorDetail) bool { return slices.Contains(codes, d.Code) })
}

// Cloudflare error codes the client tells apart.
const (
	codeInvalidToken   = 1000  // "Invalid API Token"
	codeBadAuthHeader  = 6003  // "Invalid request headers" (malformed token)
	codeInvalidAuthFmt = 6111  // "Invalid format for Authorization header"
	codeUnauthorized   = 9109  // "Unauthorized to access requested resource"
	codeAuthError      = 10000 // "Authentication error"
	codeScriptNotFound = 10007 // "workers.api.error.script_not_found"
	codeWorkerNotFound = 10090 // "The Worker script ... was not found"
)

// permissionFor names the permission a call needs.
func permissionFor(s scope) string {
	switch s {
	case scopeZones:
		return "Zone: Read on the zone"
	case scopeScripts:
		return "Workers Scripts: Edit on the account"
	case scopeRoutes:
		return "Workers Routes: Edit on the zone"
	}
	return ""
}

// apiError builds the APIError for an error answer. For an authentication
// error it asks Cloudflare whether the token itself is valid, to tell a
// refused token from a missing permission.
func (c *Client) apiError(ctx context.Context, what string, ep endpoint, resp *response, secrets []string) error {
	e := &APIError{Call: what, Endpoint: ep.String(), Status: resp.status}
	var env apiEnvelope
	if json.Unmarshal(resp.body, &env) == nil {
		e.Errors = env.Errors
	}
	redact := c.redactor(secrets)
	for i := range e.Errors {
		e.Errors[i].Message = redact(e.Errors[i].Message)
	}
	switch {
	case resp.status == http.StatusUnauthorized || e.hasCode(codeInvalidToken, codeBadAuthHeader, codeInvalidAuthFmt):
		e.TokenRefused = true
	case resp.status == http.StatusForbidden || e.hasCode(codeAuthError, codeUnauthorized):
		perm := permissionFor(ep.scope())
		if perm == "" {
			e.TokenRefused = true
			break
		}
		if c.tokenRefused(ctx) {
			e.TokenRefused = true
		} else {
			e.Permission = perm
		}
	}
	return e
}

// tokenRefused asks Cloudflare whether it refuses the token outright.
func (c *Client) tokenRefused(ctx context.Context) bool {
	err := c.VerifyToken(ctx)
	return errors.Is(err, ErrTokenRefused)
}

// redactor returns a function that replaces the token and the given secret
// values in s.
func (c *Client) redactor(secrets []string) func(string) string {
	vals := slices.Clone(secrets)
	if c.token != "" {
		vals = append(vals, c.token)
	}
	vals = slices.DeleteFunc(vals, func(v string) bool { return v == "" })
	// Longest first, so a value inside another is not left half-replaced.
	slices.SortFunc(vals, func(a, b string) int { return len(b) - len(a) })
	return func(s string) string {
		for _, v := range vals {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
		return s
	}
}

// isNotFound reports whether err is a 404 for a Worker (or a route) that is
// not there, as opposed to a wrong account or zone ID.
func isNotFound(err error) bool {
	var e *APIError
	if !errors.As(err, &e) || e.Status != http.StatusNotFound {
		return false
	}
	return len(e.Errors) == 0 || e.hasCode(codeScriptNotFound, codeWorkerNotFound)
}
