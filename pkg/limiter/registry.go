package limiter

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// registry is a set of named entries that checks read without a lock and
// that writers change while checks run: an atomic pointer to an immutable
// map, replaced whole (copy on write) under a mutex that only writers take.
type registry[T any] struct {
	mu sync.Mutex
	m  atomic.Pointer[map[string]T]
}

// get returns the entry named, lock-free.
func (r *registry[T]) get(name string) (T, bool) {
	if m := r.m.Load(); m != nil {
		v, ok := (*m)[name]
		return v, ok
	}
	var zero T
	return zero, false
}

// all returns the current map; callers must not change it.
func (r *registry[T]) all() map[string]T {
	if m := r.m.Load(); m != nil {
		return *m
	}
	return nil
}

// put stores build(prev, had) under name, where prev is the entry it
// replaces, if any.
func (r *registry[T]) put(name string, build func(prev T, had bool) T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.all()
	next := make(map[string]T, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	prev, had := old[name]
	next[name] = build(prev, had)
	r.m.Store(&next)
}

// remove drops name and reports whether it was there.
func (r *registry[T]) remove(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.all()
	if _, ok := old[name]; !ok {
		return false
	}
	next := make(map[string]T, len(old))
	for k, v := range old {
		if k != name {
			next[k] = v
		}
	}
	r.m.Store(&next)
	return true
}

// check returns the policy a check of n actions on key names, or the
// caller's error: n < 1, or no such policy.
func (r *registry[T]) check(policy, key string, n int) (T, error) {
	var zero T
	if n < 1 {
		return zero, fmt.Errorf("check %q on %q: n=%d: %w", key, policy, n, ErrBadCount)
	}
	v, ok := r.get(policy)
	if !ok {
		return zero, fmt.Errorf("check %q: policy %q: %w", key, policy, ErrUnknownPolicy)
	}
	return v, nil
}
