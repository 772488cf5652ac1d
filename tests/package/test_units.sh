#!/bin/sh
# The systemd units: `systemd-analyze verify` passes them without a
# word, and the service's exposure score stays at or below 2.0.
#
#   test_units.sh SOURCE_DIR BINARY WORK_DIR
set -eu

src=$1
binary=$2
work=$3

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# A root holding the units, the binary where ExecStart= names it, and
# the host's own units they refer to (sysinit.target and the like).
rm -rf "$work"
mkdir -p "$work/lib/systemd/system" "$work/usr/sbin" "$work/bin"
cp -a /lib/systemd/system/. "$work/lib/systemd/system/"
cp "$src/systemd/alertbridge.service" "$src/systemd/alertbridge.socket" \
	"$work/lib/systemd/system/"
cp "$binary" "$work/usr/sbin/alertbridge"
cp /bin/kill "$work/bin/kill"

out=$(systemd-analyze verify --root="$work" --man=no \
	"$work/lib/systemd/system/alertbridge.service" \
	"$work/lib/systemd/system/alertbridge.socket" 2>&1) ||
	fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify warns: $out"
echo "verify: clean"

line=$(systemd-analyze security --offline=yes \
	"$src/systemd/alertbridge.service" 2>&1 | grep 'Overall exposure')
echo "$line"
score=$(echo "$line" | sed -n 's/.*: \([0-9][0-9.]*\) .*/\1/p')
[ -n "$score" ] || fail "no exposure score in: $line"
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' ||
	fail "exposure $score is above 2.0"

rm -rf "$work"
echo "units: ok"
