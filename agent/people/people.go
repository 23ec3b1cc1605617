package people

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dockhand/dockhand/agent/store"
)

// Role is what an operator may do.
type Role string

// Roles.
const (
	RolePicker  Role = "picker"  // 拣货员: pick lists, exceptions
	RolePacker  Role = "packer"  // 打包员: verify, pack, hand over, exceptions
	RoleTemp    Role = "temp"    // 临时工: scan out and report a problem, nothing else
	RoleManager Role = "manager" // 仓库主管: everything, authorises reprints
)

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool {
	switch r {
	case RolePicker, RolePacker, RoleTemp, RoleManager:
		return true
	}
	return false
}

// Operator is one person who may sign in. The PIN is kept only as a salted hash.
type Operator struct {
	Code     string    `json:"code"`
	Name     string    `json:"name"`
	Role     Role      `json:"role"`
	Badge    string    `json:"badge,omitempty"`
	Disabled bool      `json:"disabled,omitempty"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`

	PINSalt []byte `json:"pin_salt,omitempty"`
	PINHash []byte `json:"pin_hash,omitempty"`
	PINIter int    `json:"pin_iter,omitempty"`
}

// Public is the operator without its secrets, as the UI shows it.
type Public struct {
	Code     string    `json:"code"`
	Name     string    `json:"name"`
	Role     Role      `json:"role"`
	Badge    bool      `json:"has_badge"`
	HasPIN   bool      `json:"has_pin"`
	Disabled bool      `json:"disabled"`
	Created  time.Time `json:"created"`
	Updated  time.Time `json:"updated"`
}

// Public drops the secrets.
func (o *Operator) Public() Public {
	return Public{Code: o.Code, Name: o.Name, Role: o.Role, Badge: o.Badge != "", HasPIN: len(o.PINHash) > 0,
		Disabled: o.Disabled, Created: o.Created, Updated: o.Updated}
}

// NewOperator is what a manager enters to add a person.
type NewOperator struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Role  Role   `json:"role"`
	PIN   string `json:"pin,omitempty"`
	Badge string `json:"badge,omitempty"`
}

// Session is one signed-in page. The token itself is never stored; only its hash
// is the key.
type Session struct {
	Operator string    `json:"operator"`
	Name     string    `json:"name"`
	Role     Role      `json:"role"`
	Client   string    `json:"client,omitempty"`
	Station  string    `json:"station,omitempty"`
	Method   string    `json:"method"` // "pin" or "badge"
	CSRF     string    `json:"csrf"`
	Created  time.Time `json:"created"`
	Expires  time.Time `json:"expires"`
}

// Options tune a Directory; zero values take the defaults.
type Options struct {
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
	// SessionTTL is how long a sign-in lasts (default 12 h: one shift).
	SessionTTL time.Duration
	// MaxTries wrong PINs in a row lock the operator and the client (default 3).
	MaxTries int
	// LockBase is the first lockout; each further one doubles it (default 30 s).
	LockBase time.Duration
	// LockMax caps the lockout (default 15 min).
	LockMax time.Duration
	// Iterations of PBKDF2-SHA256 for new PIN hashes (default 210,000).
	Iterations int
}

// Directory is the operators and sessions of one agent.
type Directory struct {
	s     *store.Store
	opts  Options
	throt *throttle
}

// New returns a Directory over the store.
func New(s *store.Store, opts Options) *Directory {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.MaxTries <= 0 {
		opts.MaxTries = 3
	}
	if opts.LockBase <= 0 {
		opts.LockBase = 30 * time.Second
	}
	if opts.LockMax <= 0 {
		opts.LockMax = 15 * time.Minute
	}
	if opts.Iterations <= 0 {
		opts.Iterations = 210_000
	}
	return &Directory{s: s, opts: opts, throt: newThrottle(opts)}
}

var (
	codePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
	pinPattern  = regexp.MustCompile(`^[0-9]{4,8}$`)
)

