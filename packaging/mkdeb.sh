#!/bin/sh
# mkdeb.sh ARCH BINARY VERSION OUTDIR: build dockhand_<version>_<arch>.deb
# from a release binary with dpkg-deb. ARCH is Debian's name (amd64, arm64,
# armhf). File times come from $SOURCE_DATE_EPOCH, so the .deb is reproducible.
set -eu

if [ $# -ne 4 ]; then
	echo "usage: $0 ARCH BINARY VERSION OUTDIR" >&2
	exit 2
fi
arch=$1 bin=$2 version=$3 out=$4
here=$(cd "$(dirname "$0")" && pwd)
: "${SOURCE_DATE_EPOCH:=$(git -C "$here" log -1 --format=%ct 2>/dev/null || echo 0)}"
export SOURCE_DATE_EPOCH

# Debian orders "~" before anything, so a pre-release (0.2.0-rc.1, 0.0.0-dev.7)
# becomes 0.2.0~rc.1 and sorts before 0.2.0; what git describe adds after a
# tag (0.2.0-3-gabc) becomes 0.2.0+3.gabc and sorts after it.
debversion() {
	case "$1" in
	[0-9]*.[0-9]*) ;;
	*)
		# Not a version (a bare commit id): keep it, below every release.
		echo "0.0.0~git.$1" | sed 's/-/./g'
		return
		;;
	esac
	case "$1" in
	*-[0-9]*-g[0-9a-f]*) echo "$1" | sed -e 's/-/+/' -e 's/-/./g' ;;
	*-*) echo "$1" | sed -e 's/-/~/' -e 's/-/./g' ;;
	*) echo "$1" ;;
	esac
}
debver="$(debversion "$version")-1"

umask 022
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

install -D -m 0755 "$bin" "$root/usr/bin/dockhand"
install -D -m 0644 "$here/linux/dockhand.service" "$root/lib/systemd/system/dockhand.service"
install -D -m 0644 "$here/linux/60-dockhand.rules" "$root/lib/udev/rules.d/60-dockhand.rules"
install -D -m 0640 "$here/dockhand.example.yaml" "$root/etc/dockhand/dockhand.yaml"
chmod 0750 "$root/etc/dockhand"
install -D -m 0644 "$here/dockhand.example.yaml" "$root/usr/share/dockhand/dockhand.example.yaml"
install -D -m 0644 "$here/README.md" "$root/usr/share/doc/dockhand/README.md"

install -d "$root/DEBIAN"
for f in postinst prerm postrm; do
	install -m 0755 "$here/linux/debian/$f" "$root/DEBIAN/$f"
done
install -m 0644 "$here/linux/debian/conffiles" "$root/DEBIAN/conffiles"
size=$(du -sk --apparent-size "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: dockhand
Version: $debver
Architecture: $arch
Maintainer: Dockhand developers <dockhand@localhost>
Installed-Size: $size
Depends: passwd
Recommends: fonts-noto-cjk, systemd, udev
Section: misc
Priority: optional
Homepage: https://github.com/dockhand/dockhand
Description: warehouse-floor edge agent for packing benches
 Dockhand drives barcode scanners and thermal label printers at the packing
 bench, enforces the scan-twice packing check, prints each electronic waybill
 exactly once, keeps orders in a local store and syncs with the order hub over
 MQTT. It serves a web UI for PDAs, packing screens and managers.
 .
 The package runs the agent as the systemd service "dockhand" under its own
 user, with udev rules for common scanners and label printers.
CONTROL

find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
mkdir -p "$out"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out/dockhand_${debver}_${arch}.deb" >/dev/null
echo "$out/dockhand_${debver}_${arch}.deb"
