package history

import (
	"strings"
	"testing"
)

func TestParseLabel(t *testing.T) {
	for _, tt := range []struct {
		in, key, value string
		ok             bool
	}{
		{"runner=ci-large", "runner", "ci-large", true},
		{"a=", "a", "", true},                             // an empty value is a value
		{"k=v=w", "k", "v=w", true},                       // the first = splits
		{"_x.y-z9=1", "_x.y-z9", "1", true},               // the schema's key characters
		{"noequals", "", "", false},                       // no value
		{"=v", "", "", false},                             // no key
		{"9k=v", "", "", false},                           // a key starts with a letter or _
		{"k y=v", "", "", false},                          // no space in a key
		{strings.Repeat("k", 65) + "=v", "", "", false},   // a key of 65
		{"k=" + strings.Repeat("v", 1025), "", "", false}, // a value of 1025
	} {
		k, v, err := ParseLabel(tt.in)
		if (err == nil) != tt.ok || k != tt.key || v != tt.value {
			t.Errorf("ParseLabel(%.20q) = (%q, %q, %v); want (%q, %q, ok %t)", tt.in, k, v, err, tt.key, tt.value, tt.ok)
		}
	}
}

// FuzzParseLabel: ParseLabel never panics, and what it accepts writes
// back as KEY=VALUE and reads the same again.
func FuzzParseLabel(f *testing.F) {
	for _, s := range []string{"runner=ci", "a=", "k=v=w", "=", "", "9=9", "é=é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, v, err := ParseLabel(s)
		if err != nil {
			return
		}
		if !validLabelKey(k) || len(v) > maxLabelValue {
			t.Fatalf("ParseLabel(%q) = (%q, %q): accepted what it should refuse", s, k, v)
		}
		k2, v2, err := ParseLabel(k + "=" + v)
		if err != nil || k2 != k || v2 != v {
			t.Fatalf("ParseLabel(%q) = (%q, %q, %v); want (%q, %q) again", k+"="+v, k2, v2, err, k, v)
		}
	})
}
