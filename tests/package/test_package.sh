#!/bin/sh
# The Debian package: it builds (lintian clean, see build-deb), its
# metadata and contents are what a host needs, and the binary unpacked
# into a scratch root checks the configuration installed beside it.
#
#   test_package.sh SOURCE_DIR WORK_DIR
set -eu

src=$1
work=$2

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# build-deb skips lintian where it is missing; this test does not.
command -v lintian >/dev/null ||
	fail "lintian is not installed (scripts/install-deps installs it)"

rm -rf "$work"
mkdir -p "$work"
out=$("$src/packaging/build-deb" "$work/build") ||
	fail "packaging/build-deb failed (lintian tags above?)"
deb=$(echo "$out" | tail -n 1)
[ -f "$deb" ] || fail "no package built"
echo "built: $deb"

# Metadata: the name, the version of the source, and Depends: derived
# from the shared libraries the binary links.
[ "$(dpkg-deb -f "$deb" Package)" = alertbridge ] || fail "Package:"
version=$(sed -n 's/^project(alertbridge VERSION \([^ ]*\).*/\1/p' \
	"$src/CMakeLists.txt")
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] ||
	fail "Version: is not $version"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libcurl4 libjansson4 libmicrohttpd12 libsqlite3-0 \
	libssl3 libsystemd0 libyaml-0-2 systemd init-system-helpers; do
	echo "$depends" | grep -q "\\b$lib\\b" || fail "Depends: lacks $lib"
done
echo "depends: $depends"

# The configuration is a conffile, so that an upgrade keeps an
# operator's edits.
mkdir -p "$work/control"
dpkg-deb -e "$deb" "$work/control"
[ "$(cat "$work/control/conffiles")" = /etc/alertbridge/alertbridge.yaml ] ||
	fail "conffiles: $(cat "$work/control/conffiles")"
for script in postinst prerm postrm; do
	sh -n "$work/control/$script" || fail "$script does not parse"
done

# The files a host needs, where Debian looks for them.
dpkg-deb -c "$deb" >"$work/listing"
awk '{ print $6 }' "$work/listing" >"$work/contents"
for path in ./usr/sbin/alertbridge \
	./lib/systemd/system/alertbridge.service \
	./lib/systemd/system/alertbridge.socket \
	./usr/lib/sysusers.d/alertbridge.conf \
	./usr/lib/tmpfiles.d/alertbridge.conf \
	./etc/alertbridge/alertbridge.yaml \
	./etc/alertbridge/credentials/ \
	./usr/share/doc/alertbridge/copyright \
	./usr/share/doc/alertbridge/changelog.gz \
	./usr/share/man/man8/alertbridge.8.gz \
	./usr/share/man/man5/alertbridge.yaml.5.gz \
	./usr/share/bash-completion/completions/alertbridge; do
	grep -qx "$path" "$work/contents" || fail "the package lacks $path"
done
grep -q '^drwx------ root/root .*credentials/$' "$work/listing" ||
	fail "the credentials directory is not root's alone"

# Unpacked into a scratch root, the installed binary accepts the
# installed example, reading placeholder keys as the unit would.
dpkg-deb -x "$deb" "$work/root"
cmp "$work/root/etc/alertbridge/alertbridge.yaml" \
	"$src/config/alertbridge.yaml" || fail "the example differs"
"$work/root/usr/sbin/alertbridge" version | grep -qx "alertbridge $version" ||
	fail "the installed binary's version"
out=$(CREDENTIALS_DIRECTORY="$src/config/demo-credentials" \
	"$work/root/usr/sbin/alertbridge" check-config \
	-c "$work/root/etc/alertbridge/alertbridge.yaml" 2>&1) ||
	fail "check-config of the installed example: $out"
echo "$out" | grep -q "configuration OK" || fail "check-config: $out"
echo "check-config: the installed example is OK"

# The installed manual page is the one built from doc/, and names every
# command the binary has.
zcat "$work/root/usr/share/man/man8/alertbridge.8.gz" >"$work/alertbridge.8"
for command in serve check-config render send-test queue postmortem \
	incidents ack resolve version; do
	grep -q "^\.SS \"$command " "$work/alertbridge.8" ||
		fail "alertbridge(8) does not describe $command"
done

# The installed units verify against the installed binary.
cp -an /lib/systemd/system/. "$work/root/lib/systemd/system/"
mkdir -p "$work/root/bin"
cp /bin/kill "$work/root/bin/kill"
out=$(systemd-analyze verify --root="$work/root" --man=no \
	"$work/root/lib/systemd/system/alertbridge.service" \
	"$work/root/lib/systemd/system/alertbridge.socket" 2>&1) ||
	fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify warns: $out"
echo "verify: the installed units are clean"

rm -rf "$work"
echo "package: ok"