func validate(n *NewOperator) error {
	n.Code = strings.TrimSpace(n.Code)
	n.Name = strings.TrimSpace(n.Name)
	n.Badge = strings.TrimSpace(n.Badge)
	switch {
	case !codePattern.MatchString(n.Code):
		return invalid("工号只能是 1–32 位字母、数字、- 或 _", "operator code must be 1–32 letters, digits, - or _")
	case n.Name == "" || utf8.RuneCountInString(n.Name) > 40:
		return invalid("请填写姓名(最多 40 字)", "enter a name (at most 40 characters)")
	case !n.Role.Valid():
		return invalid("角色必须是 拣货员/打包员/临时工/主管", "role must be picker, packer, temp or manager")
	case n.PIN != "" && !pinPattern.MatchString(n.PIN):
		return invalid("PIN 必须是 4–8 位数字", "PIN must be 4–8 digits")
	case n.PIN == "" && n.Badge == "":
		return invalid("请设置 PIN 或工牌码", "set a PIN or a badge code")
	case n.Role == RoleManager && n.PIN == "":
		return invalid("主管必须设置 PIN(授权补打要用)", "a manager needs a PIN (it authorises reprints)")
	case n.Badge != "" && len(n.Badge) < 6:
		return invalid("工牌码至少 6 位", "a badge code needs at least 6 characters")
	}
	return nil
}

func (d *Directory) hashPIN(pin string) (salt, sum []byte, iter int, err error) {
	salt = make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, nil, 0, fmt.Errorf("hash PIN: %w", err)
	}
	sum, err = pbkdf2.Key(sha256.New, pin, salt, d.opts.Iterations, 32)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("hash PIN: %w", err)
	}
	return salt, sum, d.opts.Iterations, nil
}

func pinMatches(o *Operator, pin string) bool {
	if len(o.PINHash) == 0 || o.PINIter <= 0 {
		return false
	}
	sum, err := pbkdf2.Key(sha256.New, pin, o.PINSalt, o.PINIter, len(o.PINHash))
	return err == nil && subtle.ConstantTimeCompare(sum, o.PINHash) == 1
}

// Add creates an operator; by is the manager doing it (for the audit log).
func (d *Directory) Add(n NewOperator, by string) (Public, error) {
	if err := validate(&n); err != nil {
		return Public{}, err
	}
	op := Operator{Code: n.Code, Name: n.Name, Role: n.Role, Badge: n.Badge}
	if n.PIN != "" {
		var err error
		if op.PINSalt, op.PINHash, op.PINIter, err = d.hashPIN(n.PIN); err != nil {
			return Public{}, err
		}
	}
	err := d.s.Update(func(tx *store.Tx) error {
		if tx.GetRaw(store.CollOperators, op.Code) != nil {
			return &Error{Code: ErrExists.Code, ZH: "工号 " + op.Code + " 已存在", EN: "operator " + op.Code + " already exists"}
		}
		if op.Badge != "" {
			if other, _ := badgeOwner(tx, op.Badge); other != nil {
				return &Error{Code: ErrExists.Code, ZH: "该工牌码已属于 " + other.Code, EN: "that badge already belongs to " + other.Code}
			}
		}
		op.Created = tx.Now()
		op.Updated = op.Created
		if err := tx.Put(store.CollOperators, op.Code, &op); err != nil {
			return err
		}
		_, err := tx.AppendAudit(store.AuditRecord{Operator: by, Action: "operator.add", OK: true,
			Detail: op.Code + " " + string(op.Role)})
		return err
	})
	if err != nil {
		return Public{}, fmt.Errorf("add operator: %w", err)
	}
	return op.Public(), nil
}

