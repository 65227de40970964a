package cloudflare

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"regexp"
	"slices"
	"strings"
)

// SecretsHashBinding is the plain_text binding Deploy adds to the Worker:
// the hex SHA-256 over the sorted secret names and values (name NUL value
// NUL ...). Cloudflare never returns secret values, so this is how Deploy
// tells whether the secrets changed. It is reserved: Script.Plain must not
// use it.
const SecretsHashBinding = "UPSHOT_SECRETS_SHA256"

// moduleContentType is the content type of an ES module part.
const moduleContentType = "application/javascript+module"

// Script is a module Worker.
type Script struct {
	// Name is the Worker's name (see ScriptName).
	Name string
	// MainModule is the module's file name, e.g. "upshot.js".
	MainModule string
	// CompatibilityDate is the Workers runtime date, e.g. "2025-01-01".
	CompatibilityDate string
	// Module is the ES module's source.
	Module []byte
	// Plain are the plain_text bindings (not secret; readable in the
	// dashboard).
	Plain map[string]string
}

// Deployment is a Worker, its secrets and its route in a zone.
type Deployment struct {
	Zone   Zone
	Script Script
	// Secrets are the secret_text bindings. Their values are sent to
	// Cloudflare only and appear nowhere else.
	Secrets map[string]string
	// Pattern is the route, e.g. "img.example.com/*".
	Pattern string
}

// Change is one changing call Deploy or Remove made.
type Change struct {
	// What says it in words, e.g. "upload the Worker".
	What string
	// Endpoint is the method and path, with {account_id}, {zone_id} and
	// {route_id} for the IDs, e.g.
	// "PUT /accounts/{account_id}/workers/scripts/upshot-img-example-com".
	Endpoint string
}

func change(what string, ep endpoint) Change { return Change{What: what, Endpoint: ep.String()} }

var bindingNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

func (d *Deployment) validate() error {
	s := d.Script
	var problems []string
	if d.Zone.ID == "" || d.Zone.AccountID == "" {
		problems = append(problems, "the zone has no ID or account ID (find it with FindZone)")
	}
	if !validScriptName(s.Name) {
		problems = append(problems, fmt.Sprintf("the Worker name %q is not valid (see ScriptName)", s.Name))
	}
	if s.MainModule == "" || strings.ContainsAny(s.MainModule, "\"\r\n/\\") {
		problems = append(problems, fmt.Sprintf("the main module's file name %q is not valid, like upshot.js", s.MainModule))
	}
	if !dateRE.MatchString(s.CompatibilityDate) {
		problems = append(problems, fmt.Sprintf("the compatibility date %q is not YYYY-MM-DD", s.CompatibilityDate))
	}
	if len(s.Module) == 0 {
		problems = append(problems, "the Worker's module is empty")
	}
	for _, n := range slices.Sorted(maps.Keys(s.Plain)) {
		switch {
		case n == SecretsHashBinding:
			problems = append(problems, fmt.Sprintf("the binding name %s is reserved", n))
		case !bindingNameRE.MatchString(n):
			problems = append(problems, fmt.Sprintf("the binding name %q is not a JavaScript identifier", n))
		}
	}
	for _, n := range slices.Sorted(maps.Keys(d.Secrets)) {
		switch {
		case n == SecretsHashBinding:
			problems = append(problems, fmt.Sprintf("the secret name %s is reserved", n))
		case !bindingNameRE.MatchString(n):
			problems = append(problems, fmt.Sprintf("the secret name %q is not a JavaScript identifier", n))
		case d.Secrets[n] == "":
			problems = append(problems, fmt.Sprintf("the secret %s is empty", n))
		}
		if _, clash := s.Plain[n]; clash {
			problems = append(problems, fmt.Sprintf("%s is both a plain binding and a secret", n))
		}
	}
	if err := checkPattern(d.Pattern, d.Zone.Name); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return fmt.Errorf("the Worker deployment is not valid: %s", strings.Join(problems, "; "))
	}
	return nil
}

