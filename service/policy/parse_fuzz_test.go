package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// FuzzParse: any file either parses into a policy that validates, or is
// refused with a one-line error, never a panic; and a policy that parses
// is written out again as JSON and as YAML, each of which parses back to an
// equal policy (the same settings, catalogue and timezone).
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile(filepath.Join("testdata", "example.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example, true)
	f.Add([]byte(customYAML), true)
	f.Add([]byte(customJSON), false)
	f.Add([]byte("grace_days: 5\nfuture_skew: 90s\ndemonstration: {min_average_score: 90.5, min_rated_share: 0.75}\n"), true)
	f.Add([]byte(`{"items": [{"code": "A-1", "category": "包", "name": "n", "kind": "deduction", "points": 2, "min_points": 1, "max_points": 3, "serious": true, "case_hours": 24}]}`), false)
	f.Add([]byte("items:\n  - {code: \"x:y\", category: \"'\", name: \"多行\\n名称\", kind: bonus, points: 1, min_points: 1, max_points: 1}\n"), true)
	f.Add([]byte(`{"future_skew": null, "timezone": "UTC"}`), false)
	f.Add([]byte("star_thresholds: [95, 85, 90, 80, 75]\n"), true)
	f.Add([]byte(`{"grace_days": 1} {"grace_days": 2}`), false)
	f.Fuzz(func(t *testing.T, data []byte, isYAML bool) {
		format := "json"
		if isYAML {
			format = "yaml"
		}
		p, err := Parse(data, format)
		if err != nil {
			if p != nil {
				t.Fatalf("Parse(%q) = %+v and %v: a policy with an error", data, p, err)
			}
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("Parse(%q): the error spans lines: %q", data, err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("Parse(%q) returned a policy that does not validate: %v", data, err)
		}
		want := exported(p)
		for _, out := range []string{"json", "yaml"} {
			var written []byte
			if out == "json" {
				written, err = json.Marshal(p)
			} else {
				written, err = yaml.Marshal(p)
			}
			if err != nil {
				t.Fatalf("%s marshal of %+v: %v", out, want, err)
			}
			again, err := Parse(written, out)
			if err != nil {
				t.Fatalf("Parse(%q) of the policy parsed from %s %q: %v", written, format, data, err)
			}
			if got := exported(again); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s round trip of %s %q:\n got %+v\nwant %+v", out, format, data, got, want)
			}
			if again.Location().String() != p.Location().String() {
				t.Fatalf("%s round trip: timezone %s, want %s", out, again.Location(), p.Location())
			}
		}
	})
}
