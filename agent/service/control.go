package service

import (
	"fmt"
	"slices"
	"strings"
)

// checkAction rejects a word Control does not know, naming the ones it does.
func checkAction(action string) error {
	if !slices.Contains(Actions, action) {
		return fmt.Errorf("service %q: unknown action; use one of: %s", action, strings.Join(Actions, ", "))
	}
	return nil
}