// EnsureManager is the bootstrap: when no enabled manager exists it creates (or
// re-enables and re-keys) the manager code with pin from the agent's config. It
// reports whether it changed anything; with a manager present it does nothing.
func (d *Directory) EnsureManager(code, name, pin string) (bool, error) {
	have := false
	err := d.s.View(func(tx *store.Tx) error {
		return eachOperator(tx, func(o *Operator) error {
			if o.Role == RoleManager && !o.Disabled && len(o.PINHash) > 0 {
				have = true
				return store.ErrStop
			}
			return nil
		})
	})
	if err != nil || have {
		return false, err
	}
	if name == "" {
		name = "主管"
	}
	n := NewOperator{Code: code, Name: name, Role: RoleManager, PIN: pin}
	if err := validate(&n); err != nil {
		return false, fmt.Errorf("bootstrap manager from config: %w", err)
	}
	salt, sum, iter, err := d.hashPIN(pin)
	if err != nil {
		return false, err
	}
	err = d.s.Update(func(tx *store.Tx) error {
		var op Operator
		found, err := tx.Get(store.CollOperators, n.Code, &op)
		if err != nil {
			return err
		}
		now := tx.Now()
		if !found {
			op = Operator{Code: n.Code, Name: n.Name, Created: now}
		}
		op.Role, op.Disabled, op.Updated = RoleManager, false, now
		op.PINSalt, op.PINHash, op.PINIter = salt, sum, iter
		if err := tx.Put(store.CollOperators, op.Code, &op); err != nil {
			return err
		}
		_, err = tx.AppendAudit(store.AuditRecord{Operator: op.Code, Action: "operator.bootstrap", OK: true,
			Detail: "initial manager from config"})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("bootstrap manager: %w", err)
	}
	return true, nil
}

func eachOperator(tx *store.Tx, fn func(*Operator) error) error {
	return tx.ForEach(store.CollOperators, "", func(key string, raw []byte) error {
		var o Operator
		if err := json.Unmarshal(raw, &o); err != nil {
			return fmt.Errorf("decode operator %s: %w", key, err)
		}
		return fn(&o)
	})
}

func badgeOwner(tx *store.Tx, badge string) (*Operator, error) {
	var found *Operator
	err := eachOperator(tx, func(o *Operator) error {
		if o.Badge != "" && subtle.ConstantTimeCompare([]byte(o.Badge), []byte(badge)) == 1 {
			found = o
			return store.ErrStop
		}
		return nil
	})
	return found, err
}

// List returns every operator, by code.
func (d *Directory) List() ([]Public, error) {
	var out []Public
	err := d.s.View(func(tx *store.Tx) error {
		return eachOperator(tx, func(o *Operator) error {
			out = append(out, o.Public())
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list operators: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}

// Get returns one operator.
func (d *Directory) Get(code string) (Public, error) {
	var op Operator
	var found bool
	err := d.s.View(func(tx *store.Tx) (err error) {
		found, err = tx.Get(store.CollOperators, code, &op)
		return err
	})
	if err != nil {
		return Public{}, fmt.Errorf("get operator: %w", err)
	}
	if !found {
		return Public{}, notFound(code)
	}
	return op.Public(), nil
}

func notFound(code string) *Error {
	return &Error{Code: ErrNotFound.Code, ZH: "工号 " + code + " 不存在", EN: "no operator " + code}
}

// SetDisabled disables (or enables again) an operator; a disabled operator's
// sessions stop working at once. The last enabled manager cannot be disabled.
func (d *Directory) SetDisabled(code string, disabled bool, by string) (Public, error) {
	var op Operator
	err := d.s.Update(func(tx *store.Tx) error {
		found, err := tx.Get(store.CollOperators, code, &op)
		if err != nil {
			return err
		}
		if !found {
			return notFound(code)
		}
		if disabled && op.Role == RoleManager && !op.Disabled {
			others := 0
			if err := eachOperator(tx, func(o *Operator) error {
				if o.Code != code && o.Role == RoleManager && !o.Disabled {
					others++
				}
				return nil
			}); err != nil {
				return err
			}
			if others == 0 {
				return &Error{Code: ErrLastManager.Code, ZH: "不能停用最后一位主管", EN: "cannot disable the last manager"}
			}
		}
		op.Disabled = disabled
		op.Updated = tx.Now()
		if err := tx.Put(store.CollOperators, code, &op); err != nil {
			return err
		}
		action := "operator.enable"
		if disabled {
			action = "operator.disable"
		}
		_, err = tx.AppendAudit(store.AuditRecord{Operator: by, Action: action, OK: true, Detail: code})
		return err
	})
	if err != nil {
		return Public{}, fmt.Errorf("set operator %s disabled=%v: %w", code, disabled, err)
	}
	return op.Public(), nil
}

// SignInPIN signs in with an operator code and PIN from client (the page's
// address), for station (may be empty). It returns the session and its token.
func (d *Directory) SignInPIN(client, code, pin, station string) (Session, string, error) {
	code = strings.TrimSpace(code)
	op, err := d.CheckPIN(client, code, pin)
	if err != nil {
		return Session{}, "", err
	}
	return d.startSession(op, client, station, "pin")
}

// CheckPIN checks an operator's PIN under the same throttle as sign-in (used to
// authorise a reprint with a manager's PIN) and returns the operator.
func (d *Directory) CheckPIN(client, code, pin string) (Public, error) {
	now := d.opts.Now()
	if wait := d.throt.locked(now, code, client); wait > 0 {
		return Public{}, locked(wait)
	}
	var op Operator
	var found bool
	err := d.s.View(func(tx *store.Tx) (err error) {
		found, err = tx.Get(store.CollOperators, code, &op)
		return err
	})
	if err != nil {
		return Public{}, fmt.Errorf("check PIN: %w", err)
	}
	if !found {
		d.throt.fail(now, "", client)
		return Public{}, &Error{Code: ErrUnknownOperator.Code, ZH: "工号 " + code + " 不存在", EN: "no operator " + code}
	}
	if !pinMatches(&op, pin) {
		left, wait := d.throt.fail(now, code, client)
		if wait > 0 {
			return Public{}, locked(wait)
		}
		return Public{}, badPIN(left)
	}
	if op.Disabled {
		return Public{}, disabledErr(code)
	}
	d.throt.ok(code, client)
	return op.Public(), nil
}

func disabledErr(code string) *Error {
	return &Error{Code: ErrDisabled.Code, ZH: "工号 " + code + " 已停用,请找主管", EN: "operator " + code + " is disabled; see a manager"}
}

// SignInBadge signs in with a scanned badge code.
func (d *Directory) SignInBadge(client, badge, station string) (Session, string, error) {
	badge = strings.TrimSpace(badge)
	now := d.opts.Now()
	if wait := d.throt.locked(now, "", client); wait > 0 {
		return Session{}, "", locked(wait)
	}
	var op *Operator
	err := d.s.View(func(tx *store.Tx) (err error) {
		if badge != "" {
			op, err = badgeOwner(tx, badge)
		}
		return err
	})
	if err != nil {
		return Session{}, "", fmt.Errorf("sign in by badge: %w", err)
	}
	if op == nil {
		d.throt.fail(now, "", client)
		return Session{}, "", &Error{Code: ErrUnknownBadge.Code, ZH: "工牌无效,请扫工牌或输入工号和 PIN", EN: "unknown badge; scan your badge or enter code and PIN"}
	}
	if op.Disabled {
		return Session{}, "", disabledErr(op.Code)
	}
	d.throt.ok("", client)
	return d.startSession(op.Public(), client, station, "badge")
}

func randToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func tokenKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (d *Directory) startSession(op Public, client, station, method string) (Session, string, error) {
	token, err := randToken(32)
	if err != nil {
		return Session{}, "", fmt.Errorf("start session: %w", err)
	}
	csrf, err := randToken(18)
	if err != nil {
		return Session{}, "", fmt.Errorf("start session: %w", err)
	}
	now := d.opts.Now()
	s := Session{Operator: op.Code, Name: op.Name, Role: op.Role, Client: client, Station: station,
		Method: method, CSRF: csrf, Created: now, Expires: now.Add(d.opts.SessionTTL)}
	err = d.s.Update(func(tx *store.Tx) error {
		if err := tx.Put(store.CollLogins, tokenKey(token), &s); err != nil {
			return err
		}
		_, err := tx.AppendAudit(store.AuditRecord{At: now, Operator: op.Code, Station: station, Action: "signin", OK: true, Detail: method})
		return err
	})
	if err != nil {
		return Session{}, "", fmt.Errorf("start session: %w", err)
	}
	return s, token, nil
}

// Verify returns the live session of token. It fails with ErrSignedOut when the
// token is unknown or expired, and with ErrDisabled when the operator was disabled
// since; the session carries the operator's current role and name.
func (d *Directory) Verify(token string) (Session, error) {
	if token == "" {
		return Session{}, signedOut()
	}
	var s Session
	var op Operator
	var found, opFound bool
	err := d.s.View(func(tx *store.Tx) (err error) {
		if found, err = tx.Get(store.CollLogins, tokenKey(token), &s); err != nil || !found {
			return err
		}
		opFound, err = tx.Get(store.CollOperators, s.Operator, &op)
		return err
	})
	if err != nil {
		return Session{}, fmt.Errorf("verify session: %w", err)
	}
	if !found || !d.opts.Now().Before(s.Expires) || !opFound {
		return Session{}, signedOut()
	}
	if op.Disabled {
		return Session{}, disabledErr(op.Code)
	}
	s.Role, s.Name = op.Role, op.Name
	return s, nil
}

func signedOut() *Error {
	return &Error{Code: ErrSignedOut.Code, ZH: "请先登录", EN: "please sign in"}
}

// SetStation moves a session to another station (a PDA picks its bench).
func (d *Directory) SetStation(token, station string) (Session, error) {
	s, err := d.Verify(token)
	if err != nil {
		return Session{}, err
	}
	s.Station = station
	err = d.s.Update(func(tx *store.Tx) error { return tx.Put(store.CollLogins, tokenKey(token), &s) })
	if err != nil {
		return Session{}, fmt.Errorf("set station: %w", err)
	}
	return s, nil
}

// SignOut ends a session; an unknown token is not an error.
func (d *Directory) SignOut(token string) error {
	err := d.s.Update(func(tx *store.Tx) error {
		var s Session
		found, err := tx.Get(store.CollLogins, tokenKey(token), &s)
		if err != nil || !found {
			return err
		}
		if err := tx.Delete(store.CollLogins, tokenKey(token)); err != nil {
			return err
		}
		_, err = tx.AppendAudit(store.AuditRecord{Operator: s.Operator, Station: s.Station, Action: "signout", OK: true})
		return err
	})
	if err != nil {
		return fmt.Errorf("sign out: %w", err)
	}
	return nil
}

// PurgeExpired deletes sessions past their expiry and returns how many.
func (d *Directory) PurgeExpired() (int, error) {
	now := d.opts.Now()
	n := 0
	err := d.s.Update(func(tx *store.Tx) error {
		var dead []string
		if err := tx.ForEach(store.CollLogins, "", func(key string, raw []byte) error {
			var s Session
			if err := json.Unmarshal(raw, &s); err != nil || !now.Before(s.Expires) {
				dead = append(dead, key)
			}
			return nil
		}); err != nil {
			return err
		}
		for _, k := range dead {
			if err := tx.Delete(store.CollLogins, k); err != nil {
				return err
			}
		}
		n = len(dead)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	return n, nil
}

// IsPeopleError reports whether err is a refusal for the person at the screen.
func IsPeopleError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
