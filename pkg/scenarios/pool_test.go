package scenarios

import (
	"runtime"
	"testing"

	"github.com/rustci/rustci-perf/pkg/config"
)

// TestPoolSize: a configured pool is kept; otherwise every worker gets a
// connection, and never fewer than go-redis's default.
func TestPoolSize(t *testing.T) {
	floor := 10 * runtime.GOMAXPROCS(0)
	for _, tt := range []struct{ configured, workers, want int }{
		{7, 50, 7},
		{0, 1, floor},
		{0, floor + 30, floor + 30},
	} {
		var s config.Settings
		s.Cache.L2.PoolSize, s.Concurrency = tt.configured, tt.workers
		if got := poolSize(s); got != tt.want {
			t.Errorf("pool_size %d, %d workers: pool %d; want %d", tt.configured, tt.workers, got, tt.want)
		}
	}
}
