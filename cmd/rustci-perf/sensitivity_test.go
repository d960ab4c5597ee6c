package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rustci/rustci-perf/internal/redistest"
	"github.com/rustci/rustci-perf/internal/slowproxy"
)

// TestDefaultThresholdsBite: default thresholds still fail when the figure
// they judge is pushed past them by a component made slower or broken on
// purpose, and hold on the same run without the fault, so the retuned
// defaults are not merely lenient. Each row is run twice, faulty and
// healthy; what other tests cover is listed in the README.
func TestDefaultThresholdsBite(t *testing.T) {
	srv := redistest.Start(t)
	// A Redis whose every reply comes 12ms late, and one 1ms late.
	slow := "redis://" + slowproxy.Start(t, srv.Addr, 12*time.Millisecond)
	late := "redis://" + slowproxy.Start(t, srv.Addr, time.Millisecond)
	fast := srv.URL()
	for _, c := range []struct {
		name            string
		faulty, healthy []string
		config          string // YAML laid over the defaults in both runs
		fails           []string
	}{
		{
			// Writes through L2, L2 reads and limiter checks all wait a
			// slow round trip: below the throughput floors; the latency
			// mix's writes (10%) put its p95, p99 and mean past theirs.
			// (100 keys: the fill writes each through the slow Redis.)
			name:    "slow Redis",
			faulty:  []string{"cache-write", "cache-l2", "limiter", "latency", "--duration", "500ms", "--keys", "100", "--redis-url", slow},
			healthy: []string{"cache-write", "cache-l2", "limiter", "latency", "--duration", "500ms", "--keys", "100", "--redis-url", fast},
			fails: []string{"cache-write:throughput>1000", "cache-l2:throughput>1000", "limiter:throughput>1000",
				"latency:p99<10ms", "latency:p95<5ms", "latency:mean<1ms"},
		},
		{
			// Reads of a key space several times what a small L1 holds
			// are served by a Redis 1ms away: the read tail is a round
			// trip, the read median an L1 hit.
			name:    "reads that miss L1",
			faulty:  []string{"latency", "--duration", "500ms", "--keys", "3000", "--distribution", "zipfian", "--redis-url", late},
			healthy: []string{"latency", "--duration", "500ms", "--keys", "100", "--distribution", "zipfian", "--redis-url", late},
			config:  "cache:\n  l1: {max_cost_bytes: 100000}\n",
			fails:   []string{"latency:read.p99/read.p50<20"},
		},
		{
			// Items expire before they are read.
			name:    "expired items",
			faulty:  []string{"cache-read", "cache-l3", "--duration", "500ms", "--config", "TTL"},
			healthy: []string{"cache-read", "cache-l3", "--duration", "500ms"},
			fails:   []string{"cache-read:hit_rate>0.95", "cache-l3:hit_rate>0.99"},
		},
		{
			// 16KiB values: L3's memtable keeps a copy of each.
			name:    "large values",
			faulty:  []string{"memory", "--ops", "1000", "--value-size", "16384"},
			healthy: []string{"memory", "--ops", "1000"},
			fails:   []string{"memory:heap_bytes_per_item<1024"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			ttl := filepath.Join(dir, "ttl.yaml")
			if err := os.WriteFile(ttl, []byte("cache:\n  ttl: 1ms\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			run := func(what string, args []string) map[string]bool {
				args = append([]string{"run", "-q", "--format", "json", "--output", "r.json"}, args...)
				for i, a := range args {
					if a == "TTL" {
						args[i] = ttl
					}
				}
				if c.config != "" {
					cfg := filepath.Join(dir, "c.yaml")
					if err := os.WriteFile(cfg, []byte(c.config), 0o644); err != nil {
						t.Fatal(err)
					}
					args = append(args, "--config", cfg)
				}
				r := rustciPerf(t, dir, args...)
				if r.code != 0 && r.code != 1 {
					t.Fatalf("%s: exit %d\n%s%s", what, r.code, r.stdout, r.stderr)
				}
				pass := map[string]bool{}
				for _, s := range readReportFile(t, filepath.Join(dir, "r.json")).Scenarios {
					for _, th := range s.Thresholds {
						pass[s.Name+":"+th.Expr] = th.Pass
					}
				}
				return pass
			}
			bad, good := run("faulty", c.faulty), run("healthy", c.healthy)
			for _, want := range c.fails {
				p, judged := bad[want]
				switch {
				case !judged:
					t.Errorf("faulty: %s not judged (judged: %s)", want, keys(bad))
				case p:
					t.Errorf("faulty: %s held; want it missed", want)
				}
				if p, judged := good[want]; !judged || !p {
					t.Errorf("healthy: %s judged %t, held %t; want held", want, judged, p)
				}
			}
		})
	}
}

func keys(m map[string]bool) string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return strings.Join(out, ", ")
}
