package peakday

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dockhand/dockhand/agent/sample"
	"github.com/dockhand/dockhand/sync/hubsim"
	"github.com/dockhand/dockhand/sync/mosqtest"
	"github.com/dockhand/dockhand/sync/wire"
)

// The accounts the run creates.
const (
	Warehouse   = "HZ01"
	AgentID     = "HZ01-A"
	ManagerCode = "M001"
	ManagerPIN  = "864209"
)

func pinOf(op string) string {
	if op == ManagerCode {
		return ManagerPIN
	}
	return "5" + strings.Repeat("7", 5) // every packer's PIN; the throttle is per operator and client
}

// Rates are the shares of orders on which a person makes each mistake.
type Rates struct {
	WrongItem, DoubleScan, MissingGift, Swapped float64
	// InterceptAfterPrint: the hub intercepts the order after its label
	// printed and before the parcel's label is scanned.
	InterceptAfterPrint float64
	// InterceptAtDock: the hub intercepts a verified parcel before handover.
	InterceptAtDock float64
}

// Options shape a peak day.
type Options struct {
	// Binary is the dockhand binary; empty builds one into WorkDir.
	Binary string
	// WorkDir holds the broker, hub, agent config, data and logs.
	WorkDir string
	// Orders over FeedFor (a compressed day).
	Orders  int
	FeedFor time.Duration
	// Stations are the packing benches; SerialStations of them read a serial
	// scanner on a pseudo-terminal, SocketStations are wired scanners on the
	// test scan socket, the rest are PDAs on the HTTP API. Docks hand parcels over.
	Stations, SerialStations, SocketStations, Docks int
	// BrokerOutage is how long the broker stays away; DiskFullFor how long
	// the data disk stays full; PrinterGone how long a printer vanishes.
	BrokerOutage, DiskFullFor, PrinterGone time.Duration
	// DataDiskMB is the size of the small disk the data dir is mounted on;
	// DataDisk is its kind: "tmpfs" (default: no fsync cost) or "ext4" (a
	// loop-mounted file on the machine's disk, so every commit pays a real fsync).
	DataDiskMB int
	DataDisk   string
	Mistakes   Rates
	// KeepData copies the agent's data file into WorkDir before the data
	// disk is unmounted (for a look after a failed run).
	KeepData bool
	// LabelWait is how long a packer waits for a label before asking for a reprint.
	LabelWait time.Duration
	Seed      uint64
	Log       *slog.Logger
}

// ShortOptions is the CI variant: a few minutes on a busy machine.
func ShortOptions(workDir string) Options {
	return Options{WorkDir: workDir, Orders: 1200, FeedFor: 75 * time.Second, Stations: 12, SerialStations: 4,
		SocketStations: 4, Docks: 2, BrokerOutage: 5 * time.Second, DiskFullFor: 3 * time.Second,
		PrinterGone: 3 * time.Second, DataDiskMB: 64, Mistakes: defaultRates(), LabelWait: 8 * time.Second, Seed: 7}
}

// FullOptions is the whole promotion day: 58,000 orders, 50 stations.
func FullOptions(workDir string) Options {
	return Options{WorkDir: workDir, Orders: 58000, FeedFor: 25 * time.Minute, Stations: 46, SerialStations: 12,
		SocketStations: 22, Docks: 4, BrokerOutage: 3 * time.Minute, DiskFullFor: 20 * time.Second,
		PrinterGone: 10 * time.Second, DataDiskMB: 1536, Mistakes: defaultRates(), LabelWait: 10 * time.Second, Seed: 20261111}
}

func defaultRates() Rates {
	return Rates{WrongItem: 0.03, DoubleScan: 0.03, MissingGift: 0.3, Swapped: 0.02, InterceptAfterPrint: 0.005, InterceptAtDock: 0.004}
}

// runner is one day in progress.
type runner struct {
	opts    Options
	log     *slog.Logger
	world   *world
	rec     *recorder
	agent   *AgentProc
	broker  *mosqtest.Broker
	hub     *hubsim.Hub
	mgr     *API
	dataDir string
	disk    string // how the small data disk was made
	mounted bool

	feedSeq  atomic.Uint64
	up       atomic.Bool
	parcels  chan *order
	printers map[string]*Printer

	lmu    sync.Mutex
	labels map[string]int
	all    []Label
}

