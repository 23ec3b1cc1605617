package mosqtest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the broker die with the test binary, so a test killed
// from outside leaves no broker behind.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
