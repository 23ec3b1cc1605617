package floor

import (
	"sync"

	"github.com/dockhand/dockhand/agent/store"
)

// orderCache keeps recently scanned orders decoded, so that the scans of one
// parcel decode its order once instead of once per scan.
//
// An entry is used only while the store's feed cursor is the one it was read
// at: every change the hub makes to an order (a new version, an interception,
// a snapshot) comes through the feed and moves the cursor in the same
// transaction, so an entry can never hide a hub change from the next scan.
// Changes made outside the feed are dropped from the cache when the store
// reports them. The records are shared and must not be modified.
type orderCache struct {
	mu      sync.Mutex
	entries map[string]cachedOrder
}

type cachedOrder struct {
	rec    *store.OrderRecord
	cursor uint64
}

// orderCacheSize bounds the cache: a few times the number of stations.
const orderCacheSize = 1024

func (c *orderCache) get(id string, cursor uint64) *store.OrderRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[id]; ok && e.cursor == cursor {
		return e.rec
	}
	return nil
}

func (c *orderCache) put(rec *store.OrderRecord, cursor uint64) {
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
	c.entries[rec.Order.OrderID] = cachedOrder{rec: rec, cursor: cursor}
}

// forget drops orders the store reports changed (a belt to the cursor's
// braces, for changes made outside the feed).
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
	cur := t.tx.FeedCursor()
	if rec := t.e.orders.get(id, cur); rec != nil {
		return rec, nil
	}
	rec, err := t.tx.Order(id)
	if err != nil {
		return nil, err
	}
	t.e.orders.put(rec, cur)
	return rec, nil
}