func (r *runner) waitUp(ctx context.Context) {
	for ctx.Err() == nil && !r.up.Load() {
		sleepCtx(ctx, 50*time.Millisecond)
	}
}

// waitSeq waits until the agent applied the feed up to seq.
func (r *runner) waitSeq(ctx context.Context, seq uint64) bool {
	for ctx.Err() == nil {
		if r.feedSeq.Load() >= seq {
			return true
		}
		sleepCtx(ctx, 20*time.Millisecond)
	}
	return false
}

func (r *runner) onLabel(l Label) {
	r.lmu.Lock()
	r.labels[l.Waybill]++
	r.all = append(r.all, l)
	r.lmu.Unlock()
}

func (r *runner) waitLabel(ctx context.Context, wb string, within time.Duration) bool {
	end := time.Now().Add(within)
	for ctx.Err() == nil && time.Now().Before(end) {
		r.lmu.Lock()
		n := r.labels[wb]
		r.lmu.Unlock()
		if n > 0 {
			return true
		}
		sleepCtx(ctx, 10*time.Millisecond)
	}
	return false
}

func (r *runner) verified(o *order) {
	o.mu.Lock()
	o.packed = true
	o.mu.Unlock()
	select {
	case r.parcels <- o:
	default:
	}
}

// wrongBarcode is an item barcode of an order the agent already has (so it
// knows the item) that d does not contain.
func (r *runner) wrongBarcode(rnd *rand.Rand, d *wire.Order) string {
	mine := map[string]bool{}
	for _, l := range d.Lines {
		mine[l.SKU] = true
	}
	all := r.world.all()
	seq := r.feedSeq.Load()
	n := sort.Search(len(all), func(i int) bool { return all[i].releaseSeq > seq })
	if n == 0 {
		return ""
	}
	for range 50 {
		o := all[rnd.IntN(n)].snapshot()
		for _, l := range o.Lines {
			if !mine[l.SKU] && len(l.Barcodes) > 0 {
				return l.Barcodes[0]
			}
		}
	}
	return ""
}

// otherWaybill is another order's waybill number.
func (r *runner) otherWaybill(rnd *rand.Rand, orderID string) string {
	all := r.world.all()
	for range 20 {
		o := all[rnd.IntN(len(all))]
		d := o.snapshot()
		if d.OrderID != orderID && d.Waybill != nil {
			return d.Waybill.No
		}
	}
	return ""
}

