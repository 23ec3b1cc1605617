package agent

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"

	"github.com/dockhand/dockhand/agent/floor"
)

// scanRequest is one line on the test scan socket: a scan, or with Op
// "session" / "state" a question a station screen asks after a reload.
type scanRequest struct {
	Op        string `json:"op,omitempty"`       // "" (scan), "session", "state"
	OrderID   string `json:"order_id,omitempty"` // for "state"
	Station   string `json:"station"`
	Operator  string `json:"operator"`
	Code      string `json:"code"`
	Symbology string `json:"symbology,omitempty"`
}

// scanReply answers a scanRequest once its verdict is durable.
type scanReply struct {
	floor.Verdict
	Session *floor.Session    `json:"session,omitempty"`
	State   *floor.OrderState `json:"state,omitempty"`
	Error   string            `json:"error,omitempty"`
}

// serveScanSocket runs the test and benchmark scan input: a unix socket that
// takes one JSON scan per line, feeds it to the station's session exactly as a
// wired scanner would, and answers with the verdict after the durable commit. A
// client that has its answer knows the scan is on disk; one that lost the
// connection does not, and can ask the store.
func (a *Agent) serveScanSocket(ctx context.Context, path string) error {
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("test scan socket %s: %w", path, err)
	}
	a.log.Warn("test scan socket is on: anything that can open it can scan", "path", path)
	go func() { <-ctx.Done(); ln.Close() }()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("test scan socket: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.serveScanConn(ctx, c)
		}()
	}
}

func (a *Agent) serveScanConn(ctx context.Context, c net.Conn) {
	defer c.Close()
	go func() { <-ctx.Done(); c.Close() }()
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 4096), 64<<10)
	w := bufio.NewWriter(c)
	enc := json.NewEncoder(w)
	for sc.Scan() {
		var req scanRequest
		var rep scanReply
		err := json.Unmarshal(sc.Bytes(), &req)
		switch {
		case err != nil:
			err = fmt.Errorf("not a JSON scan: %w", err)
		case req.Op == "session":
			rep.Session, err = a.floor.Session(ctx, req.Station)
		case req.Op == "state":
			var st floor.OrderState
			st, err = a.floor.State(ctx, req.OrderID)
			rep.State = &st
		case req.Op == "":
			rep.Verdict, err = a.scanAt(ctx, req.Station, req.Operator, req.Code, req.Symbology)
		default:
			err = fmt.Errorf("unknown op %q", req.Op)
		}
		if err != nil {
			rep.Error = err.Error()
		}
		if err := enc.Encode(rep); err != nil {
			return
		}
		if err := w.Flush(); err != nil {
			return
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, net.ErrClosed) {
		a.log.Debug("test scan socket client", "err", err)
	}
}
