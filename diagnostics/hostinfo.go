package diagnostics

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/shirou/gopsutil/v3/host"
)

// File names in the data dir.
const (
	deviceIDFile = "device-id"
	saltFile     = "redaction-salt"
)

func probeDeviceID(ctx context.Context, o *Options) (func(*SystemInfo), error) {
	id, herr := o.sys.hostID(ctx)
	src := "host"
	if id == "" {
		if o.DataDir == "" {
			return nil, fmt.Errorf("no host id (%v) and no data dir to keep a generated one", orNone(herr))
		}
		var err error
		id, err = readOrCreate(filepath.Join(o.DataDir, deviceIDFile), newRandomID, validUUID)
		if err != nil {
			return nil, fmt.Errorf("generated device id: %w", err)
		}
		src = "generated"
	}
	return func(si *SystemInfo) { si.DeviceID, si.DeviceIDSource = id, src }, nil
}

// hostID is the OS's stable machine id. On Linux it prefers
// /etc/machine-id, readable by every user, over the DMI product UUID,
// readable only by root, so the id does not change with privileges; the
// boot id, which changes at every boot, is never used.
func (e sysEnv) hostID(ctx context.Context) (string, error) {
	if e.goos != "linux" {
		id, err := host.HostIDWithContext(ctx)
		return strings.ToLower(strings.TrimSpace(id)), err
	}
	var lastErr error
	for _, p := range []string{"/etc/machine-id", "/var/lib/dbus/machine-id", "/sys/class/dmi/id/product_uuid"} {
		b, err := e.readFile(p)
		if err != nil {
			lastErr = err
			continue
		}
		v := strings.ToLower(strings.TrimSpace(string(b)))
		if len(v) == 32 && isHex(v) {
			return v[0:8] + "-" + v[8:12] + "-" + v[12:16] + "-" + v[16:20] + "-" + v[20:], nil
		}
		if validUUID(v) && strings.Trim(v, "0-") != "" {
			return v, nil
		}
	}
	return "", lastErr
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func validUUID(s string) bool { return uuidRE.MatchString(s) }

// newRandomID returns a random (version 4) UUID.
func newRandomID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// readOrCreate returns the value kept in file, creating it with gen when
// it is missing or invalid. Two processes racing to create it agree on
// one value: it is written in full to a temporary file and then linked
// into place, which fails if the other process got there first.
func readOrCreate(file string, gen func() (string, error), valid func(string) bool) (string, error) {
	for attempt := 0; attempt < 2; attempt++ {
		b, err := os.ReadFile(file)
		if v := strings.TrimSpace(string(b)); err == nil && valid(v) {
			return v, nil
		}
		if err == nil {
			// Present but unusable (e.g. truncated by a crash): replace it.
			if err := os.Remove(file); err != nil {
				return "", fmt.Errorf("replace %s: %w", file, err)
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		if err := create(file, gen); err != nil {
			return "", err
		}
	}
	b, err := os.ReadFile(file)
	if v := strings.TrimSpace(string(b)); err == nil && valid(v) {
		return v, nil
	}
	return "", fmt.Errorf("%s: unreadable after creation", file)
}

func create(file string, gen func() (string, error)) error {
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	v, err := gen()
	if err != nil {
		return fmt.Errorf("generate %s: %w", filepath.Base(file), err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(file)+".*")
	if err != nil {
		return fmt.Errorf("create %s: %w", file, err)
	}
	defer os.Remove(tmp.Name())
	_, werr := tmp.WriteString(v + "\n")
	serr := tmp.Sync()
	if err := errors.Join(werr, serr, tmp.Close()); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	if err := os.Link(tmp.Name(), file); err == nil || errors.Is(err, fs.ErrExist) {
		return nil
	}
	// No hard links here (some filesystems): create exclusively instead.
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", file, err)
	}
	_, werr = f.WriteString(v + "\n")
	if err := errors.Join(werr, f.Close()); err != nil {
		return fmt.Errorf("write %s: %w", file, err)
	}
	return nil
}

func probeBattery(ctx context.Context, o *Options) (func(*SystemInfo), error) {
	var bats []Battery
	var err error
	switch o.sys.goos {
	case "linux":
		bats, err = o.sys.linuxBatteries()
	case "darwin":
		var out []byte
		out, err = o.sys.runner.Run(ctx, "pmset", "-g", "batt")
		if err != nil {
			err = fmt.Errorf("pmset: %w", err)
		}
		bats = parsePmset(out)
	default:
		return nil, nil // no standard-library way: not collected
	}
	if err != nil {
		return nil, err
	}
	if len(bats) == 0 {
		return nil, nil
	}
	return func(si *SystemInfo) { si.Battery = bats }, nil
}

// linuxBatteries reads /sys/class/power_supply/*/{type,capacity,status}.
func (e sysEnv) linuxBatteries() ([]Battery, error) {
	dir := filepath.Join(e.root, "sys", "class", "power_supply")
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // no power supplies at all: a desktop, a VM
	}
	if err != nil {
		return nil, fmt.Errorf("power supplies: %w", err)
	}
	var bats []Battery
	for _, ent := range entries {
		read := func(name string) string {
			b, _ := os.ReadFile(filepath.Join(dir, ent.Name(), name))
			return strings.TrimSpace(string(b))
		}
		if read("type") != "Battery" {
			continue
		}
		pct, err := strconv.Atoi(read("capacity"))
		if err != nil {
			continue
		}
		bats = append(bats, Battery{Name: ent.Name(), Percent: pct, Status: strings.ToLower(read("status"))})
	}
	return bats, nil
}

var pmsetBattery = regexp.MustCompile(`(?m)^\s*-(\S+)\s.*?(\d+)%;\s*([^;]+);`)

// parsePmset reads `pmset -g batt`:
//
//	-InternalBattery-0 (id=4653155)	87%; discharging; 5:02 remaining present: true
func parsePmset(out []byte) []Battery {
	var bats []Battery
	for _, m := range pmsetBattery.FindAllSubmatch(out, -1) {
		pct, _ := strconv.Atoi(string(m[2]))
		bats = append(bats, Battery{Name: string(m[1]), Percent: pct, Status: strings.TrimSpace(string(m[3]))})
	}
	return bats
}

func probeUser(ctx context.Context, o *Options) (func(*SystemInfo), error) {
	name := ""
	u, err := user.Current()
	if err == nil {
		name = u.Username
	} else if name = o.sys.getenv("USER"); name == "" {
		name = o.sys.getenv("USERNAME")
	}
	if name == "" {
		return nil, fmt.Errorf("current user: %w", orNone(err))
	}
	return func(si *SystemInfo) { si.User = name }, nil
}

// probeLocale finds the locale (environment; macOS and Windows settings
// as a fallback) and the IANA time zone name.
func probeLocale(ctx context.Context, o *Options) (func(*SystemInfo), error) {
	tz := o.sys.timezoneName()
	loc := o.sys.locale(ctx)
	return func(si *SystemInfo) {
		if tz != "" {
			si.Timezone = tz
		}
		si.Locale = loc
	}, nil
}

func (e sysEnv) locale(ctx context.Context) string {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := e.getenv(k); v != "" {
			return v
		}
	}
	switch e.goos {
	case "darwin":
		if out, err := e.runner.Run(ctx, "defaults", "read", "-g", "AppleLocale"); err == nil {
			return strings.TrimSpace(string(out))
		}
	case "windows":
		if out, err := e.runner.Run(ctx, "reg", "query", `HKCU\Control Panel\International`, "/v", "LocaleName"); err == nil {
			return parseRegValue(out, "LocaleName")
		}
	}
	return ""
}

// parseRegValue reads `reg query … /v NAME`: "    NAME    REG_SZ    value".
func parseRegValue(out []byte, name string) string {
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && strings.EqualFold(f[0], name) && strings.HasPrefix(f[1], "REG_") {
			return strings.Join(f[2:], " ")
		}
	}
	return ""
}

// timezoneName is the IANA zone: $TZ, else /etc/timezone, else the
// target of the /etc/localtime link. Windows has none of these; the
// zone's abbreviation stands.
func (e sysEnv) timezoneName() string {
	if tz := strings.TrimPrefix(e.getenv("TZ"), ":"); tz != "" {
		return zoneFromPath(tz)
	}
	if e.goos == "windows" {
		return ""
	}
	if b, err := e.readFile("/etc/timezone"); err == nil {
		if tz := strings.TrimSpace(string(b)); tz != "" {
			return tz
		}
	}
	if target, err := os.Readlink(filepath.Join(e.root, "etc", "localtime")); err == nil {
		if tz := zoneFromPath(filepath.ToSlash(target)); tz != target {
			return tz
		}
	}
	return ""
}

// zoneFromPath turns /usr/share/zoneinfo/Europe/Paris into Europe/Paris.
func zoneFromPath(p string) string {
	if i := strings.LastIndex(p, "zoneinfo/"); i >= 0 {
		return path.Clean(p[i+len("zoneinfo/"):])
	}
	return p
}
