// Package version holds the build's version, commit and date, stamped by the
// release build with -ldflags "-X".
package version

import "runtime/debug"

// Stamped at build time; see the Makefile.
var (
	Version = "0.1.0-dev"
	Commit  = ""
	Date    = ""
)

// String is the one-line version a person reads.
func String() string {
	c := Commit
	if c == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					c = s.Value[:12]
				}
			}
		}
	}
	if c == "" {
		c = "unknown"
	}
	s := "dockhand " + Version + " (" + c
	if Date != "" {
		s += ", " + Date
	}
	return s + ")"
}
