package scenarios

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/rustci/rustci-perf/internal/blackhole"
	"github.com/rustci/rustci-perf/pkg/config"
	"github.com/rustci/rustci-perf/pkg/fault"
	"github.com/rustci/rustci-perf/pkg/harness"
	"github.com/rustci/rustci-perf/pkg/limiter"
	"github.com/rustci/rustci-perf/pkg/metric"
	"github.com/rustci/rustci-perf/pkg/redisconn"
)

// limiterMetrics are what both limiter scenarios report.
var limiterMetrics = []string{"allowed", "denied", "fallback", "fallback_rate", "redis_ok", "redis_errors", "timeouts", "switches",
	"admission_expected_min", "admission_expected_max", "admission_error"}

var limiterScenario = &Scenario{
	Name:    "limiter",
	Group:   "limiter",
	Summary: "checks on the configured backend (Redis when a URL is set); allowed must match GCRA: burst + rate x elapsed",
	Metrics: limiterMetrics,
	run: func(ctx context.Context, s config.Settings) (*Outcome, error) {
		if s.Cache.L2.URL == "" {
			return runLimiter(ctx, s, onMemory)
		}
		return runLimiter(ctx, s, onRedis)
	},
}

var limiterFallback = &Scenario{
	Name:    "limiter-fallback",
	Group:   "limiter",
	Summary: "checks with Redis unreachable (refused or silent): every decision by the fallback, none an error",
	Metrics: limiterMetrics,
	run: func(ctx context.Context, s config.Settings) (*Outcome, error) {
		return runLimiter(ctx, s, onUnreachable)
	},
}

// Where a limiter scenario's checks go.
const (
	onMemory      = "memory"
	onRedis       = "redis"       // the configured one
	onUnreachable = "unreachable" // a Redis address that cannot be reached
)

// limiterPolicy is the name of the policy the scenarios check against.
const limiterPolicy = "scenario"

// backend is a limiter under test and what it is.
type backend struct {
	lim   limiter.Limiter
	redis *limiter.Redis // nil for memory
	desc  string
	close func()
	// ping, for Redis, checks that the server answers on a connection
	// set up as the checks' are (AUTH, SELECT included).
	ping func(context.Context) error
	// fault, when faults are injected into the limiter's Redis, is their
	// injector, armed when measuring starts; notes say what went where.
	fault *fault.Injector
	seed  uint64
	notes []string
}

// worker returns the context worker w's checks use: ctx, carrying the
// worker's stream of fault draws when faults are injected.
func (b *backend) worker(ctx context.Context, w int) context.Context {
	if b.fault == nil {
		return ctx
	}
	return fault.Worker(ctx, b.seed, w)
}

// newBackend builds the in-memory limiter, or the Redis one: against the
// configured Redis, or against an address that cannot be reached.
func newBackend(s config.Settings, pol limiter.Policy, where string) (*backend, error) {
	if where == onMemory {
		m, err := limiter.NewMemory(nil, pol)
		if err != nil {
			return nil, err
		}
		b := &backend{lim: m, desc: "limiter: in-memory GCRA", close: func() {}}
		if sp := fault.For(s.Inject, "limiter"); sp != nil {
			b.notes = append(b.notes, fmt.Sprintf("injected fault %s not applied: the limiter ran in memory, and faults go into its Redis (give a Redis URL)", sp))
		}
		return b, nil
	}
	url, closeTarget, what := s.Cache.L2.URL, func() {}, ""
	if where == onUnreachable {
		var err error
		url, closeTarget, err = unreachable(s.Limiter.Unreachable)
		if err != nil {
			return nil, err
		}
		what = fmt.Sprintf(" (unreachable: %s)", s.Limiter.Unreachable)
	}
	// The cache's connection to Redis, with the limiter's own timeout.
	conn := s.Cache.L2.Config
	conn.URL, conn.Timeout, conn.PoolSize = url, s.Limiter.Timeout, poolSize(s)
	c, desc, err := redisconn.New(conn)
	if err != nil {
		closeTarget()
		return nil, err
	}
	var in *fault.Injector
	var notes []string
	if sp := fault.For(s.Inject, "limiter"); sp != nil {
		// Inside the client's deadline hook: the delay is part of the
		// Redis call, bounded by limiter.timeout.
		in = fault.New(*sp, uint64(s.Seed))
		c.AddHook(fault.Hook(in))
		notes = append(notes, injectedNote(*sp, s))
	}
	r, err := limiter.NewRedis(c, limiter.RedisOptions{
		FallbackShare:   s.Limiter.FallbackShare,
		BreakerFailures: uint32(s.Limiter.Breaker.Failures),
		BreakerBackoff:  s.Limiter.Breaker.Backoff,
	}, pol)
	if err != nil {
		c.Close()
		closeTarget()
		return nil, err
	}
	return &backend{
		lim: r, redis: r,
		ping: func(ctx context.Context) error {
			if err := c.Ping(ctx).Err(); err != nil {
				return fmt.Errorf("redis at %s unreachable: %s", desc, redisconn.RedactError(err, url))
			}
			return nil
		},
		desc: fmt.Sprintf("limiter: redis GCRA (redis_rate) at %s%s, timeout %s, fallback share %g, on failure %s",
			desc, what, s.Limiter.Timeout, s.Limiter.FallbackShare, pol.OnFailure),
		close: func() { c.Close(); closeTarget() },
		fault: in, seed: uint64(s.Seed), notes: notes,
	}, nil
}

