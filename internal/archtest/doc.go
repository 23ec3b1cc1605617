// Package archtest holds the tests that keep the project's shape honest: every
// package says what it is for, and dependencies point the way the architecture
// says (drivers know nothing of the agent, the hub link or the UI; only the store
// touches the agent's bbolt file; only the hub link speaks MQTT).
package archtest
