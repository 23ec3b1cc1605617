//go:build !linux

package mosq

import "os/exec"

func dieWithParent(*exec.Cmd) {}
