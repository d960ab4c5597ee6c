package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// withTiers is readable's cache-l3 on a stack of L1 and L3, whose counts
// are among its counters: L3 timed, degraded at the end, some of L1's
// writes dropped.
func withTiers(t *testing.T) *Report {
	r := readable(t)
	s := &r.Scenarios[1]
	l3 := s.Latency
	s.Tiers = []Tier{{Name: "l1"}, {Name: "l3", Latency: &l3}}
	for k, v := range map[string]int64{
		"l1_hits": 450, "l1_misses": 550, "l1_sets": 550, "l1_promotions": 0, "l1_errors": 0, "l1_skipped": 0, "l1_sets_dropped": 3, "l1_sets_rejected": 1, "l1_degraded": 0,
		"l3_hits": 450, "l3_misses": 100, "l3_sets": 0, "l3_promotions": 0, "l3_errors": 7, "l3_skipped": 2, "l3_sets_dropped": 0, "l3_sets_rejected": 0, "l3_degraded": 1,
	} {
		s.Counters[k] = v
	}
	return r
}

// TestTierLinesReadTheCounters: the text report's line for each tier
// shows the counts of the scenario's counters, and the tier's latency.
func TestTierLinesReadTheCounters(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, withTiers(t)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  tier l1: hits 450, misses 550, sets 550, promotions 0, errors 0, skipped 0, sets dropped 3, rejected 1\n",
		"  tier l3: hits 450, misses 100, sets 0, promotions 0, errors 7, skipped 2; latency p50 25.0ms, p99 49.5ms, max 50.0ms; DEGRADED (breaker open)\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, b.String())
		}
	}
}

// TestTiersWrittenOnce: a tier is written with its name and latency only
// (its counts are counters), and reads back; a report an earlier version
// wrote, with each tier's counts copied beside it, reads too, the copies
// dropped; a tier's unknown field is refused.
func TestTiersWrittenOnce(t *testing.T) {
	r := withTiers(t)
	data := jsonOf(t, r)
	var doc struct {
		Scenarios []struct {
			Tiers []map[string]any `json:"tiers"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for _, tier := range doc.Scenarios[1].Tiers {
		for k := range tier {
			if k != "name" && k != "latency_ns" {
				t.Errorf("tier %v written with %s", tier["name"], k)
			}
		}
	}
	back, err := ReadJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Scenarios[1].Tiers; len(got) != 2 || got[1].Name != "l3" || got[1].Latency == nil || *got[1].Latency != r.Scenarios[1].Latency {
		t.Errorf("tiers read back %+v", got)
	}
	legacy := bytes.Replace(data, []byte(`"name": "l1"`),
		[]byte(`"name": "l1", "hits": 450, "misses": 550, "sets": 550, "sets_dropped": 3, "sets_rejected": 1, "errors": 0, "skipped": 0, "promotions": 0, "degraded": false`), 1)
	if bytes.Equal(legacy, data) {
		t.Fatal("no l1 tier to make legacy")
	}
	if back, err := ReadJSON(bytes.NewReader(legacy)); err != nil || back.Scenarios[1].Tiers[0] != (Tier{Name: "l1"}) {
		t.Errorf("a legacy report: %v, tiers %+v; want it read, l1 with its name only", err, back)
	}
	unknown := bytes.Replace(data, []byte(`"name": "l1"`), []byte(`"name": "l1", "hit": 1`), 1)
	if _, err := ReadJSON(bytes.NewReader(unknown)); err == nil || !strings.Contains(err.Error(), "hit") {
		t.Errorf("a tier with an unknown field: %v; want it refused", err)
	}
}
