package ui

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dockhand/dockhand/agent/people"
	"github.com/dockhand/dockhand/agent/store"
	"github.com/dockhand/dockhand/sync/wire"
	"github.com/dockhand/dockhand/ui/live"
)

func (s *Server) routes() {
	s.pageRoutes()
	m := s.mux
	m.HandleFunc("POST /api/signin", s.signIn)
	m.HandleFunc("POST /api/signout", s.authed(anyone, s.signOut))
	m.HandleFunc("GET /api/me", s.authed(anyone, s.me))
	m.HandleFunc("POST /api/station", s.authed(floorWork, s.setStation))
	m.HandleFunc("GET /api/live", s.authed(anyone, s.live))

	m.HandleFunc("POST /api/scan", s.authed(anyone, s.scan))
	m.HandleFunc("POST /api/action", s.authed(anyone, s.action))
	m.HandleFunc("GET /api/session", s.authed(anyone, s.current))
	m.HandleFunc("GET /api/stations/{station}", s.authed(packers, s.stationView))
	m.HandleFunc("GET /api/picklist", s.authed([]people.Role{people.RolePicker, people.RoleManager}, s.pickList))
	m.HandleFunc("POST /api/exception", s.authed(anyone, s.exception))
	m.HandleFunc("GET /api/exception/categories", s.authed(anyone, s.categories))
	m.HandleFunc("POST /api/step", s.authed(floorWork, s.step))

	m.HandleFunc("GET /api/urgent", s.authed(anyone, s.urgentList))
	m.HandleFunc("POST /api/urgent/ack", s.authed(anyone, s.urgentAck))

	m.HandleFunc("GET /api/printers", s.authed(packers, s.printers))
	m.HandleFunc("GET /api/preview/{order}", s.authed(packers, s.preview))
	m.HandleFunc("POST /api/reprint", s.authed(packers, s.reprint))

	m.HandleFunc("GET /api/operators", s.authed(managers, s.operators))
	m.HandleFunc("POST /api/operators", s.authed(managers, s.addOperator))
	m.HandleFunc("POST /api/operators/{code}/disable", s.authed(managers, s.setDisabled(true)))
	m.HandleFunc("POST /api/operators/{code}/enable", s.authed(managers, s.setDisabled(false)))
	m.HandleFunc("GET /api/manager/counts", s.authed(managers, s.countsAPI))
	m.HandleFunc("GET /api/manager/pull", s.authed(managers, s.pullList))
	m.HandleFunc("GET /api/manager/benches", s.authed(managers, s.benches))
	m.HandleFunc("GET /api/manager/sla", s.authed(managers, s.sla))
	m.HandleFunc("GET /api/manager/heatmap", s.authed(managers, s.heatmap))
	m.HandleFunc("GET /api/manager/spread", s.authed(managers, s.spread))
	m.HandleFunc("GET /api/manager/status", s.authed(managers, s.status))
	m.HandleFunc("GET /api/manager/quarantine", s.authed(managers, s.quarantine))
	m.HandleFunc("GET /api/manager/audit", s.authed(managers, s.audit))
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, "not_found", "没有这个接口", "no such API endpoint")
	})
}

// ---- sign-in ----

type signInReq struct {
	Code    string `json:"code,omitempty"`
	PIN     string `json:"pin,omitempty"`
	Badge   string `json:"badge,omitempty"`
	Station string `json:"station,omitempty"`
}

type meResp struct {
	Operator string      `json:"operator"`
	Name     string      `json:"name"`
	Role     people.Role `json:"role"`
	Station  string      `json:"station"`
	CSRF     string      `json:"csrf"`
	Expires  time.Time   `json:"expires"`
	Printing bool        `json:"printing"`
	LiveLast uint64      `json:"live_last"`
}

func (s *Server) meOf(ss people.Session) meResp {
	return meResp{Operator: ss.Operator, Name: ss.Name, Role: ss.Role, Station: stationOf(ss), CSRF: ss.CSRF,
		Expires: ss.Expires, Printing: s.opts.Printing != nil, LiveLast: s.hub.Last()}
}