// unreachable returns a Redis URL on loopback that refuses connections, or
// whose listener accepts them and never answers, and a function that
// releases it.
func unreachable(kind string) (string, func(), error) {
	if kind == "silent" {
		addr, stop, err := blackhole.Silent()
		return "redis://" + addr, stop, err
	}
	addr, err := blackhole.Refused()
	return "redis://" + addr, func() {}, err
}

func runLimiter(ctx context.Context, s config.Settings, where string) (*Outcome, error) {
	pol := s.Limiter.Policy
	pol.Name = limiterPolicy
	b, err := newBackend(s, pol, where)
	if err != nil {
		return nil, err
	}
	defer b.close()
	if where == onRedis {
		// A Redis that cannot be reached or refuses the credentials
		// would leave every check to the failure mode: figures of the
		// fallback under the name of Redis. Say so instead of measuring.
		if err := b.ping(ctx); err != nil {
			return nil, err
		}
	}
	return measureLimiter(ctx, s, pol, b, where != onMemory)
}

// measureLimiter runs the checks on b and judges the admissions against pol.
// viaRedis says b is the Redis limiter (b.redis may be nil in tests, for a
// limiter standing in for it).
func measureLimiter(ctx context.Context, s config.Settings, pol limiter.Policy, b *backend, viaRedis bool) (*Outcome, error) {
	// Warmup and measuring check different keys, so that measuring starts
	// from full buckets (in Redis too), and a run's keys are its own.
	nkeys := max(1, s.Keys)
	id := runID()
	warmKeys, measureKeys := keys("rustci-perf:"+id+":w", nkeys), keys("rustci-perf:"+id+":m", nkeys)
	cur := warmKeys
	counts := make([][]uint32, s.Concurrency) // checks per worker per key
	tallies := make([]tally, s.Concurrency)
	// With one key, workers time some of their denied checks for the
	// admission check's lower bound (see admission.go); a bucket of the
	// fallback's share fills up sooner, so spans use the shorter gap.
	logs := make([]denials, s.Concurrency)
	gap := min(policyGap(pol), policyGap(shareOf(pol, s.Limiter.FallbackShare)))
	single := nkeys == 1
	origin := time.Now()
	var before map[string]limiter.PolicyStats
	var switches uint64
	var live liveLimiter
	hc := plan(s)
	hc.Tick = live.tick(b, pol.Name, s.Tick)
	hc.BeforeMeasure = func() {
		// No worker runs here: the harness's barriers order these writes
		// before the measured phase's reads.
		cur = measureKeys
		for w := range counts {
			counts[w] = make([]uint32, nkeys)
			logs[w] = denials{gap: gap}
		}
		clear(tallies)
		before = b.lim.Stats()
		if b.redis != nil {
			switches = b.redis.Switches()
		}
		live.mark(before[pol.Name], switches)
		if b.fault != nil {
			b.fault.Arm()
		}
	}
	res, err := harness.Run(ctx, hc, func(w int) harness.Op {
		t, d, ctx := &tallies[w], &logs[w], b.worker(ctx, w)
		return func(i int) (harness.Kind, error) {
			k := (w + i*s.Concurrency) % nkeys
			timed := single && d.timed(i)
			var start time.Duration
			if timed {
				start = time.Since(origin)
			}
			r, err := b.lim.AllowN(ctx, limiterPolicy, cur[k], 1)
			if err != nil {
				return 0, err
			}
			if counts[w] != nil {
				counts[w][k]++
			}
			if r.Allowed > 0 {
				t.allowed++
				d.allowed()
			} else {
				t.denied++
				if timed {
					d.denied(start, time.Since(origin))
				}
			}
			return 0, nil
		}
	})
	if err != nil {
		return nil, err
	}
	total := sum(tallies)
	out := outcome(res)
	out.Component = b.desc
	out.Notes = append(out.Notes, b.notes...)
	st, was := b.lim.Stats()[pol.Name], before[pol.Name]
	st.Allowed, st.Denied = st.Allowed-was.Allowed, st.Denied-was.Denied
	st.Fallback, st.RedisErrors, st.Timeouts = st.Fallback-was.Fallback, st.RedisErrors-was.RedisErrors, st.Timeouts-was.Timeouts
	// The limiter keeps its own statistics; they must agree with what the
	// checks were told, or one of the two is wrong.
	if int64(st.Allowed) != total.allowed || int64(st.Denied) != total.denied {
		out.Notes = append(out.Notes, fmt.Sprintf("the limiter's statistics (%d allowed, %d denied) disagree with its answers (%d, %d)",
			st.Allowed, st.Denied, total.allowed, total.denied))
	}
	decisions := total.allowed + total.denied
	out.Counters["allowed"] = total.allowed
	out.Counters["denied"] = total.denied
	out.Counters["fallback"] = int64(st.Fallback)
	out.Counters["redis_errors"] = int64(st.RedisErrors)
	out.Counters["timeouts"] = int64(st.Timeouts)
	out.Counters["switches"] = 0
	out.Counters["redis_ok"] = 0
	derive(out, metric.FallbackRate) // n/a with no decision, or counters that disagree
	if viaRedis {
		out.Counters["redis_ok"] = max(0, decisions-int64(st.Fallback))
	}
	if b.redis != nil {
		out.Counters["switches"] = int64(b.redis.Switches() - switches)
		// Failures before measuring (the warmup's) are not in the
		// counters, but they may have opened the breaker: say so, or
		// a measured phase all in fallback would look like a choice.
		if was.RedisErrors > 0 || switches > 0 {
			out.Notes = append(out.Notes, fmt.Sprintf("before measuring (warmup): %s from Redis, and the breaker sent checks to the failure mode %s",
				plural(int(was.RedisErrors), "error", "errors"), plural(int(switches), "time", "times")))
		}
	}
	perKey := make([]int64, nkeys)
	for _, c := range counts {
		for k, n := range c {
			perKey[k] += int64(n)
		}
	}
	var spans []denialSpan
	for w := range logs {
		spans = append(spans, logs[w].all()...)
	}
	admission(out, s, pol, res, perKey, spans, total, int64(st.Fallback), viaRedis && st.Fallback == 0)
	return out, nil
}