// Run runs one peak day and checks it.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	r := &runner{opts: opts, log: opts.Log, rec: newRecorder(), labels: map[string]int{}, printers: map[string]*Printer{},
		parcels: make(chan *order, opts.Orders+16)}
	if err := os.MkdirAll(opts.WorkDir, 0o755); err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	if opts.Binary == "" {
		opts.Binary = filepath.Join(opts.WorkDir, "dockhand")
		r.opts.Binary = opts.Binary
		if err := buildAgent(ctx, opts.Binary); err != nil {
			return nil, err
		}
	}
	var cleanups []func()
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}()

	// The data disk: small, so it can be filled.
	r.dataDir = filepath.Join(opts.WorkDir, "data")
	_ = os.MkdirAll(r.dataDir, 0o755)
	unmount, err := r.mountDataDisk(ctx)
	if err == nil {
		r.mounted = true
		cleanups = append(cleanups, unmount)
	} else {
		r.disk = "not filled: " + err.Error()
	}

	// Persistence on (a SIGTERM restart keeps queued messages), saved every 30 s.
	b, err := mosqtest.New(filepath.Join(opts.WorkDir, "broker"), mosqtest.Options{Persistence: true, Extra: []string{"autosave_interval 30"}})
	if err != nil {
		return nil, err
	}
	r.broker = b
	cleanups = append(cleanups, b.Kill)

	hub, err := hubsim.New(hubsim.Config{Broker: b.URL(), Warehouse: Warehouse, DBPath: filepath.Join(opts.WorkDir, "hub.db"),
		NoSync: true, Logger: quiet(opts.Log)})
	if err != nil {
		return nil, err
	}
	r.hub = hub
	r.world = newWorld(hub)
	hubCtx, hubStop := context.WithCancel(context.Background())
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); _ = hub.Run(hubCtx) }()
	cleanups = append(cleanups, func() { hubStop(); <-hubDone; hub.Close() })

	// Printers and pseudo-terminals.
	var ptys []*Pty
	for i := 1; i <= opts.Stations; i++ {
		id := fmt.Sprintf("printer-%02d", i)
		p, err := StartPrinter(id, r.onLabel)
		if err != nil {
			return nil, err
		}
		r.printers[id] = p
		cleanups = append(cleanups, p.Close)
	}
	for i := 0; i < opts.SerialStations; i++ {
		p, err := OpenPty()
		if err != nil {
			return nil, err
		}
		go p.drain()
		ptys = append(ptys, p)
		cleanups = append(cleanups, func() { p.Close() })
	}

	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	sock := filepath.Join(opts.WorkDir, "scan.sock")
	cfgPath := filepath.Join(opts.WorkDir, "dockhand.yaml")
	if err := os.WriteFile(cfgPath, []byte(r.agentConfig(httpPort, sock, ptys)), 0o600); err != nil {
		return nil, fmt.Errorf("write agent config: %w", err)
	}
	r.agent = &AgentProc{Binary: opts.Binary, Config: cfgPath, LogFile: filepath.Join(opts.WorkDir, "agent.log"), Base: base}
	cleanups = append(cleanups, r.agent.Close)
	if err := r.agent.Start(ctx); err != nil {
		return nil, err
	}
	r.up.Store(true)

	// People: the manager adds the packers, each signs in at a bench.
	r.mgr = NewAPI(base)
	if err := r.mgr.SignIn(ctx, ManagerCode, ManagerPIN, ""); err != nil {
		return nil, err
	}
	stations, docks, feed, err := r.people(ctx, base, sock, ptys)
	if err != nil {
		return nil, err
	}

	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	var bg sync.WaitGroup
	bg.Go(func() { feed.run(runCtx) })
	bg.Go(func() { r.sampler(runCtx) })

	// Work: the feed, the dispatcher, the benches, the docks, the faults.
	queue := make(chan *order, opts.Orders+16)
	plan := feedPlan{opts: r.sampleOptions(), duration: opts.FeedFor}
	feedDone := make(chan error, 1)
	var released atomic.Int64
	go func() {
		feedDone <- plan.run(runCtx, r.world, heldSKU(), func(o *order) {
			released.Add(1)
			queue <- o
		})
	}()
	var faultsWG sync.WaitGroup
	faultsWG.Go(func() { r.faults(runCtx, &released) })

	dispatch := make(chan *order)
	go func() {
		defer close(dispatch)
		for {
			select {
			case <-runCtx.Done():
				return
			case o, ok := <-queue:
				if !ok {
					return
				}
				if !r.waitSeq(runCtx, o.releaseSeq) {
					return
				}
				select {
				case dispatch <- o:
				case <-runCtx.Done():
					return
				}
			}
		}
	}()
	var benches sync.WaitGroup
	for _, s := range stations {
		benches.Go(func() {
			for o := range dispatch {
				s.pack(runCtx, o)
			}
		})
	}
	dockCtx, stopDocks := context.WithCancel(runCtx)
	var dockWG sync.WaitGroup
	for _, s := range docks {
		dockWG.Go(func() { s.dock(dockCtx, r.parcels) })
	}

	start := time.Now()
	var runErr error
	select {
	case err := <-feedDone:
		runErr = err
	case <-ctx.Done():
		runErr = ctx.Err()
	}
	close(queue)
	benches.Wait()
	faultsWG.Wait()
	// Let the docks empty the cages.
	for len(r.parcels) > 0 && ctx.Err() == nil {
		sleepCtx(ctx, 100*time.Millisecond)
	}
	sleepCtx(ctx, time.Second)
	stopDocks()
	dockWG.Wait()
	worked := time.Since(start)

	// Drain: every event must reach the hub.
	drainStart := time.Now()
	r.up.Store(true)
	var drained time.Duration
	for ctx.Err() == nil && time.Since(drainStart) < 3*time.Minute {
		h, err := GetHealth(ctx, &http.Client{Timeout: 2 * time.Second}, base)
		if err == nil && h.OK && h.OutboxPending == 0 && h.FeedSeq >= r.world.published {
			drained = time.Since(drainStart)
			break
		}
		sleepCtx(ctx, 100*time.Millisecond)
	}
	stopRun()
	bg.Wait()
	stopErr := r.agent.Stop()
	// Give the hub a moment to store the last acks' events.
	sleepCtx(ctx, 500*time.Millisecond)

	res, err := r.check(ctx)
	if err != nil {
		return nil, err
	}
	if opts.KeepData {
		if err := copyFile(filepath.Join(r.dataDir, "dockhand.db"), filepath.Join(opts.WorkDir, "dockhand.db")); err != nil {
			res.Errors = append(res.Errors, "keep the data file: "+err.Error())
		}
	}
	res.Worked, res.Drained = worked, drained
	if runErr != nil && !errors.Is(runErr, context.Canceled) {
		res.Errors = append(res.Errors, "feed: "+runErr.Error())
	}
	if stopErr != nil {
		res.Errors = append(res.Errors, stopErr.Error())
	}
	return res, nil
}

