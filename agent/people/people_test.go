package people

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockhand/dockhand/agent/store"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newDir(t *testing.T) (*Directory, *store.Store, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 1, 28, 9, 0, 0, 0, time.UTC)}
	s, err := store.Open(filepath.Join(t.TempDir(), "dockhand.db"), store.Options{Agent: "A", Warehouse: "HZ01", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Check(); err != nil {
			t.Error(err)
		}
		s.Close()
	})
	return New(s, Options{Now: clk.Now, Iterations: 1000}), s, clk
}

func TestAddValidation(t *testing.T) {
	d, _, _ := newDir(t)
	tests := []struct {
		name string
		in   NewOperator
		code string
	}{
		{"ok picker", NewOperator{Code: "W001", Name: "张伟", Role: RolePicker, PIN: "1234"}, ""},
		{"ok badge only", NewOperator{Code: "T01", Name: "临时工甲", Role: RoleTemp, Badge: "BADGE-T01"}, ""},
		{"duplicate", NewOperator{Code: "W001", Name: "x", Role: RolePicker, PIN: "1234"}, "exists"},
		{"duplicate badge", NewOperator{Code: "T02", Name: "x", Role: RoleTemp, Badge: "BADGE-T01"}, "exists"},
		{"bad code", NewOperator{Code: "W 1", Name: "x", Role: RolePicker, PIN: "1234"}, "invalid"},
		{"no name", NewOperator{Code: "W2", Role: RolePicker, PIN: "1234"}, "invalid"},
		{"bad role", NewOperator{Code: "W3", Name: "x", Role: "boss", PIN: "1234"}, "invalid"},
		{"short pin", NewOperator{Code: "W4", Name: "x", Role: RolePicker, PIN: "12"}, "invalid"},
		{"letters pin", NewOperator{Code: "W4", Name: "x", Role: RolePicker, PIN: "12ab"}, "invalid"},
		{"no secret", NewOperator{Code: "W5", Name: "x", Role: RolePicker}, "invalid"},
		{"manager badge only", NewOperator{Code: "M9", Name: "x", Role: RoleManager, Badge: "BADGE-M9"}, "invalid"},
		{"short badge", NewOperator{Code: "W6", Name: "x", Role: RolePicker, Badge: "12"}, "invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := d.Add(tt.in, "M1")
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Add: %v", err)
				}
				if p.Code != tt.in.Code || p.Role != tt.in.Role {
					t.Fatalf("got %+v", p)
				}
				return
			}
			e, ok := IsPeopleError(err)
			if !ok || e.Code != tt.code {
				t.Fatalf("err = %v, want code %s", err, tt.code)
			}
			if e.ZH == "" || e.EN == "" {
				t.Fatalf("message not worded for people: %+v", e)
			}
		})
	}
	list, err := d.List()
	if err != nil || len(list) != 2 {
		t.Fatalf("List = %v, %v", list, err)
	}
}

