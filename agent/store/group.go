package store

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Group runs fn in a read-write transaction shared with other concurrent Group
// calls, and returns once that transaction is durably committed: one fsync for
// many callers. Unlike Batch (bbolt's, which waits up to 10 ms to gather
// callers) it never waits for a timer: when no commit is running fn commits at
// once; calls that arrive while a commit is running go together in the next.
//
// When one fn of a group fails (or panics), the others are committed without it:
// each then runs again in a transaction of its own, so fn may be called more
// than once and must only change the transaction and its own result variables
// before it returns nil. A panicking fn fails with an error instead of taking
// the agent down.
func (s *Store) Group(fn func(*Tx) error) error {
	return s.group.do(s, fn)
}

// GroupSoon is Group for a change nobody waits on in a hurry (a print job's
// final state): fn rides along with the next commit that a Group call makes, so
// it does not hold up the callers that wait; when no such call comes within
// wait, it is committed on its own. It returns once fn is committed.
func (s *Store) GroupSoon(wait time.Duration, fn func(*Tx) error) error {
	return s.group.soon(s, wait, fn)
}

// GroupStats reports how many transactions Group committed and how many calls
// they carried (calls/commits is the sharing achieved).
func (s *Store) GroupStats() (commits, calls int64) {
	return s.group.commits.Load(), s.group.calls.Load()
}

// committer gathers concurrent Group calls into one transaction.
type committer struct {
	commits atomic.Int64
	calls   atomic.Int64

	mu      sync.Mutex
	queue   []*pendingCall
	running bool
}

type pendingCall struct {
	fn   func(*Tx) error
	err  error
	done chan struct{}
	lazy bool      // GroupSoon: waits for a Group call to ride along with
	due  time.Time // when a lazy call commits on its own
}

// maxGroup bounds how many calls share one transaction.
const maxGroup = 512

func (c *committer) do(s *Store, fn func(*Tx) error) error {
	p := &pendingCall{fn: fn, done: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, p)
	if c.running {
		c.mu.Unlock()
		<-p.done
		return p.err
	}
	// Nobody commits: this caller does, on its own goroutine (no hand-off to
	// wait for), and passes on whatever queued meanwhile.
	c.running = true
	c.mu.Unlock()
	c.lead(s, p)
	return p.err
}

// lead commits groups until p's is committed, then leaves the rest of the
// queue to a committer goroutine.
func (c *committer) lead(s *Store, p *pendingCall) {
	for {
		group := c.take()
		if group == nil { // cannot happen: p waits in the queue and only the leader takes
			p.err = errors.New("store: a grouped change was lost by the committer")
			return
		}
		c.commit(s, group)
		if slices.Contains(group, p) {
			c.mu.Lock()
			if c.due() > 0 {
				go c.loop(s)
			} else {
				c.running = false
			}
			c.mu.Unlock()
			return
		}
	}
}

// due is how many queued calls the next group takes: 0 when the queue is
// empty or holds only lazy calls none of which is due. c.mu is held.
func (c *committer) due() int {
	n := min(len(c.queue), maxGroup)
	now := time.Now()
	if n > 0 && !slices.ContainsFunc(c.queue, func(p *pendingCall) bool { return !p.lazy || !now.Before(p.due) }) {
		return 0 // only lazy calls, none due: they wait for a Group call or their timer
	}
	return n
}

// take removes the next group from the queue, or returns nil and marks the
// committer idle when there is none.
func (c *committer) take() []*pendingCall {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.due()
	if n == 0 {
		if len(c.queue) == 0 {
			c.queue = nil
		}
		c.running = false
		return nil
	}
	group := c.queue[:n:n]
	c.queue = c.queue[n:]
	return group
}

// waiting reports whether a Group call (not a lazy one) waits for the writer.
func (c *committer) waiting() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.ContainsFunc(c.queue, func(p *pendingCall) bool { return !p.lazy })
}

func (c *committer) soon(s *Store, wait time.Duration, fn func(*Tx) error) error {
	p := &pendingCall{fn: fn, done: make(chan struct{}), lazy: true, due: time.Now().Add(wait)}
	c.mu.Lock()
	c.queue = append(c.queue, p)
	c.mu.Unlock()
	t := time.AfterFunc(wait, func() {
		c.mu.Lock()
		if !c.running && slices.Contains(c.queue, p) {
			c.running = true
			go c.loop(s)
		}
		c.mu.Unlock()
	})
	<-p.done
	t.Stop()
	return p.err
}

func (c *committer) loop(s *Store) {
	for {
		group := c.take()
		if group == nil {
			return
		}
		c.commit(s, group)
	}
}

var errCallFailed = errors.New("a call in the group failed")

func (c *committer) commit(s *Store, group []*pendingCall) {
	if len(group) > 1 {
		err := update(s, func(tx *Tx) error {
			tx.shared = true
			for _, p := range group {
				if err := p.fn(tx); err != nil {
					return errCallFailed
				}
			}
			return nil
		})
		if err == nil {
			c.commits.Add(1)
			c.calls.Add(int64(len(group)))
			for _, p := range group {
				close(p.done)
			}
			return
		}
		// A call failed (or the commit did): run each on its own so that only
		// the failing one fails.
	}
	for _, p := range group {
		p.err = update(s, p.fn)
		c.commits.Add(1)
		c.calls.Add(1)
		close(p.done)
	}
}

// update runs one transaction; a panicking fn fails (its transaction rolls
// back) instead of taking the agent down.
func update(s *Store, fn func(*Tx) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store: a grouped change failed: %v", r)
		}
	}()
	return s.Update(fn)
}
