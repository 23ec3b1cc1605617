#!/usr/bin/env bash
# packaging/test.sh: build every release target, check the binaries, the
# reproducibility of the build and of the packages, inspect the .debs, verify
# the systemd unit, install the amd64 .deb into a scratch root with dpkg, run the
# installed binary, then upgrade, remove and purge it. Run by "make
# package-test"; installs its own Debian prerequisites when missing.
#
#   DIST_DIR=dist           where the release files go
#   REPRO_COLD=0            rebuild the reproducibility copy with the shared
#                           build cache (faster, checks less); default: a cold cache
set -euo pipefail
cd "$(dirname "$0")/.."

t0=$(date +%s)
step() { echo "== $(($(date +%s) - t0))s: $*"; }
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
GO=${GO:-go}
DIST_DIR=${DIST_DIR:-dist}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step "prerequisites"
need=()
for tool in gcc:gcc aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu arm-linux-gnueabihf-gcc:gcc-arm-linux-gnueabihf \
	x86_64-w64-mingw32-gcc:gcc-mingw-w64-x86-64 dpkg-deb:dpkg zip:zip unzip:unzip readelf:binutils make:make; do
	command -v "${tool%%:*}" >/dev/null || need+=("${tool#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
	echo "installing: ${need[*]}"
	SUDO=""
	[ "$(id -u)" = 0 ] || SUDO=sudo
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
		{ $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
fi

step "make dist"
commit=$(git rev-parse --short=12 HEAD)
make -s -f packaging/dist.mk dist DIST_DIR="$DIST_DIR"
version=$(make -s -f packaging/dist.mk dist-version)
[ -n "$version" ] || fail "cannot read VERSION from packaging/dist.mk"
echo "version $version, commit $commit"

step "binaries: architecture, cgo, static linking, no path leaks"
check_bin() { # file goos goarch
	local f=$1 goos=$2 goarch=$3 info
	[ -s "$f" ] || fail "$f missing"
	info=$($GO version -m "$f") || fail "$f: no Go build information"
	grep -q "GOOS=$goos\$" <<<"$info" || fail "$f: not built for $goos"
	grep -q "GOARCH=$goarch\$" <<<"$info" || fail "$f: not built for $goarch"
	# Without cgo github.com/karalabe/usb silently finds no USB HID devices.
	grep -q "CGO_ENABLED=1\$" <<<"$info" || fail "$f: built without cgo: USB HID scanners would be lost"
	grep -q -- "-trimpath=true" <<<"$info" || fail "$f: not built with -trimpath"
	if grep -a -q "$PWD" "$f"; then fail "$f contains the build directory $PWD"; fi
	printf '  %-36s %9d bytes\n' "$f" "$(stat -c %s "$f")"
}
check_bin "$DIST_DIR/linux-amd64/dockhand" linux amd64
check_bin "$DIST_DIR/linux-arm64/dockhand" linux arm64
check_bin "$DIST_DIR/linux-armv7/dockhand" linux arm
check_bin "$DIST_DIR/windows-amd64/dockhand.exe" windows amd64
grep -q "GOARM=7" <<<"$($GO version -m "$DIST_DIR/linux-armv7/dockhand")" || fail "armv7 binary not built for GOARM=7"
for a in amd64 arm64 armv7; do
	f="$DIST_DIR/linux-$a/dockhand"
	if readelf -l "$f" | grep -q INTERP; then fail "$f is dynamically linked; the release must be static"; fi
done
readelf -h "$DIST_DIR/linux-arm64/dockhand" | grep -q AArch64 || fail "arm64 binary is not AArch64"
readelf -h "$DIST_DIR/linux-armv7/dockhand" | grep -q "Machine:.*ARM" || fail "armv7 binary is not ARM"
readelf -A "$DIST_DIR/linux-armv7/dockhand" | grep -q "Tag_ABI_VFP_args: VFP registers" || fail "armv7 binary is not hard-float (armhf)"
# The Windows binary may only need DLLs every Windows has.
dlls=$(x86_64-w64-mingw32-objdump -p "$DIST_DIR/windows-amd64/dockhand.exe" | sed -n 's/.*DLL Name: //p' | tr 'A-Z' 'a-z' | sort -u | tr '\n' ' ')
for d in $dlls; do
	case $d in
	kernel32.dll | advapi32.dll | msvcrt.dll | setupapi.dll | ws2_32.dll | winmm.dll | ntdll.dll | userenv.dll | \
		bcrypt.dll | crypt32.dll | iphlpapi.dll | netapi32.dll | powrprof.dll | shell32.dll | ole32.dll | user32.dll | \
		winspool.drv | dnsapi.dll | secur32.dll | mswsock.dll | api-ms-win-*) ;;
	*) fail "dockhand.exe needs $d, which is not part of Windows: link it statically" ;;
	esac
