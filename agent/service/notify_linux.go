package service

import (
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"time"
)

// notify sends one sd_notify message to the datagram socket named by
// $NOTIFY_SOCKET (see sd_notify(3)). A path starting with '@' is a socket in
// the abstract namespace. Without the variable it does nothing.
func notify(state string) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	name := path
	if name[0] == '@' {
		name = "\x00" + name[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("sd_notify %s: %w", state, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("sd_notify %s: %w", state, err)
	}
	return nil
}

// watchdogInterval reads $WATCHDOG_USEC (and $WATCHDOG_PID, which must name
// this process when set), as sd_watchdog_enabled(3) does.
func watchdogInterval() (time.Duration, bool) {
	return parseWatchdog(os.Getenv("WATCHDOG_USEC"), os.Getenv("WATCHDOG_PID"), os.Getpid())
}

// parseWatchdog turns the watchdog variables into an interval; ok is false
// when there is no watchdog for process self.
func parseWatchdog(usec, pid string, self int) (d time.Duration, ok bool) {
	if usec == "" {
		return 0, false
	}
	if pid != "" && pid != strconv.Itoa(self) {
		return 0, false
	}
	n, err := strconv.ParseInt(usec, 10, 64)
	if err != nil || n <= 0 || n > int64(math.MaxInt64/time.Microsecond) {
		return 0, false
	}
	return time.Duration(n) * time.Microsecond, true
}