func TestPINIsHashed(t *testing.T) {
	d, s, _ := newDir(t)
	if _, err := d.Add(NewOperator{Code: "W1", Name: "a", Role: RolePacker, PIN: "482913"}, "M"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Add(NewOperator{Code: "W2", Name: "b", Role: RolePacker, PIN: "482913"}, "M"); err != nil {
		t.Fatal(err)
	}
	var a, b Operator
	s.View(func(tx *store.Tx) error {
		raw := tx.GetRaw(store.CollOperators, "W1")
		if strings.Contains(string(raw), "482913") {
			t.Errorf("PIN stored in clear: %s", raw)
		}
		tx.Get(store.CollOperators, "W1", &a)
		tx.Get(store.CollOperators, "W2", &b)
		return nil
	})
	if string(a.PINHash) == string(b.PINHash) || string(a.PINSalt) == string(b.PINSalt) {
		t.Fatal("same PIN gave the same hash: salt not random")
	}
	if !pinMatches(&a, "482913") || pinMatches(&a, "482914") {
		t.Fatal("pinMatches wrong")
	}
}

func TestSignInAndSessions(t *testing.T) {
	d, s, clk := newDir(t)
	d.Add(NewOperator{Code: "W1", Name: "李娜", Role: RolePacker, PIN: "2468", Badge: "BADGE-0001"}, "M")
	sess, tok, err := d.SignInPIN("10.0.0.5", "W1", "2468", "PACK-01")
	if err != nil {
		t.Fatal(err)
	}
	if sess.Role != RolePacker || sess.Station != "PACK-01" || sess.CSRF == "" || tok == "" {
		t.Fatalf("session %+v", sess)
	}
	// The token is not stored, only its hash.
	s.View(func(tx *store.Tx) error {
		tx.ForEach(store.CollLogins, "", func(k string, raw []byte) error {
			if strings.Contains(k, tok) || strings.Contains(string(raw), tok) {
				t.Error("token stored in clear")
			}
			return nil
		})
		return nil
	})
	got, err := d.Verify(tok)
	if err != nil || got.Operator != "W1" {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
	if _, err := d.Verify(tok + "x"); !errors.Is(err, ErrSignedOut) {
		t.Fatalf("bad token: %v", err)
	}
	// Badge.
	_, tok2, err := d.SignInBadge("10.0.0.6", " BADGE-0001 ", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.SignInBadge("10.0.0.6", "6901234567892", ""); !errors.Is(err, ErrUnknownBadge) {
		t.Fatalf("unknown badge: %v", err)
	}
	// Disable: both sessions stop working at once.
	d.Add(NewOperator{Code: "M1", Name: "王主管", Role: RoleManager, PIN: "9999"}, "M")
	if _, err := d.SetDisabled("W1", true, "M1"); err != nil {
		t.Fatal(err)
	}
	for _, tk := range []string{tok, tok2} {
		if _, err := d.Verify(tk); !errors.Is(err, ErrDisabled) {
			t.Fatalf("disabled operator's session: %v", err)
		}
	}
	if _, _, err := d.SignInPIN("10.0.0.5", "W1", "2468", ""); !errors.Is(err, ErrDisabled) {
		t.Fatalf("disabled sign-in: %v", err)
	}
	d.SetDisabled("W1", false, "M1")
	// Expiry.
	clk.Add(13 * time.Hour)
	if _, err := d.Verify(tok); !errors.Is(err, ErrSignedOut) {
		t.Fatalf("expired: %v", err)
	}
	if n, err := d.PurgeExpired(); err != nil || n != 2 {
		t.Fatalf("PurgeExpired = %d, %v", n, err)
	}
	// Sign out.
	_, tok3, _ := d.SignInPIN("c", "M1", "9999", "")
	if err := d.SignOut(tok3); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Verify(tok3); !errors.Is(err, ErrSignedOut) {
		t.Fatalf("after sign-out: %v", err)
	}
	// The last manager cannot be disabled.
	if _, err := d.SetDisabled("M1", true, "M1"); !errors.Is(err, ErrLastManager) {
		t.Fatalf("last manager: %v", err)
	}
}

func TestThrottle(t *testing.T) {
	d, _, clk := newDir(t)
	d.Add(NewOperator{Code: "W1", Name: "a", Role: RolePicker, PIN: "1357"}, "M")
	d.Add(NewOperator{Code: "W2", Name: "b", Role: RolePicker, PIN: "2468"}, "M")
	try := func(client, code, pin string) error {
		_, _, err := d.SignInPIN(client, code, pin, "")
		return err
	}
	for i, want := range []string{"PIN 错误,还可尝试 2 次", "PIN 错误,还可尝试 1 次", "已锁定"} {
		err := try("pda-1", "W1", "0000")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("try %d: %v, want %q", i, err, want)
		}
	}
	// Locked: even the right PIN is refused, from this client and from another one.
	if err := try("pda-1", "W1", "1357"); !errors.Is(err, ErrLocked) {
		t.Fatalf("locked operator right PIN: %v", err)
	}
	if err := try("pda-2", "W1", "1357"); !errors.Is(err, ErrLocked) {
		t.Fatalf("locked operator other client: %v", err)
	}
	// The client is locked for other operators too.
	if err := try("pda-1", "W2", "2468"); !errors.Is(err, ErrLocked) {
		t.Fatalf("locked client: %v", err)
	}
	// After 30 s the lock ends; a second lockout lasts 60 s.
	clk.Add(31 * time.Second)
	for range 3 {
		try("pda-3", "W1", "0000")
	}
	clk.Add(31 * time.Second)
	err := try("pda-4", "W1", "1357")
	var e *Error
	if !errors.As(err, &e) || e.Code != "locked" || e.RetryAfter < 28*time.Second || e.RetryAfter > 30*time.Second {
		t.Fatalf("second lockout should double: %v (%+v)", err, e)
	}
	clk.Add(30 * time.Second)
	if err := try("pda-4", "W1", "1357"); err != nil {
		t.Fatalf("after lockout: %v", err)
	}
	// Success resets the count.
	try("pda-5", "W2", "0000")
	try("pda-5", "W2", "0000")
	if err := try("pda-5", "W2", "2468"); err != nil {
		t.Fatal(err)
	}
	if err := try("pda-5", "W2", "0000"); err == nil || !strings.Contains(err.Error(), "还可尝试 2 次") {
		t.Fatalf("count not reset: %v", err)
	}
	// Unknown operator codes count against the client.
	for range 3 {
		try("pda-6", "NOPE", "1111")
	}
	if err := try("pda-6", "W2", "2468"); !errors.Is(err, ErrLocked) {
		t.Fatalf("guessing codes should lock the client: %v", err)
	}
}

func TestEnsureManager(t *testing.T) {
	d, _, _ := newDir(t)
	if _, err := d.EnsureManager("M1", "", "12"); err == nil {
		t.Fatal("a bad bootstrap PIN must fail at start")
	}
	changed, err := d.EnsureManager("M1", "", "8642")
	if err != nil || !changed {
		t.Fatalf("EnsureManager = %v, %v", changed, err)
	}
	if _, _, err := d.SignInPIN("c", "M1", "8642", ""); err != nil {
		t.Fatal(err)
	}
	// A manager exists: nothing changes, even with another PIN in the config.
	changed, err = d.EnsureManager("M1", "", "1111")
	if err != nil || changed {
		t.Fatalf("second EnsureManager = %v, %v", changed, err)
	}
	if _, _, err := d.SignInPIN("c2", "M1", "1111", ""); !errors.Is(err, ErrBadPIN) {
		t.Fatalf("config PIN must not replace a working manager: %v", err)
	}
}
