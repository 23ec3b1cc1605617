package people

import (
	"errors"
	"fmt"
	"time"
)

// Error is a refusal worded for the person at the screen, in Chinese and English.
// Code is stable for programs; errors.Is matches two *Error values by Code, so the
// sentinels below work with errors.Is.
type Error struct {
	Code string
	ZH   string
	EN   string
	// Left is how many PIN tries remain before a lockout (bad_pin only).
	Left int
	// RetryAfter is how long a lockout still lasts (locked only).
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.ZH == "" {
		return e.Code
	}
	return e.ZH + " (" + e.EN + ")"
}

// Is matches another *Error with the same Code.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// Sentinels, for errors.Is.
var (
	ErrBadPIN          = &Error{Code: "bad_pin"}
	ErrLocked          = &Error{Code: "locked"}
	ErrUnknownOperator = &Error{Code: "unknown_operator"}
	ErrUnknownBadge    = &Error{Code: "unknown_badge"}
	ErrDisabled        = &Error{Code: "disabled"}
	ErrSignedOut       = &Error{Code: "signed_out"}
	ErrInvalid         = &Error{Code: "invalid"}
	ErrExists          = &Error{Code: "exists"}
	ErrNotFound        = &Error{Code: "not_found"}
	ErrLastManager     = &Error{Code: "last_manager"}
	ErrForbidden       = &Error{Code: "forbidden"}
)

func badPIN(left int) *Error {
	return &Error{Code: ErrBadPIN.Code, Left: left,
		ZH: fmt.Sprintf("PIN 错误,还可尝试 %d 次", left),
		EN: fmt.Sprintf("wrong PIN, %d tries left", left)}
}

func locked(d time.Duration) *Error {
	d = d.Round(time.Second)
	if d < time.Second {
		d = time.Second
	}
	var zh, en string
	if d >= time.Minute {
		m := int((d + time.Minute - 1) / time.Minute)
		zh, en = fmt.Sprintf("%d 分钟", m), fmt.Sprintf("%d min", m)
	} else {
		s := int(d / time.Second)
		zh, en = fmt.Sprintf("%d 秒", s), fmt.Sprintf("%d s", s)
	}
	return &Error{Code: ErrLocked.Code, RetryAfter: d,
		ZH: "PIN 错误次数过多,已锁定,请 " + zh + "后再试",
		EN: "too many wrong PINs, locked; try again in " + en}
}

func invalid(zh, en string) *Error { return &Error{Code: ErrInvalid.Code, ZH: zh, EN: en} }
