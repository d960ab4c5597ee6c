package history

import (
	"fmt"
	"strings"
)

// Label limits, as the report's schema has them for provenance labels.
const (
	maxLabelKey   = 64
	maxLabelValue = 1024
)

// ParseLabel reads a label filter, KEY=VALUE, as --label gives it: the
// key as a report's labels have it (a letter or _, then letters, digits,
// _, . or -, at most 64), the value anything up to 1024 bytes, empty too.
func ParseLabel(s string) (key, value string, err error) {
	key, value, ok := strings.Cut(s, "=")
	if !ok {
		return "", "", fmt.Errorf("label %q: want KEY=VALUE", s)
	}
	if !validLabelKey(key) {
		return "", "", fmt.Errorf("label %q: key %q: want a letter or _, then letters, digits, _, . or -, at most %d", s, key, maxLabelKey)
	}
	if len(value) > maxLabelValue {
		return "", "", fmt.Errorf("label %q: value of %d bytes: want at most %d", key, len(value), maxLabelValue)
	}
	return key, value, nil
}

func validLabelKey(k string) bool {
	if k == "" || len(k) > maxLabelKey {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		letter := c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
		if !letter && (i == 0 || !(('0' <= c && c <= '9') || c == '.' || c == '-')) {
			return false
		}
	}
	return true
}
