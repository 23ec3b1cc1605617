#!/bin/sh
# mkzip.sh EXE VERSION OUTDIR: pack the Windows zip (dockhand.exe, the
# Windows notes with CRLF line ends, the example configuration). File times
# come from $SOURCE_DATE_EPOCH, so the zip is reproducible.
set -eu

if [ $# -ne 3 ]; then
	echo "usage: $0 EXE VERSION OUTDIR" >&2
	exit 2
fi
exe=$1 version=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
: "${SOURCE_DATE_EPOCH:=$(git -C "$here" log -1 --format=%ct 2>/dev/null || echo 0)}"

umask 022
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dir="$tmp/dockhand-$version-windows-amd64"
mkdir -p "$dir"
cp "$exe" "$dir/dockhand.exe"
sed 's/$/\r/' "$here/windows/README-windows.txt" >"$dir/README-windows.txt"
# The example's Linux paths become their Windows places.
sed -e 's|^data_dir: /var/lib/dockhand|data_dir: C:\\ProgramData\\Dockhand|' \
	-e 's|/etc/dockhand/|C:\\ProgramData\\Dockhand\\|g' \
	-e 's/$/\r/' "$here/dockhand.example.yaml" >"$dir/dockhand.example.yaml"
find "$tmp" -exec env TZ=UTC touch -h -d "@$SOURCE_DATE_EPOCH" {} +

mkdir -p "$out"
zipfile="$(cd "$out" && pwd)/dockhand-$version-windows-amd64.zip"
rm -f "$zipfile"
# Sorted names and no extra fields: the same files give the same zip.
(cd "$tmp" && find "dockhand-$version-windows-amd64" -type f | LC_ALL=C sort |
	TZ=UTC zip -q -X -D "$zipfile" -@)
echo "$zipfile"
