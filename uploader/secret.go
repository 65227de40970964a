package uploader

// Secret holds a credential. Every way of printing it (fmt verbs, %#v, JSON,
// TOML, logs) shows "[redacted]"; call [Secret.Reveal] to get the value for
// the one place that needs it, the request signer.
type Secret struct{ value string }

const redacted = "[redacted]"

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{value: s} }

// Reveal returns the secret value.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.value == "" }

// String implements fmt.Stringer.
func (s Secret) String() string {
	if s.value == "" {
		return ""
	}
	return redacted
}

// GoString implements fmt.GoStringer, so %#v redacts too.
func (s Secret) GoString() string { return `uploader.Secret("` + s.String() + `")` }

// MarshalText redacts the secret in JSON, TOML and any other text encoding.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads the secret from a config file.
func (s *Secret) UnmarshalText(b []byte) error {
	s.value = string(b)
	return nil
}