done
echo "  dockhand.exe imports: $dlls"
out=$("$DIST_DIR/linux-amd64/dockhand" version)
grep -q -- "$version" <<<"$out" && grep -q "$commit" <<<"$out" || fail "version prints '$out', want $version and $commit"
echo "  $out"

step "Windows service code compiles and vets for Windows"
GOOS=windows $GO vet ./agent/service/ || fail "agent/service does not vet for Windows"
GOOS=windows $GO test -c -o /dev/null ./agent/service/ || fail "agent/service tests do not compile for Windows"

step "Windows zip"
zip="$DIST_DIR/dockhand-$version-windows-amd64.zip"
listing=$(unzip -Z1 "$zip")
for f in dockhand.exe README-windows.txt dockhand.example.yaml; do
	grep -qx "dockhand-$version-windows-amd64/$f" <<<"$listing" || fail "$zip lacks $f"
done
unzip -p "$zip" "dockhand-$version-windows-amd64/README-windows.txt" | head -1 | grep -q $'\r$' || fail "README-windows.txt lacks CRLF line ends"
unzip -p "$zip" "dockhand-$version-windows-amd64/dockhand.example.yaml" | grep -q '^data_dir: C:\\ProgramData\\Dockhand' ||
	fail "the Windows example config does not keep its data in C:\ProgramData\Dockhand"
cmp <(unzip -p "$zip" "dockhand-$version-windows-amd64/dockhand.exe") "$DIST_DIR/windows-amd64/dockhand.exe" || fail "zip holds another dockhand.exe"
(cd "$DIST_DIR" && sha256sum -c --quiet SHA256SUMS) || fail "SHA256SUMS does not match"

step "reproducible: the same commit built twice in other directories gives the same bytes"
mkdir -p "$work/a/src" "$work/b/elsewhere/src"
git archive HEAD | tar -x -C "$work/a/src"
git archive HEAD | tar -x -C "$work/b/elsewhere/src"
epoch=$(git log -1 --format=%ct)
repro() { # dir targets [env...]
	local dir=$1 targets=$2
	shift 2
	# shellcheck disable=SC2086
	(cd "$dir" && env "$@" make -s -f packaging/dist.mk $targets \
		VERSION="$version" COMMIT="$commit" SOURCE_DATE_EPOCH="$epoch" DIST_DIR=out >/dev/null)
}
repro "$work/a/src" "dist-linux-amd64 dist-windows-amd64"
# The second copy compiles linux-amd64 from nothing (every package, the C in
# the USB library and the standard library), so the check covers the compilers
# and not only the linker; the Windows build reuses the cache.
if [ "${REPRO_COLD:-1}" = 1 ]; then
	repro "$work/b/elsewhere/src" dist-linux-amd64 GOCACHE="$work/gocache"
else
	repro "$work/b/elsewhere/src" dist-linux-amd64