// shareOf is p at the fallback's share, as limiter.Redis scales it.
func shareOf(p limiter.Policy, share float64) limiter.Policy {
	if share <= 0 || share >= 1 {
		return p
	}
	p.Period = time.Duration(float64(p.Period) / share)
	p.Burst = max(1, int(float64(p.Burst)*share))
	return p
}

// redisDrift bounds how many admissions a Redis-side GCRA may gain or lose
// against the bounds computed on this process's clock, over allowed
// admissions at emission interval e in a window of outer:
//   - redis_rate keeps times as float seconds since 2017-01-01; each
//     admission rounds to the nearest double, up to half a unit in the last
//     place (about 30ns in the 2020s);
//   - Redis decides on its own clock (TIME), this process measures on the
//     monotonic clock; NTP may slew one against the other by up to 500ppm.
func redisDrift(allowed int64, e, outer time.Duration) int64 {
	secs := float64(time.Now().Unix() - 1483228800)
	ulp := math.Nextafter(secs, math.Inf(1)) - secs // seconds
	drift := float64(allowed)*ulp/2/e.Seconds() + 500e-6*float64(outer)/float64(e)
	return int64(math.Ceil(drift))
}

// admission judges the count of admissions against what GCRA admits for the
// policy over the measured window (see admission.go), from the checks per
// key and, with one key, the spans of timed denials. With Redis, the
// decisions must all come from one side: the policy in Redis, or the
// fallback's share of it. When the check does not apply, the admission
// figures are not reported (a threshold on them fails as not computable)
// and a note says why.
func admission(out *Outcome, s config.Settings, pol limiter.Policy, res *harness.Result, perKey []int64, spans []denialSpan, total tally, fallback int64, inRedis bool) {
	decisions := total.allowed + total.denied
	switch {
	case decisions == 0:
		out.Notes = append(out.Notes, "admission not checked: no decision was made")
		return
	case fallback > 0 && fallback < decisions:
		out.Notes = append(out.Notes, fmt.Sprintf("admission not checked: %d of %d decisions were the failure mode's (%s), the rest Redis's: two limits, neither measured alone", fallback, decisions, failureMode(pol)))
		return
	case fallback > 0 && failureMode(pol) != limiter.Fallback:
		out.Notes = append(out.Notes, fmt.Sprintf("admission not checked: every decision was %s, which %s every check: there is no limit to check",
			pol.OnFailure, map[string]string{limiter.FailOpen: "allows", limiter.FailClosed: "denies"}[pol.OnFailure]))
		return
	case fallback > 0:
		pol = shareOf(pol, s.Limiter.FallbackShare)
	}
	e := pol.Emission()
	var lo, hi int64
	if len(perKey) == 1 {
		chains := denialChains(spans, policyGap(pol))
		lo = denialFloor(pol.Burst, e, chains, perKey[0])
		hi = gcraCeiling(pol.Burst, e, res.Duration, perKey[0])
		var covered time.Duration
		for _, c := range chains {
			covered += max(0, c.lastStart-c.firstEnd)
		}
		out.Notes = append(out.Notes, fmt.Sprintf("lower bound: the burst, then one admission per %s between timed denials (%s, %s of the %s window): %s",
			e, plural(len(chains), "stretch", "stretches"), covered.Round(time.Microsecond), res.Duration.Round(time.Microsecond), whyShort(len(chains), policyGap(pol))))
	} else {
		// Each key's checks come in turn with the others': the lower
		// bound is each key's first burst, which a fresh key admits.
		for _, c := range perKey {
			lo += min(int64(pol.Burst), c)
			hi += gcraCeiling(pol.Burst, e, res.Duration, c)
		}
	}
	if inRedis {
		if d := redisDrift(total.allowed, e, res.Duration); d > 0 {
			lo, hi = max(0, lo-d), min(hi+d, decisions)
			out.Notes = append(out.Notes, fmt.Sprintf("bounds widened by %d for Redis: redis_rate's float seconds (half a unit in the last place per admission) and Redis's clock against this one (500ppm)", d))
		}
	}
	out.Counters["admission_expected_min"] = lo
	out.Counters["admission_expected_max"] = hi
	out.Metrics["admission_error"] = float64(total.allowed - min(max(total.allowed, lo), hi))
	out.Notes = append(out.Notes, fmt.Sprintf(
		"GCRA admits at most burst + rate x elapsed per key (%d keys): %d + %s / %s + 1; expected %d to %d; allowed %d",
		len(perKey), pol.Burst, res.Duration.Round(time.Microsecond), e, lo, hi, total.allowed))
}