// quiet drops the hub simulator's reconnect chatter: the faults are on purpose.
func quiet(l *slog.Logger) *slog.Logger {
	return slog.New(levelHandler{l.Handler(), slog.LevelError})
}

type levelHandler struct {
	slog.Handler
	min slog.Level
}

func (h levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return levelHandler{h.Handler.WithAttrs(as), h.min}
}

func (h levelHandler) WithGroup(name string) slog.Handler {
	return levelHandler{h.Handler.WithGroup(name), h.min}
}

func heldSKU() string {
	// A common everyday product, so the mid-day hold meets orders.
	for _, p := range sample.Catalogue() {
		if p.EAN13 != "" && !p.Gift && len(p.Batches) == 0 && p.Category == "家居" {
			return p.SKU
		}
	}
	return ""
}

func (r *runner) sampleOptions() sample.Options {
	o := sample.DefaultOptions()
	o.Count = r.opts.Orders
	o.Seed = r.opts.Seed
	o.Warehouse = Warehouse
	o.Start = time.Now().Add(-8 * time.Hour)
	o.Interval = 16 * time.Hour / time.Duration(max(r.opts.Orders, 1))
	return o
}

func buildAgent(ctx context.Context, out string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./agent/cmd/dockhand")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the agent: %w\n%s", err, b)
	}
	return nil
}

// moduleRoot finds the directory holding go.mod from the working directory up.
func moduleRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", errors.New("no go.mod above the working directory")
		}
		d = p
	}
}

func (r *runner) agentConfig(port int, sock string, ptys []*Pty) string {
	var b strings.Builder
	fmt.Fprintf(&b, "warehouse: %s\nagent: %s\ndata_dir: %s\n", Warehouse, AgentID, r.dataDir)
	b.WriteString("log:\n  level: info\n  format: json\n")
	fmt.Fprintf(&b, "http:\n  listen: 127.0.0.1:%d\n", port)
	fmt.Fprintf(&b, "hub:\n  broker: %s\n  outbox_cap: 500000\n  ack_timeout: 5s\n  window: 256\n", r.broker.URL())
	b.WriteString("printers:\n")
	for i := 1; i <= r.opts.Stations; i++ {
		id := fmt.Sprintf("printer-%02d", i)
		fmt.Fprintf(&b, "  - id: %s\n    url: %s\n    model: xprinter-xp-470b\n", id, r.printers[id].URL())
	}
	if len(ptys) > 0 {
		b.WriteString("scanners:\n")
		for i, p := range ptys {
			fmt.Fprintf(&b, "  - id: scanner-%02d\n    url: serial://%s?baud=9600\n    terminator: cr\n    dedup_window: 1ms\n", i+1, p.Path)
		}
	}
	b.WriteString("stations:\n")
	for i := 1; i <= r.opts.Stations; i++ {
		fmt.Fprintf(&b, "  - id: PACK-%02d\n    kind: pack\n    printer: printer-%02d\n", i, i)
		if i <= len(ptys) {
			fmt.Fprintf(&b, "    scanners: [scanner-%02d]\n", i)
		}
	}
	for i := 1; i <= r.opts.Docks; i++ {
		fmt.Fprintf(&b, "  - id: DOCK-%02d\n    kind: handover\n", i)
	}
	fmt.Fprintf(&b, "bootstrap_manager:\n  code: %s\n  name: 主管\n  pin: \"%s\"\n", ManagerCode, ManagerPIN)
	fmt.Fprintf(&b, "debug:\n  scan_socket: %s\n  pprof: true\n", sock)
	return b.String()
}

