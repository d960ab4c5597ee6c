package cost

import "testing"

func TestStatusKB(t *testing.T) {
	status := []byte("Name:\tx\nVmPeak:\t  999 kB\nVmHWM:\t   207556 kB\nVmRSS:\t 2872 kB\n")
	tests := []struct {
		key  string
		want int64
		ok   bool
	}{
		{"VmHWM:", 207556, true},
		{"VmRSS:", 2872, true},
		{"VmSwap:", 0, false}, // absent
		{"Name:", 0, false},   // not a size
	}
	for _, tt := range tests {
		if got, ok := statusKB(status, tt.key); got != tt.want || ok != tt.ok {
			t.Errorf("statusKB(%q) = %d, %t; want %d, %t", tt.key, got, ok, tt.want, tt.ok)
		}
	}
}
