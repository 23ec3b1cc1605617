package agent

import (
	"context"

	"github.com/dockhand/dockhand/agent/printing"
	"github.com/dockhand/dockhand/ui/printapi"
)

// setupPrintAPI mounts the local print API under /api/print/ and feeds it the
// print queue's job changes. Call it after setupUI (it needs the operators'
// directory) and setupFloor (the queue).
func (a *Agent) setupPrintAPI(keyFile string) error {
	api, err := printapi.New(printapi.Options{Queue: a.printq, Store: a.store, People: a.people,
		AllowedOrigins: a.cfg.HTTP.AllowedOrigins, KeyFile: keyFile, Fonts: a.render.Fonts, Log: a.log})
	if err != nil {
		return err
	}
	a.mux.Handle("/api/print/", api)
	prev := a.jobHook
	a.jobHook = func(j printing.Job) {
		if prev != nil {
			prev(j)
		}
		api.JobChanged(j)
	}
	a.add("print API", func(ctx context.Context) error {
		<-ctx.Done()
		api.Close()
		return nil
	})
	return nil
}