func validStation(st string) bool { return st == "" || wire.ValidID(st) }

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	if !s.originOK(r) {
		writeErr(w, http.StatusForbidden, "bad_origin", "请求来源不被允许", "request origin not allowed")
		return
	}
	var req signInReq
	if !decode(w, r, &req) {
		return
	}
	if !validStation(req.Station) {
		writeErr(w, http.StatusBadRequest, "invalid", "工位编号只能是字母、数字、- 或 _", "station must be letters, digits, - or _")
		return
	}
	var ss people.Session
	var token string
	var err error
	if req.Badge != "" {
		ss, token, err = s.opts.People.SignInBadge(clientOf(r), req.Badge, req.Station)
	} else {
		ss, token, err = s.opts.People.SignInPIN(clientOf(r), req.Code, req.PIN, req.Station)
	}
	if err != nil {
		s.fail(w, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: token, Path: "/", HttpOnly: true,
		Secure: s.opts.SecureCookie, SameSite: http.SameSiteStrictMode, MaxAge: max(1, int(ss.Expires.Sub(s.opts.Now())/time.Second))})
	writeJSON(w, http.StatusOK, s.meOf(ss))
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	c, _ := r.Cookie(cookieName)
	if err := s.opts.People.SignOut(c.Value); err != nil {
		s.fail(w, err)
		return
	}
	csrf := sessionOf(r).CSRF
	s.hub.Kick(func(v live.Viewer) bool { return v.Session == csrf })
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.meOf(sessionOf(r)))
}

func (s *Server) setStation(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Station string `json:"station"`
	}
	if !decode(w, r, &req) {
		return
	}
	if !validStation(req.Station) {
		writeErr(w, http.StatusBadRequest, "invalid", "工位编号只能是字母、数字、- 或 _", "station must be letters, digits, - or _")
		return
	}
	c, _ := r.Cookie(cookieName)
	ss, err := s.opts.People.SetStation(c.Value, req.Station)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, s.meOf(ss))
}

// live upgrades to the websocket. A packer or manager may follow another
// station with ?station=; a manager console follows every station with ?all=1.
func (s *Server) live(w http.ResponseWriter, r *http.Request) {
	ss := sessionOf(r)
	v := live.Viewer{Session: ss.CSRF, Operator: ss.Operator, Role: string(ss.Role), Station: stationOf(ss)}
	if st := r.URL.Query().Get("station"); st != "" && (ss.Role == people.RolePacker || ss.Role == people.RoleManager) {
		if !wire.ValidID(st) {
			writeErr(w, http.StatusBadRequest, "invalid", "工位编号无效", "invalid station")
			return
		}
		v.Station = st
	}
	if r.URL.Query().Get("all") == "1" && ss.Role == people.RoleManager {
		v.AllStations = true
	}
	s.hub.ServeWS(w, r, v)
}

// ---- floor work ----

type scanReq struct {
	ScanID     string `json:"scan_id"`
	Code       string `json:"code"`
	Mode       string `json:"mode"`
	HandoverID string `json:"handover_id,omitempty"`
}

// allowedMode says whether role may scan in mode: a temp only scans out.
func allowedMode(role people.Role, mode string) bool {
	switch mode {
	case ModePick:
		return role == people.RolePicker || role == people.RoleManager
	case ModePack:
		return role == people.RolePacker || role == people.RoleManager
	case ModeHandover:
		return role == people.RolePacker || role == people.RoleTemp || role == people.RoleManager
	}
	return false
}

func cleanCode(c string) string {
	// Keyboard-wedge scanners may add CR/LF or stray spaces; GS (0x1D) is kept for GS1.
	return strings.Trim(c, " \t\r\n")
}

func (s *Server) checkScanID(w http.ResponseWriter, id string) bool {
	if !scanIDPattern.MatchString(id) {
		writeErr(w, http.StatusBadRequest, "bad_scan_id", "缺少扫描编号,请刷新页面", "scan_id must be 8–64 letters, digits, - or _")
		return false
	}
	return true
}