// failureMode is p's failure mode, the default spelled out.
func failureMode(p limiter.Policy) string {
	if p.OnFailure == "" {
		return limiter.Fallback
	}
	return p.OnFailure
}

// whyShort says what the stretches of denials mean for the lower bound.
func whyShort(chains int, gap time.Duration) string {
	switch chains {
	case 0:
		return "no check was denied, so only the burst is sure"
	case 1:
		return "checks outran the policy throughout"
	}
	return fmt.Sprintf("between stretches no check was denied for over %s, long enough for the bucket to fill: admissions missed then are not counted", gap)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// liveLimiter reads the limiter's counters while the measured phase runs,
// for a Tick: the limiter's own statistics (atomic counters), less those
// at the phase's start, which mark stores (the collector's goroutine
// starts before it).
type liveLimiter struct {
	base atomic.Pointer[limiterBase]
}

type limiterBase struct {
	stats    limiter.PolicyStats
	switches uint64
}

func (l *liveLimiter) mark(st limiter.PolicyStats, switches uint64) {
	l.base.Store(&limiterBase{stats: st, switches: switches})
}

// policyStats is what both limiters have: their counters of one policy,
// read without allocating.
type policyStats interface {
	PolicyStats(name string) (limiter.PolicyStats, bool)
}

var (
	_ policyStats = (*limiter.Memory)(nil)
	_ policyStats = (*limiter.Redis)(nil)
)

// tick returns tick, told the limiter's counters over the measured phase
// so far as well (allowed, denied, fallback, redis_errors, timeouts, and
// with Redis switches and redis_ok, as the report names them), or nil
// when tick is nil or the limiter cannot be read without allocating. It
// reads them on the collector's goroutine, every tick, from the
// limiter's atomic counters, into memory made here.
func (l *liveLimiter) tick(b *backend, policy string, tick func(harness.Progress)) func(harness.Progress) {
	ps, ok := b.lim.(policyStats)
	if tick == nil || !ok {
		return tick
	}
	names := []string{"allowed", "denied", "fallback", "redis_errors", "timeouts"}
	if b.redis != nil {
		names = append(names, "switches", "redis_ok")
	}
	counters := make([]harness.Counter, len(names))
	for i, n := range names {
		counters[i].Name = n
	}
	return func(p harness.Progress) {
		if base := l.base.Load(); base != nil {
			st, _ := ps.PolicyStats(policy)
			was := base.stats
			counters[0].Value = int64(st.Allowed - was.Allowed)
			counters[1].Value = int64(st.Denied - was.Denied)
			counters[2].Value = int64(st.Fallback - was.Fallback)
			counters[3].Value = int64(st.RedisErrors - was.RedisErrors)
			counters[4].Value = int64(st.Timeouts - was.Timeouts)
			if b.redis != nil {
				counters[5].Value = int64(b.redis.Switches() - base.switches)
				counters[6].Value = max(0, counters[0].Value+counters[1].Value-counters[2].Value)
			}
			p.Counters = counters
		}
		tick(p)
	}
}
