// Package floor is the scan-twice engine: the rules of the packing bench, the
// picker's PDA and the dock, as one state machine per station over the store.
//
// A hardware scan and a browser scan are the same call: Scan(station,
// operator, code, symbology). At a packing bench the first scan opens an order
// (waybill number, hub order id or channel order number), every item is then
// scanned and matched to an order line (EAN-13/UPC-A/GTIN-14 in any of their
// forms, GS1 strings with batch and expiry), unlabelled lines are confirmed by
// hand, and when every line is complete the waybill label stuck on the parcel
// is scanned again: only this order's waybill verifies it. At the dock the
// handover scan lets only verified, non-intercepted parcels go, and flags
// intercepted ones for pulling. Pickers use the same checks, with bin
// locations, over a pick list that puts urgent orders first.
//
// Every call reads the order from the store, so a change from the hub
// (intercepted, a new version, a quality hold) counts from the very next scan.
// Every step writes its session state, its events (outbox) and its audit line
// in one transaction before the verdict is returned, so a restarted agent
// resumes a half-packed parcel and no event is ever lost or invented. A call
// named by the caller's id (ScanOnce and the other *Once methods) keeps the id
// with its verdict in that same transaction, so a retry gets the stored
// verdict and is never applied twice, even across a restart. Two
// stations cannot work on the same order: a claim in the store says who has it.
//
// Concurrent calls from many stations share commits (one fsync for many
// verdicts) without waiting for a timer: the first call commits at once, and
// calls that arrive meanwhile go together in the next commit.
package floor
