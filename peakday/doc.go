// Package peakday is the end-to-end "peak day under fire" suite: it runs the
// real agent binary as a child process against a real Mosquitto and the hub
// simulator, feeds it a generated promotion day (orders, intercepts that land
// after the label printed, quality holds set mid-day, urgent orders, notices),
// drives it from simulated packing stations (serial scanners on
// pseudo-terminals, wired stations on the agent's test scan socket, PDA
// clients on the HTTP API) whose people make the mistakes people make, prints
// on simulated TCP 9100 printers, and injects faults while the floor works:
// broker restarts and outages, kill -9 of the agent, a printer vanishing
// mid-job, paper out, dropped printer connections and a full disk.
//
// At the end it checks the invariants that matter on the floor (every event
// reached the hub exactly once, the agent's orders equal the hub's, nothing
// left unverified or after an intercept or hold, no waybill printed twice
// without an authorised reprint, every mistake caught with the right reason)
// and writes a Markdown report with PNG charts of throughput, scan latency,
// outbox depth, memory and CPU, and the time each fault took to recover.
//
// Run is the whole day; Options.Short is the CI variant. The command in
// cmd/peakday runs the full day and writes docs/peakday/REPORT.md.
package peakday
