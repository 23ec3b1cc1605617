package wire

// ApplyStats counts what one store call did with a batch of feed items or a
// snapshot. The store returns it; the hub link adds it to its metrics and hands
// it to whoever wants to know that the floor's data changed.
type ApplyStats struct {
	Applied     int    // messages that changed state (orders, holds, notices)
	Duplicates  int    // items with seq ≤ the cursor, skipped
	Stale       int    // order.upsert with a version ≤ the stored one (seq consumed)
	Unknown     int    // unknown kinds (seq consumed)
	Quarantined int    // bad payloads kept for inspection (seq consumed)
	Closed      int    // open orders a snapshot did not mention, closed
	Released    int    // active holds a snapshot did not mention, released
	LastSeq     uint64 // the cursor after the call
}

// Add sums two stats; LastSeq is the larger of the two.
func (s ApplyStats) Add(o ApplyStats) ApplyStats {
	s.Applied += o.Applied
	s.Duplicates += o.Duplicates
	s.Stale += o.Stale
	s.Unknown += o.Unknown
	s.Quarantined += o.Quarantined
	s.Closed += o.Closed
	s.Released += o.Released
	s.LastSeq = max(s.LastSeq, o.LastSeq)
	return s
}
