// Package hublink is the agent's side of the hub contract over MQTT: one
// persistent session per agent (client id dockhand-{wh}-{agent}, clean session
// off, QoS 1), the warehouse feed applied to the store in seq order exactly
// once (gaps replayed, snapshots applied atomically, bad payloads
// quarantined), fulfilment events drained from the store's outbox until the
// hub acks them, and the retained agent status with its will.
//
// The floor never waits for the network: the store records events and the
// link sends them when it can. Everything the link needs from the store is in
// two small interfaces, FeedStore and Outbox, which the agent's store
// satisfies. It is also the only package that imports the MQTT client; Client
// is exported so the hub simulator speaks MQTT through it.
package hublink