// idempotent runs fn once per scan id and writes its (possibly replayed) result.
func (s *Server) idempotent(w http.ResponseWriter, ss people.Session, kind, id string, fn func() (int, any, error)) {
	status, body, replayed, err := s.scans.once(ss.Operator, kind, id, fn)
	if err != nil && body == nil {
		s.fail(w, err)
		return
	}
	if err != nil {
		s.log.Warn("scan applied but its id was not kept", "scan_id", id, "err", err)
	}
	if replayed {
		// Mark the replay so the page knows it was not applied again.
		var m map[string]any
		if json.Unmarshal(body, &m) == nil {
			m["replayed"] = true
			body, _ = json.Marshal(m)
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}

func (s *Server) scan(w http.ResponseWriter, r *http.Request) {
	ss := sessionOf(r)
	var req scanReq
	if !decode(w, r, &req) || !s.checkScanID(w, req.ScanID) {
		return
	}
	req.Code = cleanCode(req.Code)
	if req.Code == "" || len(req.Code) > 512 {
		writeErr(w, http.StatusBadRequest, "bad_code", "没有扫到内容,请重扫", "empty or overlong code; scan again")
		return
	}
	if !allowedMode(ss.Role, req.Mode) {
		writeErr(w, http.StatusForbidden, "forbidden", "你的角色不能做这个操作", "your role may not scan in mode "+req.Mode)
		return
	}
	s.idempotent(w, ss, "scan", req.ScanID, func() (int, any, error) {
		v, err := s.opts.Floor.Scan(r.Context(), ScanInput{ScanID: req.ScanID, Station: stationOf(ss), Operator: ss.Operator,
			Role: string(ss.Role), Mode: req.Mode, Code: req.Code, HandoverID: req.HandoverID})
		if err != nil {
			return 0, nil, err
		}
		v.ScanID, v.Station, v.Operator = req.ScanID, stationOf(ss), ss.Operator
		if v.At.IsZero() {
			v.At = s.opts.Now()
		}
		s.PublishVerdict(v)
		return http.StatusOK, v, nil
	})
}

// actionRoles says who may do each action: a temp only opens a cage to scan out.
var actionRoles = map[string][]people.Role{
	ActionPickStart:     {people.RolePicker, people.RoleManager},
	ActionConfirmLine:   {people.RolePicker, people.RolePacker, people.RoleManager},
	ActionCancel:        {people.RolePicker, people.RolePacker, people.RoleManager},
	ActionHandoverOpen:  {people.RolePacker, people.RoleTemp, people.RoleManager},
	ActionHandoverClose: {people.RolePacker, people.RoleManager},
	ActionPulled:        {people.RolePacker, people.RoleManager},
}

func (s *Server) action(w http.ResponseWriter, r *http.Request) {
	ss := sessionOf(r)
	var in ActionInput
	if !decode(w, r, &in) || !s.checkScanID(w, in.ScanID) {
		return
	}
	roles, known := actionRoles[in.Kind]
	if !known {
		writeErr(w, http.StatusBadRequest, "bad_kind", "未知操作", "unknown action kind")
		return
	}
	if !slices.Contains(roles, ss.Role) {
		writeErr(w, http.StatusForbidden, "forbidden", "你的角色不能做这个操作", "your role may not do "+in.Kind)
		return
	}
	in.Station, in.Operator, in.Role = stationOf(ss), ss.Operator, string(ss.Role)
	s.idempotent(w, ss, "action", in.ScanID, func() (int, any, error) {
		v, err := s.opts.Floor.Action(r.Context(), in)
		if err != nil {
			return 0, nil, err
		}
		v.ScanID, v.Station, v.Operator = in.ScanID, in.Station, ss.Operator
		if v.At.IsZero() {
			v.At = s.opts.Now()
		}
		s.PublishVerdict(v)
		return http.StatusOK, v, nil
	})
}

func (s *Server) current(w http.ResponseWriter, r *http.Request) {
	v, err := s.opts.Floor.Current(r.Context(), stationOf(sessionOf(r)))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) stationView(w http.ResponseWriter, r *http.Request) {
	st := r.PathValue("station")
	if !wire.ValidID(st) {
		writeErr(w, http.StatusBadRequest, "invalid", "工位编号无效", "invalid station")
		return
	}
	v, err := s.opts.Floor.Current(r.Context(), st)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) pickList(w http.ResponseWriter, r *http.Request) {
	tasks, err := s.opts.Floor.PickList(r.Context(), sessionOf(r).Operator, 50)
	if err != nil {
		s.fail(w, err)
		return
	}
	if tasks == nil {
		tasks = []PickTask{}
	}
	writeJSON(w, http.StatusOK, tasks)
}

func (s *Server) categories(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, wire.ExceptionCategories)
}

func (s *Server) exception(w http.ResponseWriter, r *http.Request) {
	ss := sessionOf(r)
	var in ExceptionInput
	if !decode(w, r, &in) || !s.checkScanID(w, in.ScanID) {
		return
	}
	in.Text = strings.TrimSpace(in.Text)
	if !slices.Contains(wire.ExceptionCategories, in.Category) {
		writeErr(w, http.StatusBadRequest, "bad_category", "请选择问题类型", "choose a category")
		return
	}
	if len([]rune(in.Text)) > 500 {
		writeErr(w, http.StatusBadRequest, "too_long", "说明最多 500 字", "at most 500 characters")
		return
	}
	in.Station, in.Operator = stationOf(ss), ss.Operator
	s.idempotent(w, ss, "exception", in.ScanID, func() (int, any, error) {
		if err := s.opts.Floor.ReportException(r.Context(), in); err != nil {
			return 0, nil, err
		}
		return http.StatusOK, map[string]any{"ok": true, "msg_zh": "已上报,主管会处理", "msg_en": "reported; a manager will follow up"}, nil
	})
}

func (s *Server) step(w http.ResponseWriter, r *http.Request) {
	ss := sessionOf(r)
	var in StepInput
	if !decode(w, r, &in) || !s.checkScanID(w, in.ScanID) {
		return
	}
	in.Code = cleanCode(in.Code)
	if in.Phase != "start" && in.Phase != "end" || !wire.ValidID(in.Step) {
		writeErr(w, http.StatusBadRequest, "bad_step", "计时步骤无效", "step needs a name and phase start or end")
		return
	}
	in.Station, in.Operator = stationOf(ss), ss.Operator
	s.idempotent(w, ss, "step", in.ScanID, func() (int, any, error) {
		res, err := s.opts.Floor.TimedStep(r.Context(), in)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, res, nil
	})
}

// ---- printing ----

func (s *Server) printers(w http.ResponseWriter, r *http.Request) {
	if s.opts.Printing == nil {
		writeJSON(w, http.StatusOK, map[string]any{"available": false, "printers": []PrinterState{}})
		return
	}
	ps, err := s.opts.Printing.Printers(r.Context())
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"available": true, "printers": ps})
}

