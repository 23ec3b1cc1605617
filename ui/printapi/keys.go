package printapi

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/dockhand/dockhand/agent/store"
)

// Key is an API key as stored: its name and the SHA-256 of the secret, never
// the secret itself.
type Key struct {
	Name      string    `json:"name"`
	Prefix    string    `json:"prefix"` // the first characters, to tell keys apart
	CreatedBy string    `json:"created_by"`
	Created   time.Time `json:"created"`
	Revoked   bool      `json:"revoked,omitempty"`
}

// stored is Key with its hash, as JSON in the store.
type stored struct {
	Key
	Hash string `json:"hash"`
}

var (
	errNoKey     = errors.New("API 密钥无效或已吊销 (the API key is unknown or revoked)")
	errKeyExists = errors.New("已有同名的 API 密钥 (an API key with this name exists)")
	errKeyName   = errors.New("密钥名称只能是 1-32 个字母、数字、- 或 _ (a key name is 1-32 letters, digits, - or _)")
	errNoSuchKey = errors.New("没有这个 API 密钥 (no API key with this name)")
)

var keyName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// keyPrefix starts every generated key, so a leaked one is easy to recognise.
const keyPrefix = "dk_"

func jsonUnmarshal(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("decode API key: %w", err)
	}
	return nil
}

func hashKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// verifyKey returns the live key with this secret.
func (a *API) verifyKey(secret string) (Key, error) {
	var k stored
	var found bool
	err := a.opts.Store.View(func(tx *store.Tx) (err error) {
		found, err = tx.Get(store.CollPrintKeys, hashKey(secret), &k)
		return err
	})
	if err != nil {
		return Key{}, fmt.Errorf("verify API key: %w", err)
	}
	if !found || k.Revoked {
		return Key{}, errNoKey
	}
	return k.Key, nil
}

// AddKey creates a key named name and returns its secret, shown only this once.
func (a *API) AddKey(name, by string) (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("create API key: %w", err)
	}
	secret := keyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, a.putKey(name, secret, by)
}

func (a *API) putKey(name, secret, by string) error {
	if !keyName.MatchString(name) {
		return errKeyName
	}
	err := a.opts.Store.Update(func(tx *store.Tx) error {
		exists := false
		if err := tx.ForEach(store.CollPrintKeys, "", func(_ string, raw []byte) error {
			var k stored
			if err := jsonUnmarshal(raw, &k); err != nil {
				return err
			}
			if k.Name == name && !k.Revoked {
				exists = true
				return store.ErrStop
			}
			return nil
		}); err != nil {
			return err
		}
		if exists {
			return errKeyExists
		}
		k := stored{Key: Key{Name: name, Prefix: secret[:min(len(secret), 7)], CreatedBy: by, Created: tx.Now()}, Hash: hashKey(secret)}
		if err := tx.Put(store.CollPrintKeys, k.Hash, &k); err != nil {
			return err
		}
		_, err := tx.AppendAudit(store.AuditRecord{Operator: by, Action: "printapi.key.add", OK: true, Detail: name})
		return err
	})
	if err != nil {
		return fmt.Errorf("add API key %s: %w", name, err)
	}
	return nil
}

// Keys lists the keys, newest first.
func (a *API) Keys() ([]Key, error) {
	var out []Key
	err := a.opts.Store.View(func(tx *store.Tx) error {
		return tx.ForEach(store.CollPrintKeys, "", func(_ string, raw []byte) error {
			var k stored
			if err := jsonUnmarshal(raw, &k); err != nil {
				return err
			}
			out = append(out, k.Key)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, err
}

// RevokeKey revokes the live key named name.
func (a *API) RevokeKey(name, by string) error {
	err := a.opts.Store.Update(func(tx *store.Tx) error {
		var hit *stored
		if err := tx.ForEach(store.CollPrintKeys, "", func(_ string, raw []byte) error {
			var k stored
			if err := jsonUnmarshal(raw, &k); err != nil {
				return err
			}
			if k.Name == name && !k.Revoked {
				hit = &k
				return store.ErrStop
			}
			return nil
		}); err != nil {
			return err
		}
		if hit == nil {
			return errNoSuchKey
		}
		hit.Revoked = true
		if err := tx.Put(store.CollPrintKeys, hit.Hash, hit); err != nil {
			return err
		}
		_, err := tx.AppendAudit(store.AuditRecord{Operator: by, Action: "printapi.key.revoke", OK: true, Detail: name})
		return err
	})
	if err != nil {
		return fmt.Errorf("revoke API key %s: %w", name, err)
	}
	return nil
}

// loadKeyFile stores the keys of a file of "name key" lines (hashed); a key
// already stored is left as it is.
func (a *API) loadKeyFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("print API key file: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, secret, ok := strings.Cut(line, " ")
		secret = strings.TrimSpace(secret)
		if !ok || len(secret) < 16 {
			return fmt.Errorf("print API key file %s line %d: write \"name key\" with a key of at least 16 characters", path, n)
		}
		if _, err := a.verifyKey(secret); err == nil {
			continue
		}
		if err := a.putKey(name, secret, "key file"); err != nil {
			return fmt.Errorf("print API key file %s line %d: %w", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("print API key file %s: %w", path, err)
	}
	return nil
}

func (a *API) listKeys(w http.ResponseWriter, r *http.Request) {
	ks, err := a.Keys()
	if err != nil {
		a.fail(w, err)
		return
	}
	if ks == nil {
		ks = []Key{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": ks})
}

type addKeyReq struct {
	Name string `json:"name"`
}

func (a *API) addKey(w http.ResponseWriter, r *http.Request) {
	var req addKeyReq
	if !decode(w, r, &req) {
		return
	}
	secret, err := a.AddKey(req.Name, callerOf(r).Operator)
	if err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"name": req.Name, "key": secret,
		"msg_zh": "请立即保存密钥,它只显示这一次", "msg_en": "store the key now: it is shown only this once"})
}

func (a *API) revokeKey(w http.ResponseWriter, r *http.Request) {
	if err := a.RevokeKey(r.PathValue("name"), callerOf(r).Operator); err != nil {
		a.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"revoked": true})
}