fi
repro "$work/b/elsewhere/src" dist-windows-amd64
for f in linux-amd64/dockhand windows-amd64/dockhand.exe "dockhand-$version-windows-amd64.zip"; do
	a=$(sha256sum <"$work/a/src/out/$f")
	b=$(sha256sum <"$work/b/elsewhere/src/out/$f")
	[ "$a" = "$b" ] || fail "$f differs between two builds of $commit"
	echo "  $f ${a%% *}"
done
for n in 1 2; do
	SOURCE_DATE_EPOCH=$epoch sh packaging/mkdeb.sh amd64 "$work/a/src/out/linux-amd64/dockhand" "$version" "$work/deb$n" >/dev/null
done
a=$(sha256sum <"$work"/deb1/*.deb)
b=$(sha256sum <"$work"/deb2/*.deb)
[ "$a" = "$b" ] || fail "the .deb differs between two builds"
echo "  $(basename "$work"/deb1/*.deb) ${a%% *}"

step "inspect the .debs"
for arch in amd64 arm64 armhf; do
	deb=$(ls "$DIST_DIR"/dockhand_*_"$arch".deb)
	[ "$(echo "$deb" | wc -l)" = 1 ] || fail "want one $arch .deb in $DIST_DIR, have: $deb"
	[ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ] || fail "$deb: wrong Architecture"
	[ "$(dpkg-deb -f "$deb" Package)" = dockhand ] || fail "$deb: wrong Package"
	dpkg-deb -f "$deb" Recommends | grep -q fonts-noto-cjk || fail "$deb: no fonts-noto-cjk for label text"
	dpkg-deb -I "$deb" conffiles | grep -qx /etc/dockhand/dockhand.yaml || fail "$deb: config is not a conffile"
	contents=$(dpkg-deb -c "$deb")
	for want in "-rwxr-xr-x root/root .* ./usr/bin/dockhand" \
		"-rw-r--r-- root/root .* ./lib/systemd/system/dockhand.service" \
		"-rw-r--r-- root/root .* ./lib/udev/rules.d/60-dockhand.rules" \
		"-rw-r----- root/root .* ./etc/dockhand/dockhand.yaml" \
		"-rw-r--r-- root/root .* ./usr/share/dockhand/dockhand.example.yaml" \
		"-rw-r--r-- root/root .* ./usr/share/doc/dockhand/README.md"; do
		grep -q -- "^$want\$" <<<"$contents" || fail "$deb: no entry like '$want' in:
$contents"
	done
	goarch=$arch
	[ "$arch" = armhf ] && goarch=arm
	dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/bin/dockhand >"$work/bin-$arch"
	$GO version -m "$work/bin-$arch" | grep -q "GOARCH=$goarch\$" || fail "$deb holds a binary for another architecture"
	for s in postinst prerm postrm; do
		dpkg-deb -I "$deb" "$s" >"$work/$s" || fail "$deb: no $s"
		sh -n "$work/$s" || fail "$deb: $s has a syntax error"
	done
	printf '  %-44s %9d bytes\n' "$(basename "$deb")" "$(stat -c %s "$deb")"
done
dpkg-deb -I "$DIST_DIR"/dockhand_*_amd64.deb | sed -n '/Package:/,$p' | sed 's/^/  /'
if command -v shellcheck >/dev/null; then
	shellcheck -s sh packaging/linux/debian/postinst packaging/linux/debian/prerm packaging/linux/debian/postrm packaging/mkdeb.sh packaging/mkzip.sh
fi

step "udev rules"
rules=packaging/linux/60-dockhand.rules
# Every rule line is a known form; every ID is four lower-case hex digits.
grep -v -e '^#' -e '^$' "$rules" | grep -v -E \
	-e '^ATTRS\{idVendor\}=="[0-9a-f]{4}"(, ATTRS\{idProduct\}=="[0-9a-f]{4}")?, GOTO="dockhand_device"$' \
	-e '^(ACTION|SUBSYSTEM|GOTO|LABEL|ENV)' >"$work/odd" && fail "unexpected lines in $rules: $(cat "$work/odd")"
[ "$(grep -c 'LABEL="dockhand_end"' "$rules")" = 1 ] && [ "$(grep -c 'LABEL="dockhand_device"' "$rules")" = 1 ] ||
	fail "$rules: labels missing or repeated"
dups=$(grep -o 'idVendor}=="[0-9a-f]*"\(, ATTRS{idProduct}=="[0-9a-f]*"\)\?' "$rules" | sort | uniq -d)
[ -z "$dups" ] || fail "$rules repeats $dups"
echo "  $(grep -c 'GOTO="dockhand_device"' "$rules") devices or vendors"
# udevadm parses every rules file when it tests a device. In a private mount
# namespace the rules directory holds only ours, and the host is not touched.
if command -v udevadm >/dev/null && [ -e /sys/class/tty/console ] && unshare -m true 2>/dev/null; then
	cp "$rules" "$work/60-dockhand.rules"
	msgs=$(unshare -m sh -c "mount -t tmpfs none /etc/udev/rules.d && cp '$work/60-dockhand.rules' /etc/udev/rules.d/ &&
		udevadm test /sys/class/tty/console 2>&1" | grep '60-dockhand.rules' |
		grep -v -e '^Reading rules file' -e "Unknown group 'dockhand'" || true)
	[ -z "$msgs" ] || fail "udev does not accept $rules: $msgs"
	echo "  udevadm parses the rules without complaint"
else
	echo "  SKIP udevadm parse: needs root, unshare and udevadm (syntax checked by pattern only)"
fi

step "systemd unit"
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$work/unit"
	sed "s|^ExecStart=/usr/bin/dockhand|ExecStart=$PWD/$DIST_DIR/linux-amd64/dockhand|" packaging/linux/dockhand.service >"$work/unit/dockhand.service"
	msgs=$(cd "$work/unit" && systemd-analyze verify --man=no dockhand.service 2>&1) || true
	[ -z "$msgs" ] || fail "systemd-analyze verify: $msgs"
	echo "  systemd-analyze verify: clean"
else
	echo "  SKIP: systemd-analyze not installed"
fi

step "install the amd64 .deb into a scratch root"
R="$work/root"
mkdir -p "$R/etc" "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"
touch "$R/var/lib/dpkg/status"
# A fresh Debian's accounts (base-passwd): root, and dialout, lp and plugdev
# but no input group yet (udev creates that one).
printf 'root:x:0:0:root:/root:/bin/bash\n' >"$R/etc/passwd"
printf 'root:*:19000:0:99999:7:::\n' >"$R/etc/shadow"
printf 'root:x:0:\nlp:x:7:\ndialout:x:20:\nplugdev:x:46:\n' >"$R/etc/group"
printf 'root:*::\nlp:*::\ndialout:*::\nplugdev:*::\n' >"$R/etc/gshadow"
chmod 0640 "$R/etc/shadow" "$R/etc/gshadow"
deb=$(ls "$DIST_DIR"/dockhand_*_amd64.deb)
dpkg_r() { dpkg --root="$R" --log=/dev/null --force-script-chrootless --force-depends --force-unsafe-io "$@"; }
dpkg_r -i "$deb" >"$work/dpkg.log" 2>&1 || fail "dpkg -i: $(cat "$work/dpkg.log")"
sed 's/^/  /' "$work/dpkg.log"

perm() { stat -c '%a %u:%g' "$1"; }
uid=$(awk -F: '$1 == "dockhand" { print $3 }' "$R/etc/passwd")
gid=$(awk -F: '$1 == "dockhand" { print $3 }' "$R/etc/group")
[ -n "$uid" ] && [ -n "$gid" ] || fail "postinst did not create the dockhand user and group"
grep -q '^dockhand:x:[0-9]*:[0-9]*:Dockhand warehouse agent:/var/lib/dockhand:/usr/sbin/nologin$' "$R/etc/passwd" ||
	fail "dockhand user: $(grep ^dockhand: "$R/etc/passwd")"
[ "$uid" -lt 1000 ] || fail "dockhand is not a system user (uid $uid)"
for g in dialout lp plugdev input; do
	grep -q "^$g:x:[0-9]*:\(.*,\)\?dockhand\(,.*\)\?\$" "$R/etc/group" || fail "dockhand is not in group $g"
done
[ -x "$R/usr/bin/dockhand" ] || fail "no /usr/bin/dockhand"
[ -f "$R/lib/systemd/system/dockhand.service" ] || fail "no systemd unit"
[ -f "$R/lib/udev/rules.d/60-dockhand.rules" ] || fail "no udev rules"
[ "$(perm "$R/etc/dockhand")" = "750 0:$gid" ] || fail "/etc/dockhand is $(perm "$R/etc/dockhand"), want 750 root:dockhand"
[ "$(perm "$R/etc/dockhand/dockhand.yaml")" = "640 0:$gid" ] || fail "config is $(perm "$R/etc/dockhand/dockhand.yaml"), want 640 root:dockhand"
[ "$(perm "$R/var/lib/dockhand")" = "750 $uid:$gid" ] || fail "/var/lib/dockhand is $(perm "$R/var/lib/dockhand"), want 750 dockhand:dockhand"
if command -v systemctl >/dev/null; then
	[ "$(readlink "$R/etc/systemd/system/multi-user.target.wants/dockhand.service")" = /lib/systemd/system/dockhand.service ] ||
		fail "the unit is not enabled at boot"
fi
out=$("$R/usr/bin/dockhand" version)
grep -q -- "$version" <<<"$out" || fail "installed binary prints '$out'"
echo "  files, user, groups and modes as documented; installed binary: $out"
cp "$R/usr/bin/dockhand" "$work/installed-dockhand"

step "upgrade keeps an edited config; remove keeps config and data; purge deletes data"
echo "# edited by the warehouse" >>"$R/etc/dockhand/dockhand.yaml"
echo "orders" >"$R/var/lib/dockhand/dockhand.db"
rm "$R/etc/systemd/system/multi-user.target.wants/dockhand.service" 2>/dev/null || true # the admin disabled it
dpkg_r -i "$deb" >"$work/dpkg.log" 2>&1 || fail "reinstall: $(cat "$work/dpkg.log")"
tail -1 "$R/etc/dockhand/dockhand.yaml" | grep -q "edited by the warehouse" || fail "upgrade overwrote the edited config"
[ -f "$R/var/lib/dockhand/dockhand.db" ] || fail "upgrade lost the data"
[ ! -e "$R/etc/systemd/system/multi-user.target.wants/dockhand.service" ] || fail "upgrade re-enabled a unit the admin disabled"
[ "$(grep -c '^dockhand:' "$R/etc/passwd")" = 1 ] || fail "upgrade added the user twice"
dpkg_r -r dockhand >"$work/dpkg.log" 2>&1 || fail "remove: $(cat "$work/dpkg.log")"
[ ! -e "$R/usr/bin/dockhand" ] || fail "remove left the binary"
[ -f "$R/etc/dockhand/dockhand.yaml" ] || fail "remove deleted the config"
[ -f "$R/var/lib/dockhand/dockhand.db" ] || fail "remove deleted the data"
dpkg_r -P dockhand >"$work/dpkg.log" 2>&1 || fail "purge: $(cat "$work/dpkg.log")"
[ ! -e "$R/var/lib/dockhand" ] || fail "purge left the data"
[ ! -e "$R/etc/dockhand" ] || fail "purge left /etc/dockhand"
echo "  ok"

step "the installed binary talks to systemd (Type=notify, WatchdogSec)"
DOCKHAND_BIN="$work/installed-dockhand" $GO test -count=1 -run '^TestBinaryTalksToSystemd$' ./agent/service ||
	fail "the packaged binary does not do what the systemd unit expects"

step "done: package-test passed"
