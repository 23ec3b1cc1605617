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

// scanRequest is one line on the test scan socket.
type scanRequest struct {
	Station   string `json:"station"`
	Operator  string `json:"operator"`
	Code      string `json:"code"`
	Symbology string `json:"symbology,omitempty"`
}

// scanReply answers a scanRequest once its verdict is durable.
type scanReply struct {
	floor.Verdict
	Error string `json:"error,omitempty"`
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
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			rep.Error = "not a JSON scan: " + err.Error()
		} else if v, err := a.scanAt(ctx, req.Station, req.Operator, req.Code, req.Symbology); err != nil {
			rep.Error = err.Error()
		} else {
			rep.Verdict = v
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
