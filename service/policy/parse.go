package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written in policy files as a Go duration string such as "5m".
type Duration struct {
	time.Duration
}

// MarshalJSON writes the duration as a string such as "5m0s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}

// UnmarshalJSON reads a duration string; null leaves the value unchanged, as
// encoding/json does for plain fields.
func (d *Duration) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"5m\", got %s", oneLine(string(data)))
	}
	return d.set(s)
}

// MarshalYAML writes the duration as a string such as "5m0s".
func (d Duration) MarshalYAML() (any, error) {
	return d.String(), nil
}

// UnmarshalYAML reads a duration string.
func (d *Duration) UnmarshalYAML(value *yaml.Node) error {
	if value.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: duration must be a string like \"5m\"", value.Line)
	}
	if value.Tag == "!!null" {
		return nil
	}
	if err := d.set(value.Value); err != nil {
		return fmt.Errorf("line %d: %w", value.Line, err)
	}
	return nil
}

func (d *Duration) set(s string) error {
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("bad duration %q (want a Go duration like \"5m\")", s)
	}
	d.Duration = v
	return nil
}

// Parse reads a policy in format "yaml" or "json" and validates it. Unknown keys
// are errors, because a misspelt key would otherwise silently keep its default.
// Missing settings keep the default; an items list replaces the whole default
// catalogue, since merging catalogues item by item would be surprising.
func Parse(data []byte, format string) (*Policy, error) {
	p := defaultSettings()
	// Lists are decoded into nil slices: decoders may reuse the elements of a
	// pre-filled slice and merge old fields into the file's items.
	thresholds := p.StarThresholds
	p.StarThresholds = nil

	var keys map[string]bool
	var err error
	switch strings.ToLower(format) {
	case "yaml", "yml":
		keys, err = decodeYAML(data, p)
	case "json":
		keys, err = decodeJSON(data, p)
	default:
		return nil, fmt.Errorf("unknown policy format %q (want yaml or json)", format)
	}
	if err != nil {
		return nil, err
	}
	if !keys["star_thresholds"] {
		p.StarThresholds = thresholds
	}
	if !keys["items"] {
		p.Items = defaultItems()
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func decodeYAML(data []byte, p *Policy) (map[string]bool, error) {
	var top map[string]any
	if err := yaml.Unmarshal(data, &top); err != nil {
		return nil, yamlError(err)
	}
	if top == nil {
		return nil, errors.New("parse policy yaml: the document is empty")
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(p); err != nil {
		return nil, yamlError(err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("parse policy yaml: more than one document")
	}
	return presentKeys(top), nil
}

// yamlError keeps errors on one line: yaml.v3 lists type errors one per line,
// and quotes the offending value as written, line breaks and all, which would
// break log lines and the "; "-joined style of Validate.
func yamlError(err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		return fmt.Errorf("parse policy yaml: %s", oneLine(strings.Join(te.Errors, "; ")))
	}
	if msg := err.Error(); strings.ContainsAny(msg, "\r\n") {
		return fmt.Errorf("parse policy yaml: %s", oneLine(msg))
	}
	return fmt.Errorf("parse policy yaml: %w", err)
}

// oneLine writes the line breaks of s (a value quoted into an error) as \n.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", `\n`, "\r", `\n`, "\n", `\n`).Replace(s)
}

func decodeJSON(data []byte, p *Policy) (map[string]bool, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("parse policy json: %w", err)
	}
	if top == nil {
		return nil, errors.New("parse policy json: the document is null")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("parse policy json: %w", err)
	}
	return presentKeys(top), nil
}

func presentKeys[V any](top map[string]V) map[string]bool {
	keys := make(map[string]bool, len(top))
	for k := range top {
		keys[k] = true
	}
	return keys
}

// Load reads and validates the policy file at path; the extension (.yaml,
// .yml or .json) gives the format. Errors name the file.
func Load(path string) (*Policy, error) {
	var format string
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		format = "yaml"
	case ".json":
		format = "json"
	default:
		return nil, fmt.Errorf("policy file %s: unknown extension (want .yaml, .yml or .json)", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err) // the *PathError names the file
	}
	p, err := Parse(data, format)
	if err != nil {
		return nil, fmt.Errorf("policy file %s: %w", path, err)
	}
	return p, nil
}
