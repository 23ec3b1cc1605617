package floor

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/dockhand/dockhand/agent/store"
)

// orderCache keeps recently scanned orders decoded, so that the scans of one
// parcel decode its order once instead of once per scan.
//
// An entry is used only while the order's stored bytes are the ones it was
// decoded from (a comparison costs far less than a decode): every change to an
// order — a new version, an interception, a snapshot — changes those bytes, so
// an entry can never hide a change from the next scan, however busy the feed
// is. The records are shared and must not be modified.
type orderCache struct {
	mu      sync.Mutex
	entries map[string]cachedOrder
}

type cachedOrder struct {
	rec *store.OrderRecord
	raw []byte // the stored bytes rec was decoded from (a copy)
}

// orderCacheSize bounds the cache: a few times the number of stations.
const orderCacheSize = 512

func (c *orderCache) get(id string, raw []byte) *store.OrderRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[id]; ok && bytes.Equal(e.raw, raw) {
		return e.rec
	}
	return nil
}

func (c *orderCache) put(rec *store.OrderRecord, raw []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[string]cachedOrder, orderCacheSize)
	}
	if len(c.entries) >= orderCacheSize {
		for k := range c.entries { // make room: drop half, in no particular order
			delete(c.entries, k)
			if len(c.entries) < orderCacheSize/2 {
				break
			}
		}
	}
	c.entries[rec.Order.OrderID] = cachedOrder{rec: rec, raw: bytes.Clone(raw)}
}

// forget drops orders the store reports changed: they will not be read
// through the cache again, so they need not take its room.
func (c *orderCache) forget(ch store.Change) {
	if len(ch.Orders) == 0 {
		return
	}
	c.mu.Lock()
	for _, id := range ch.Orders {
		delete(c.entries, id)
	}
	c.mu.Unlock()
}

// order reads an order by id through the cache.
func (t *txn) order(id string) (*store.OrderRecord, error) {
	raw := t.tx.OrderRaw(id)
	if raw == nil {
		return nil, fmt.Errorf("order %s: %w", id, store.ErrNotFound)
	}
	if rec := t.e.orders.get(id, raw); rec != nil {
		return rec, nil
	}
	rec, err := store.DecodeOrder(raw)
	if err != nil {
		return nil, err
	}
	t.e.orders.put(rec, raw)
	return rec, nil
}