// people adds the operators and signs every bench in.
func (r *runner) people(ctx context.Context, base, sock string, ptys []*Pty) ([]*station, []*station, *verdictFeed, error) {
	feed := newVerdictFeed(r.mgr)
	var stations, docks []*station
	mk := func(id, op, role string) (*API, error) {
		var err error
		for try := 0; try < 5; try++ { // PIN hashing is slow on purpose; a busy machine may time out
			err = r.mgr.Do(ctx, http.MethodPost, "/api/operators", map[string]string{"code": op, "name": "员工" + op,
				"role": role, "pin": pinOf(op)}, nil)
			if !errors.Is(err, ErrNoAnswer) {
				break
			}
		}
		var ae *APIError
		if err != nil && !(errors.As(err, &ae) && ae.Status == http.StatusConflict) {
			return nil, fmt.Errorf("add operator %s: %w", op, err)
		}
		api := NewAPI(base)
		for try := 0; ; try++ {
			err := api.SignIn(ctx, op, pinOf(op), id)
			if err == nil {
				return api, nil
			}
			if !errors.Is(err, ErrNoAnswer) || try == 4 {
				return nil, err
			}
		}
	}
	for i := 1; i <= r.opts.Stations; i++ {
		id, op := fmt.Sprintf("PACK-%02d", i), fmt.Sprintf("P%03d", i)
		api, err := mk(id, op, "packer")
		if err != nil {
			return nil, nil, nil, err
		}
		s := &station{id: id, op: op, screen: api, printer: r.printers[fmt.Sprintf("printer-%02d", i)],
			r: rand.New(rand.NewPCG(r.opts.Seed, uint64(i))), run: r}
		switch {
		case i <= len(ptys):
			s.via = "serial"
			s.sc = &SerialScanner{pty: ptys[i-1], verdicts: feed.sub(id), wait: 10 * time.Second}
		case i <= len(ptys)+r.opts.SocketStations:
			s.via = "socket"
			s.sc = &SocketClient{Path: sock}
		default:
			s.via = "http"
			s.sc = httpScanner{api: api}
		}
		stations = append(stations, s)
	}
	for i := 1; i <= r.opts.Docks; i++ {
		id, op := fmt.Sprintf("DOCK-%02d", i), fmt.Sprintf("D%03d", i)
		api, err := mk(id, op, "packer")
		if err != nil {
			return nil, nil, nil, err
		}
		docks = append(docks, &station{id: id, op: op, via: "http", screen: api, r: rand.New(rand.NewPCG(r.opts.Seed, uint64(1000+i))), run: r})
	}
	return stations, docks, feed, nil
}

// mountDataDisk mounts a small tmpfs, or an ext4 image through a loop device,
// on the data dir.
func (r *runner) mountDataDisk(ctx context.Context) (func(), error) {
	mb := r.opts.DataDiskMB
	if r.opts.DataDisk == "ext4" {
		img := filepath.Join(r.opts.WorkDir, "data.img")
		f, err := os.Create(img)
		if err != nil {
			return nil, fmt.Errorf("make the disk image: %w", err)
		}
		err = f.Truncate(int64(mb) << 20)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("size the disk image: %w", err)
		}
		if out, err := exec.CommandContext(ctx, "mkfs.ext4", "-q", "-F", "-m", "0", img).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("mkfs.ext4: %w: %s", err, out)
		}
		if out, err := exec.CommandContext(ctx, "mount", "-o", "loop", img, r.dataDir).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("mounting a loop device was not permitted: %w: %s", err, out)
		}
		r.disk = fmt.Sprintf("ext4 file system of %d MB in a file on the machine's disk, loop-mounted on the data dir", mb)
		return func() { _ = exec.Command("umount", "-d", "-l", r.dataDir).Run() }, nil
	}
	if err := syscall.Mount("tmpfs", r.dataDir, "tmpfs", 0, fmt.Sprintf("size=%dm,mode=0750", mb)); err != nil {
		return nil, fmt.Errorf("mounting a tmpfs was not permitted (%w)", err)
	}
	r.disk = fmt.Sprintf("tmpfs of %d MB mounted on the data dir", mb)
	return func() { _ = syscall.Unmount(r.dataDir, syscall.MNT_DETACH) }, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
