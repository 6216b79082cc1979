#!/usr/bin/env bash
# Builds the wolfSSL dotpin links by default (meson -Dwolfssl=auto|aesni on x86-64): Debian's own
# source package of the installed libwolfssl-dev version (Debian's patches, Debian's configure
# flags and hardening flags), configured in addition with --enable-aesni --enable-intelasm
# --enable-sp-asm, installed as a static library under PREFIX (default /opt/dotpin/wolfssl).
# Debian's generic build has none of that assembly: a 468-byte AES-128-GCM record costs ~8x as
# much to seal (docs/benchmarks.md, "TLS record cost"). The AES-NI and AVX code checks the CPU
# at run time and falls back to C.
#
# Trust: the source comes from the Debian archive through apt with a private configuration
# (nothing in /etc/apt or /var/cache/apt changes): the suite's InRelease is checked against
# Debian's archive keyring, the .dsc and tarballs against the signed Sources index, and
# dpkg-source checks the tarballs against the .dsc. apt downloads as its sandbox user (_apt); the
# source is unpacked, configured, built and tested as `nobody`; only the install into PREFIX
# runs as root.
#
# Idempotent: does nothing when PREFIX holds a build of the same Debian version and flags. A
# Debian security update of libwolfssl-dev reaches dotpin only when this runs again (meson warns
# when the versions differ). Needs root and the packages scripts/install-deps.sh installs
# (dpkg-dev, autoconf, automake, libtool).
# Usage: scripts/build-wolfssl.sh [PREFIX]
set -euo pipefail

prefix=${1:-/opt/dotpin/wolfssl}
fail() { echo "build-wolfssl: $*" >&2; exit 1; }
[ "$(uname -m)" = x86_64 ] || fail "AES-NI and the x86-64 assembly need x86_64; configure with -Dwolfssl=system"
[ "$(id -u)" -eq 0 ] || fail "run as root (apt-get source, and the install into $prefix)"
case "$prefix" in /*) ;; *) fail "PREFIX must be an absolute path: $prefix" ;; esac
# The source package's version (a binNMU's binary version has a +bN the source has not).
version=$(dpkg-query -W -f='${source:Version}' libwolfssl-dev 2>/dev/null || true)
[ -n "$version" ] || fail "libwolfssl-dev is not installed (run scripts/install-deps.sh)"
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || fail "no VERSION_CODENAME in /etc/os-release"
debian_flags=(--enable-distro --enable-pkcs11 --disable-examples --disable-silent-rules)
our_flags=(--enable-aesni --enable-intelasm --enable-sp-asm --enable-static --disable-shared)
stamp="wolfssl $version ${debian_flags[*]} ${our_flags[*]}"
if [ -f "$prefix/.dotpin-stamp" ] && [ "$(cat "$prefix/.dotpin-stamp")" = "$stamp" ] &&
   [ -f "$prefix/lib/libwolfssl.a" ] && [ -f "$prefix/include/wolfssl/options.h" ]; then
  echo "build-wolfssl: $prefix has $version with AES-NI (up to date)"
  exit 0
fi
# Never replace a directory this script did not make.
if [ -e "$prefix" ] && [ ! -f "$prefix/.dotpin-stamp" ] && [ -n "$(ls -A "$prefix" 2>/dev/null)" ]; then
  fail "$prefix exists, is not empty and holds no build of this script: refusing to replace it"
fi

work=$(mktemp -d /tmp/dotpin-wolfssl.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
echo "build-wolfssl: fetching Debian's source package wolfssl=$version ($codename)"
# A private apt configuration (deb822: the name must end in .sources) with deb-src entries.
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/download"
cat > "$work/apt/deb-src.sources" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $codename-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
chown -R _apt "$work/apt" "$work/download" 2>/dev/null || true
apt_opts=(-q -o "Dir::Etc::SourceList=$work/apt/deb-src.sources" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache"
          -o Acquire::AllowInsecureRepositories=false -o Acquire::AllowDowngradeToInsecureRepositories=false
          -o APT::Get::AllowUnauthenticated=false)
apt-get "${apt_opts[@]}" update > "$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; exit 1; }
(cd "$work/download" && apt-get "${apt_opts[@]}" source --download-only "wolfssl=$version" >> ../apt.log 2>&1) || {
  cat "$work/apt.log" >&2
  fail "no source package wolfssl=$version in $codename (a superseded security version leaves the archive:" \
       "upgrade libwolfssl-dev first)"
}

# Unpack, configure, build and test as nobody.
mkdir "$work/build"
chown nobody "$work/build"
as_nobody() { runuser -u nobody -- env HOME="$work/build" "$@"; }
as_nobody dpkg-source -x "$work"/download/*.dsc "$work/build/src" > "$work/dpkg-source.log" 2>&1 ||
  { cat "$work/dpkg-source.log" >&2; exit 1; }
src="$work/build/src"
# Debian's configure flags are ours too: stop if debian/rules no longer uses them.
for f in "${debian_flags[@]}"; do
  grep -q -- "$f" "$src/debian/rules" || fail "debian/rules no longer passes $f"
done

echo "build-wolfssl: configuring with ${our_flags[*]}"
# Debian's hardening (debian/rules: hardening=+all) and optimisation flags.
buildflags=$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)
as_nobody bash -c "set -e; cd '$src'; $buildflags
  autoreconf -fi > ../autoreconf.log 2>&1 || { cat ../autoreconf.log; exit 1; }
  ./configure --prefix='$prefix' ${debian_flags[*]} ${our_flags[*]} > ../configure.log 2>&1 ||
    { tail -40 ../configure.log; exit 1; }
  grep -q '^#define WOLFSSL_AESNI' wolfssl/options.h || { echo 'AES-NI not enabled'; exit 1; }
  make -j$(nproc) > ../make.log 2>&1 || { tail -40 ../make.log; exit 1; }
  # wolfCrypt's known-answer tests, on this CPU, before anything links the library.
  ./wolfcrypt/test/testwolfcrypt > ../test.log 2>&1 || { tail -40 ../test.log; exit 1; }" >&2

# Install into a staging directory, then swap it in: PREFIX is never half-written.
stage="$work/stage"
make -C "$src" install DESTDIR="$stage" > "$work/install.log" 2>&1 || { tail -40 "$work/install.log" >&2; exit 1; }
root="$stage$prefix"
# options.h is the configuration every includer must see (Debian's .install ships it; make
# install does not), and a static library only: dotpin must not load Debian's .so by accident.
install -m 0644 "$src/wolfssl/options.h" "$root/include/wolfssl/options.h"
rm -f "$root"/lib/libwolfssl.so* "$root"/lib/libwolfssl.la
rm -rf "$root/bin" "$root/share"
echo "$stamp" > "$root/.dotpin-stamp"
mkdir -p "$(dirname "$prefix")"
rm -rf "$prefix.old"
[ -e "$prefix" ] && mv "$prefix" "$prefix.old"
mv "$root" "$prefix"
rm -rf "$prefix.old"
echo "build-wolfssl: installed $version with AES-NI, x86-64 asm and SP asm in $prefix"
