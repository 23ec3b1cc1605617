package people

import (
	"sync"
	"time"
)

// throttle counts wrong PINs per operator and per client and locks both out for a
// time that doubles with every lockout (LockBase, 2×, 4×… up to LockMax). It is in
// memory: a restart forgets it, which costs an attacker a restart per few guesses.
type throttle struct {
	mu    sync.Mutex
	opts  Options
	state map[string]*tries
}

type tries struct {
	fails    int
	lockouts int
	until    time.Time
	last     time.Time
}

const throttleKeep = 10_000

func newThrottle(opts Options) *throttle {
	return &throttle{opts: opts, state: make(map[string]*tries)}
}

func keys(op, client string) []string {
	var ks []string
	if op != "" {
		ks = append(ks, "op:"+op)
	}
	if client != "" {
		ks = append(ks, "cl:"+client)
	}
	return ks
}

// locked returns how long op or client is still locked out (0: not locked).
func (t *throttle) locked(now time.Time, op, client string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for _, k := range keys(op, client) {
		if st := t.state[k]; st != nil && now.Before(st.until) {
			wait = max(wait, st.until.Sub(now))
		}
	}
	return wait
}

// fail records a wrong try; it returns the tries left before a lockout, or the
// lockout it just started.
func (t *throttle) fail(now time.Time, op, client string) (left int, wait time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.prune(now)
	left = t.opts.MaxTries
	for _, k := range keys(op, client) {
		st := t.state[k]
		if st == nil {
			st = &tries{}
			t.state[k] = st
		}
		st.fails++
		st.last = now
		if st.fails >= t.opts.MaxTries {
			st.lockouts++
			d := t.opts.LockBase << (st.lockouts - 1)
			if d > t.opts.LockMax || d <= 0 || st.lockouts > 30 {
				d = t.opts.LockMax
			}
			st.until = now.Add(d)
			st.fails = 0
			wait = max(wait, d)
		}
		left = min(left, t.opts.MaxTries-st.fails)
	}
	return left, wait
}

// ok forgets the failures of op and client after a right PIN.
func (t *throttle) ok(op, client string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys(op, client) {
		delete(t.state, k)
	}
}

// prune drops entries that are neither locked nor recent, once the map is big.
func (t *throttle) prune(now time.Time) {
	if len(t.state) < throttleKeep {
		return
	}
	for k, st := range t.state {
		if !now.Before(st.until) && now.Sub(st.last) > t.opts.LockMax {
			delete(t.state, k)
		}
	}
}
