package ui_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/dockhand/dockhand/agent/floor"
	"github.com/dockhand/dockhand/sync/wire"
	"github.com/dockhand/dockhand/ui"
)

// TestFactIndexFollowsChanges checks the manager's order facts, kept up to date
// from the store's change notices, against a pass over every open order made
// afresh — after floor steps, an interception and an order leaving the floor.
func TestFactIndexFollowsChanges(t *testing.T) {
	e := newEnv(t, false)
	ctx := context.Background()
	from := t0.Add(-72 * time.Hour)
	check := func(stage string) []ui.OrderFact {
		t.Helper()
		got, err := e.floor.OrderFacts(ctx, from)
		if err != nil {
			t.Fatal(err)
		}
		fresh := &ui.EngineFloor{E: floor.New(e.st, floor.Options{Now: e.clk.Now}), S: e.st}
		want, err := fresh.OrderFacts(ctx, from)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(normal(got), normal(want)) {
			t.Fatalf("%s: the kept facts differ from a fresh pass:\n got %+v\nwant %+v", stage, got, want)
		}
		return got
	}
	if got := check("empty"); len(got) != 0 {
		t.Fatalf("facts before any order: %+v", got)
	}
	e.loadOrders()
	before := check("orders loaded")
	k := e.client().signIn("K1", "1111", "PACK-01")
	for _, code := range []string{"ZT1000000001", "6971234567888", "6971234567888", "6971234567895", "ZT1000000001"} {
		k.scan("pack", code)
	}
	got := check("O-1 verified")
	if f := find(got, "O-1"); f == nil || f.VerifiedAt == nil {
		t.Fatalf("O-1 not verified in the facts: %+v", f)
	}
	o := testOrders(t0)[2]
	o.Version, o.Status = 2, wire.StatusIntercepted
	e.feed(wire.FeedMessage{Kind: wire.KindOrderUpsert, Order: &o})
	if f := find(check("O-3 intercepted"), "O-3"); f == nil || f.Status != wire.StatusIntercepted {
		t.Fatalf("O-3 not intercepted in the facts: %+v", f)
	}
	o.Version, o.Status = 3, wire.StatusClosed
	e.feed(wire.FeedMessage{Kind: wire.KindOrderUpsert, Order: &o})
	if got := check("O-3 closed"); find(got, "O-3") != nil || len(got) != len(before)-1 {
		t.Fatalf("a closed order stays among the open ones: %d of %d", len(got), len(before))
	}
	// The urgent popups come from the same index.
	if ids, err := e.floor.UrgentOrders(ctx, t0.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	} else {
		for _, id := range ids {
			if f := find(got, id); f == nil || !f.Urgent {
				t.Fatalf("urgent %s is not an urgent open order: %+v", id, f)
			}
		}
	}
}

func find(fs []ui.OrderFact, id string) *ui.OrderFact {
	for i := range fs {
		if fs[i].OrderID == id {
			return &fs[i]
		}
	}
	return nil
}

// normal makes times comparable whatever their location.
func normal(fs []ui.OrderFact) []ui.OrderFact {
	out := make([]ui.OrderFact, len(fs))
	utc := func(p *time.Time) *time.Time {
		if p == nil {
			return nil
		}
		t := p.UTC()
		return &t
	}
	for i, f := range fs {
		f.PaidAt = f.PaidAt.UTC()
		f.PromisedShipBy, f.PickedAt, f.VerifiedAt = utc(f.PromisedShipBy), utc(f.PickedAt), utc(f.VerifiedAt)
		f.HandedOverAt, f.CollectedAt = utc(f.HandedOverAt), utc(f.CollectedAt)
		out[i] = f
	}
	return out
}
