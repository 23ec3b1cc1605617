package transport

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// deadlineReader is a stream whose reads can be bounded by a deadline:
// net.Conn, and *os.File on a pollable device node.
type deadlineReader interface {
	Read(p []byte) (int, error)
	SetReadDeadline(t time.Time) error
}

// pastDeadline wakes a blocked read at once.
var pastDeadline = time.Unix(1, 0)

// readContext reads from r until at least one byte arrives, ctx ends, or r
// fails. A read cut short by ctx returns an error wrapping ctx.Err() (and
// ErrTimeout when ctx's deadline passed); failures of r are left to classify.
func readContext(ctx context.Context, r deadlineReader, p []byte, addr string, classify func(error) error) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, ctxErr(addr, err)
	}
	dl, _ := ctx.Deadline()
	if err := r.SetReadDeadline(dl); err != nil {
		return 0, classify(err)
	}
	stop := context.AfterFunc(ctx, func() { _ = r.SetReadDeadline(pastDeadline) })
	n, err := r.Read(p)
	stop()
	if err == nil || n > 0 {
		return n, nil
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if cerr := ctx.Err(); cerr != nil {
			return 0, ctxErr(addr, cerr)
		}
		// The deadline fired a hair before ctx noticed it.
		return 0, ctxErr(addr, context.DeadlineExceeded)
	}
	return 0, classify(err)
}

func ctxErr(addr string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return newErr("read", addr, ErrTimeout, err)
	}
	return fmt.Errorf("transport: read %s: %w", addr, err)
}

// pending holds bytes a liveness check read ahead of the caller, so that a
// check never eats a status reply.
type pending struct {
	mu  sync.Mutex
	buf []byte
}

func (b *pending) put(p []byte) {
	b.mu.Lock()
	b.buf = append(b.buf, p...)
	b.mu.Unlock()
}

// take copies buffered bytes into p; ok is false when nothing was buffered.
func (b *pending) take(p []byte) (n int, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf) == 0 {
		return 0, false
	}
	n = copy(p, b.buf)
	b.buf = b.buf[n:]
	return n, true
}