func noPrinter(w http.ResponseWriter) {
	writeErr(w, http.StatusServiceUnavailable, "no_printer", "没有打印机", "no printer")
}

func (s *Server) preview(w http.ResponseWriter, r *http.Request) {
	if s.opts.Printing == nil {
		noPrinter(w)
		return
	}
	png, err := s.opts.Printing.Preview(r.Context(), r.PathValue("order"))
	if err != nil {
		s.printFail(w, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(png)
}

type reprintReq struct {
	OrderID     string `json:"order_id"`
	Reason      string `json:"reason"`
	ManagerCode string `json:"manager_code"`
	ManagerPIN  string `json:"manager_pin"`
}

// reprint needs a manager's code and PIN (checked under the PIN throttle) and a
// reason, whoever asks.
func (s *Server) reprint(w http.ResponseWriter, r *http.Request) {
	ss := sessionOf(r)
	var req reprintReq
	if !decode(w, r, &req) {
		return
	}
	req.Reason = strings.TrimSpace(req.Reason)
	if req.OrderID == "" || req.Reason == "" {
		writeErr(w, http.StatusBadRequest, "invalid", "请填写补打原因", "enter the order and a reason")
		return
	}
	if s.opts.Printing == nil {
		noPrinter(w)
		return
	}
	mgr, err := s.opts.People.CheckPIN(clientOf(r), strings.TrimSpace(req.ManagerCode), req.ManagerPIN)
	if err != nil {
		s.fail(w, err)
		return
	}
	if mgr.Role != people.RoleManager {
		writeErr(w, http.StatusForbidden, "not_manager", "需要主管授权", "a manager must authorise a reprint")
		return
	}
	job, err := s.opts.Printing.Reprint(r.Context(), ReprintInput{OrderID: req.OrderID, Station: stationOf(ss),
		Reason: req.Reason, AuthorizedBy: mgr.Code, Operator: ss.Operator})
	if err != nil {
		s.printFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "job_id": job, "authorized_by": mgr.Code,
		"msg_zh": "已补打,授权人 " + mgr.Name, "msg_en": "reprinted, authorised by " + mgr.Name})
}

// printFail answers a printing error: the printing side words its errors for the
// floor (printer offline, paper out, no font), so they are shown as they are.
func (s *Server) printFail(w http.ResponseWriter, err error) {
	var fe *FloorError
	if _, ok := people.IsPeopleError(err); ok || errors.As(err, &fe) || store.IsDiskFull(err) || errors.Is(err, store.ErrNotFound) {
		if errors.Is(err, store.ErrNotFound) {
			writeErr(w, http.StatusNotFound, "not_found", "没有这一单", "no such order")
			return
		}
		s.fail(w, err)
		return
	}
	s.log.Warn("printing refused", "err", err)
	writeErr(w, http.StatusServiceUnavailable, "print_failed", "打印失败:"+err.Error(), "printing failed: "+err.Error())
}

// ---- operators ----

func (s *Server) operators(w http.ResponseWriter, r *http.Request) {
	list, err := s.opts.People.List()
	if err != nil {
		s.fail(w, err)
		return
	}
	if list == nil {
		list = []people.Public{}
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) addOperator(w http.ResponseWriter, r *http.Request) {
	var n people.NewOperator
	if !decode(w, r, &n) {
		return
	}
	p, err := s.opts.People.Add(n, sessionOf(r).Operator)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, p)
}

func (s *Server) setDisabled(disabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := s.opts.People.SetDisabled(r.PathValue("code"), disabled, sessionOf(r).Operator)
		if err != nil {
			s.fail(w, err)
			return
		}
		if disabled {
			s.hub.Kick(func(v live.Viewer) bool { return v.Operator == p.Code })
		}
		writeJSON(w, http.StatusOK, p)
	}
}