// checkPattern checks a route pattern like "img.example.com/*" and, when
// zone is known, that its host lies in the zone.
func checkPattern(pattern, zone string) error {
	host, _, hasPath := strings.Cut(pattern, "/")
	if pattern == "" || !hasPath || host == "" || strings.Contains(pattern, "://") {
		return fmt.Errorf("the route pattern %q is not of the form img.example.com/*", pattern)
	}
	h := strings.TrimPrefix(strings.TrimPrefix(host, "*"), ".")
	if zone != "" && !strings.EqualFold(h, zone) && !strings.HasSuffix(strings.ToLower(h), "."+strings.ToLower(zone)) {
		return fmt.Errorf("the route pattern %q is not in the zone %s", pattern, zone)
	}
	return nil
}

// secretsHash is the hex SHA-256 over the sorted names and values, each
// followed by a NUL byte.
func secretsHash(secrets map[string]string) string {
	h := sha256.New()
	for _, n := range slices.Sorted(maps.Keys(secrets)) {
		io.WriteString(h, n)
		h.Write([]byte{0})
		io.WriteString(h, secrets[n])
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// remoteScript is what Cloudflare holds for a Worker.
type remoteScript struct {
	compatibilityDate string
	plain             map[string]string
	module            []byte
	moduleName        string // "" when the answer did not name it
	secrets           []string
}

// route is a Worker route as Cloudflare lists it.
type route struct {
	ID      string `json:"id"`
	Pattern string `json:"pattern"`
	Script  string `json:"script"`
}

// Deploy makes Cloudflare hold d: the Worker with its module, plain
// bindings and secrets, routed on d.Pattern. It reads the current state
// first (settings, content, secret names, routes) and then makes only the
// calls that change something: a second Deploy with the same input makes no
// changing call and returns no Changes.
//
// Order of the changing calls: for a new Worker, upload, secrets, route; for
// an existing one, secrets first and then the upload that records their new
// hash, so a failure half-way is repaired by the next Deploy. Secrets the
// Worker holds but d does not are removed (before the upload when a plain
// binding takes the name, else after it). A route with d.Pattern that runs
// another Worker is refused, before anything is changed.
//
// On error, the Changes made before it are returned with it.
func (c *Client) Deploy(ctx context.Context, d Deployment) ([]Change, error) {
	if err := d.validate(); err != nil {
		return nil, err
	}
	acct, name := d.Zone.AccountID, d.Script.Name
	secretVals := slices.Collect(maps.Values(d.Secrets))
	hash := secretsHash(d.Secrets)
	wantPlain := maps.Clone(d.Script.Plain)
	if wantPlain == nil {
		wantPlain = map[string]string{}
	}
	wantPlain[SecretsHashBinding] = hash

	// Read.
	cur, err := c.readScript(ctx, acct, name, d.Script.MainModule, secretVals)
	if err != nil {
		return nil, err
	}
	routes, err := c.listRoutes(ctx, d.Zone.ID, secretVals)
	if err != nil {
		return nil, err
	}
	var haveRoute bool
	for _, r := range routes {
		if r.Pattern != d.Pattern {
			continue
		}
		if r.Script != name {
			holder := "no Worker (a disabled route)"
			if r.Script != "" {
				holder = "the Worker " + r.Script
			}
			return nil, fmt.Errorf("the route %s in the zone %s already runs %s: remove that route in the Cloudflare dashboard (Workers Routes) first, or choose another domain", d.Pattern, d.Zone.Name, holder)
		}
		haveRoute = true
	}

	// Decide.
	upload := cur == nil ||
		cur.compatibilityDate != d.Script.CompatibilityDate ||
		!bytes.Equal(cur.module, d.Script.Module) ||
		(cur.moduleName != "" && cur.moduleName != d.Script.MainModule) ||
		!maps.Equal(cur.plain, wantPlain)
	var put []string
	switch {
	case cur == nil || cur.plain[SecretsHashBinding] != hash:
		put = slices.Sorted(maps.Keys(d.Secrets))
	default:
		for _, n := range slices.Sorted(maps.Keys(d.Secrets)) {
			if !slices.Contains(cur.secrets, n) {
				put = append(put, n)
			}
		}
	}
	// Secrets to drop: those that become plain bindings go before the
	// upload (the names would clash), the others after it.
	var dropFirst, dropLast []string
	if cur != nil {
		for _, n := range cur.secrets {
			if _, keep := d.Secrets[n]; keep {
				continue
			}
			if _, plain := wantPlain[n]; plain {
				dropFirst = append(dropFirst, n)
			} else {
				dropLast = append(dropLast, n)
			}
		}
	}

	// Change.
	var changes []Change
	doUpload := func() error {
		if !upload {
			return nil
		}
		ch, err := c.upload(ctx, d, wantPlain, secretVals)
		if err != nil {
			return err
		}
		changes = append(changes, ch)
		return nil
	}
	doSecrets := func() error {
		for _, n := range put {
			ch, err := c.putSecret(ctx, acct, name, n, d.Secrets[n], secretVals)
			if err != nil {
				return err
			}
			changes = append(changes, ch)
		}
		return nil
	}
	doDrop := func(names []string) func() error {
		return func() error {
			for _, n := range names {
				ep := secretEndpoint(http.MethodDelete, acct, name, n)
				err := c.call(ctx, "remove the secret "+n, ep, nil, nil, "", nil, secretVals)
				if err != nil && !isGone(err) {
					return err
				}
				if err == nil {
					changes = append(changes, change("remove the secret "+n+", which the deployment no longer has", ep))
				}
			}
			return nil
		}
	}
	// Secrets go before the upload that records their hash, unless the
	// Worker is new or a secret takes the name of a plain binding the
	// upload removes; then a failed put leaves the name missing, which the
	// next Deploy sees.
	uploadFirst := cur == nil || slices.ContainsFunc(put, func(n string) bool {
		_, plain := cur.plain[n]
		return plain
	})
	steps := []func() error{doDrop(dropFirst), doSecrets, doUpload, doDrop(dropLast)}
	if uploadFirst {
		steps = []func() error{doDrop(dropFirst), doUpload, doSecrets, doDrop(dropLast)}
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return changes, err
		}
	}
	if !haveRoute {
		ep := routesEndpoint(http.MethodPost, d.Zone.ID, "")
		body, _ := json.Marshal(map[string]string{"pattern": d.Pattern, "script": name})
		what := "route " + d.Pattern + " to the Worker"
		if err := c.call(ctx, what, ep, nil, body, "application/json", nil, secretVals); err != nil {
			return changes, err
		}
		changes = append(changes, change(what, ep))
	}
	return changes, nil
}

// readScript reads the Worker's settings, content and secret names; nil
// when there is no such Worker.
func (c *Client) readScript(ctx context.Context, acct, name, mainName string, secretVals []string) (*remoteScript, error) {
	var settings struct {
		CompatibilityDate string `json:"compatibility_date"`
		Bindings          []struct {
			Type string          `json:"type"`
			Name string          `json:"name"`
			Text json.RawMessage `json:"text"`
		} `json:"bindings"`
	}
	ep := scriptEndpoint(http.MethodGet, acct, name, "/settings")
	if err := c.call(ctx, "read the Worker's settings", ep, nil, nil, "", &settings, secretVals); err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	cur := &remoteScript{compatibilityDate: settings.CompatibilityDate, plain: map[string]string{}}
	for _, b := range settings.Bindings {
		if b.Type != "plain_text" {
			continue
		}
		var text string
		if err := json.Unmarshal(b.Text, &text); err != nil {
			return nil, fmt.Errorf("read the Worker's settings (%s): the binding %s has no text", ep, b.Name)
		}
		cur.plain[b.Name] = text
	}

	ep = scriptEndpoint(http.MethodGet, acct, name, "/content/v2")
	resp, err := c.send(ctx, "read the Worker's content", ep, nil, nil, "")
	if err != nil {
		return nil, err
	}
	if resp.status < 200 || resp.status > 299 {
		err := c.apiError(ctx, "read the Worker's content", ep, resp, secretVals)
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	cur.module, cur.moduleName, err = mainModule(resp, mainName)
	if err != nil {
		return nil, fmt.Errorf("read the Worker's content (%s): %w", ep, err)
	}

	ep = scriptEndpoint(http.MethodGet, acct, name, "/secrets")
	items, err := c.list(ctx, "list the Worker's secrets", ep, nil, secretVals)
	if err != nil {
		if isNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	for _, raw := range items {
		var s struct {
			Name string `json:"name"`
			Type string `json:"type"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("list the Worker's secrets (%s): Cloudflare's answer is not a secret list: %v", ep, err)
		}
		if s.Type == "" || s.Type == "secret_text" {
			cur.secrets = append(cur.secrets, s.Name)
		}
	}
	return cur, nil
}

// mainModule finds the main module in a content answer: the answer itself,
// or, for a multipart answer, the part named want (else the first part).
func mainModule(resp *response, want string) ([]byte, string, error) {
	mt, params, err := mime.ParseMediaType(resp.header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return resp.body, "", nil
	}
	mr := multipart.NewReader(bytes.NewReader(resp.body), params["boundary"])
	var first []byte
	var firstName string
	for i := 0; ; i++ {
		p, err := mr.NextPart()
		if err == io.EOF && i > 0 {
			return first, firstName, nil
		}
		if err != nil {
			return nil, "", fmt.Errorf("the multipart answer has no module: %w", err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, "", fmt.Errorf("the multipart answer is cut short: %w", err)
		}
		name := p.FormName()
		if name == "" {
			name = p.FileName()
		}
		if name == want {
			return data, name, nil
		}
		if i == 0 {
			first, firstName = data, name
		}
	}
}

func (c *Client) listRoutes(ctx context.Context, zone string, secretVals []string) ([]route, error) {
	ep := routesEndpoint(http.MethodGet, zone, "")
	items, err := c.list(ctx, "list the zone's Worker routes", ep, nil, secretVals)
	if err != nil {
		return nil, err
	}
	routes := make([]route, 0, len(items))
	for _, raw := range items {
		var r route
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("list the zone's Worker routes (%s): Cloudflare's answer is not a route list: %v", ep, err)
		}
		routes = append(routes, r)
	}
	return routes, nil
}

// upload sends the Worker: metadata (main module, compatibility date, plain
// bindings, keep the secrets) and the module.
func (c *Client) upload(ctx context.Context, d Deployment, plain map[string]string, secretVals []string) (Change, error) {
	type binding struct {
		Type string `json:"type"`
		Name string `json:"name"`
		Text string `json:"text"`
	}
	meta := struct {
		MainModule        string    `json:"main_module"`
		CompatibilityDate string    `json:"compatibility_date"`
		Bindings          []binding `json:"bindings"`
		KeepBindings      []string  `json:"keep_bindings"`
	}{
		MainModule:        d.Script.MainModule,
		CompatibilityDate: d.Script.CompatibilityDate,
		Bindings:          []binding{},
		KeepBindings:      []string{"secret_text"},
	}
	for _, n := range slices.Sorted(maps.Keys(plain)) {
		meta.Bindings = append(meta.Bindings, binding{Type: "plain_text", Name: n, Text: plain[n]})
	}
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return Change{}, err
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="metadata"`)
	h.Set("Content-Type", "application/json")
	part, _ := mw.CreatePart(h)
	part.Write(metaJSON)
	h = textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, d.Script.MainModule, d.Script.MainModule))
	h.Set("Content-Type", moduleContentType)
	part, _ = mw.CreatePart(h)
	part.Write(d.Script.Module)
	if err := mw.Close(); err != nil {
		return Change{}, err
	}
	ep := scriptEndpoint(http.MethodPut, d.Zone.AccountID, d.Script.Name, "")
	if err := c.call(ctx, "upload the Worker", ep, nil, body.Bytes(), mw.FormDataContentType(), nil, secretVals); err != nil {
		return Change{}, err
	}
	return change("upload the Worker", ep), nil
}

func (c *Client) putSecret(ctx context.Context, acct, script, name, value string, secretVals []string) (Change, error) {
	body, err := json.Marshal(map[string]string{"name": name, "text": value, "type": "secret_text"})
	if err != nil {
		return Change{}, err
	}
	ep := scriptEndpoint(http.MethodPut, acct, script, "/secrets")
	what := "set the secret " + name
	if err := c.call(ctx, what, ep, nil, body, "application/json", nil, secretVals); err != nil {
		return Change{}, err
	}
	return change(what, ep), nil
}

// Remove takes the Worker scriptName away from the zone's account: its
// routes in the zone (the one with pattern and any other that runs it, as
// they would point at nothing), its secrets, and the Worker itself. What is
// already gone is no change, so a second Remove makes no changing call. A
// route with pattern that runs another Worker is left alone.
//
// On error, the Changes made before it are returned with it.
func (c *Client) Remove(ctx context.Context, zone Zone, scriptName, pattern string) ([]Change, error) {
	if zone.ID == "" || zone.AccountID == "" {
		return nil, errors.New("remove the Worker: the zone has no ID or account ID (find it with FindZone)")
	}
	if !validScriptName(scriptName) {
		return nil, fmt.Errorf("remove the Worker: the Worker name %q is not valid (see ScriptName)", scriptName)
	}
	routes, err := c.listRoutes(ctx, zone.ID, nil)
	if err != nil {
		return nil, err
	}
	// The route with pattern first, then the others that run the Worker.
	slices.SortStableFunc(routes, func(a, b route) int {
		switch {
		case a.Pattern == pattern && b.Pattern != pattern:
			return -1
		case b.Pattern == pattern && a.Pattern != pattern:
			return 1
		}
		return 0
	})
	var changes []Change
	for _, r := range routes {
		if r.Script != scriptName {
			continue
		}
		ep := routesEndpoint(http.MethodDelete, zone.ID, r.ID)
		what := "remove the route " + r.Pattern
		err := c.call(ctx, what, ep, nil, nil, "", nil, nil)
		if err != nil && !isGone(err) {
			return changes, err
		}
		if err == nil {
			changes = append(changes, change(what, ep))
		}
	}

	ep := scriptEndpoint(http.MethodGet, zone.AccountID, scriptName, "/secrets")
	items, err := c.list(ctx, "list the Worker's secrets", ep, nil, nil)
	if isNotFound(err) {
		return changes, nil
	}
	if err != nil {
		return changes, err
	}
	for _, raw := range items {
		var s struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			return changes, fmt.Errorf("list the Worker's secrets (%s): Cloudflare's answer is not a secret list: %v", ep, err)
		}
		ep := secretEndpoint(http.MethodDelete, zone.AccountID, scriptName, s.Name)
		what := "remove the secret " + s.Name
		err := c.call(ctx, what, ep, nil, nil, "", nil, nil)
		if err != nil && !isGone(err) {
			return changes, err
		}
		if err == nil {
			changes = append(changes, change(what, ep))
		}
	}

	ep = scriptEndpoint(http.MethodDelete, zone.AccountID, scriptName, "")
	err = c.call(ctx, "delete the Worker", ep, nil, nil, "", nil, nil)
	if isNotFound(err) {
		return changes, nil
	}
	if err != nil {
		return changes, err
	}
	return append(changes, change("delete the Worker", ep)), nil
}

// isGone reports whether err is a 404 for a route or secret that is no
// longer there (not one for a wrong zone or account ID, code 7003).
func isGone(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == http.StatusNotFound && !e.hasCode(7000, 7003)
}
