#!/usr/bin/env bash
# Builds the wolfSSL dotpin links by default (meson -Dwolfssl=aesni): Debian's own source package
# of the installed libwolfssl-dev version (Debian's patches, Debian's configure flags and hardening
# flags), configured in addition with --enable-aesni --enable-intelasm --enable-sp-asm, installed
# as a static library under PREFIX (default /opt/dotpin/wolfssl). Debian's generic build has none
# of that assembly: a 468-byte AES-128-GCM record costs ~5x as much to seal (docs/benchmarks.md,
# "TLS record cost"). The AES-NI and AVX code checks the CPU at run time and falls back to C.
#
# Idempotent: does nothing when PREFIX holds a build of the same Debian version and flags.
# Needs root (apt-get source into a private apt state; nothing in /etc/apt changes) and the
# packages scripts/install-deps.sh installs (dpkg-dev, autoconf, automake, libtool).
# Usage: scripts/build-wolfssl.sh [PREFIX]
set -euo pipefail

prefix=${1:-/opt/dotpin/wolfssl}
if [ "$(uname -m)" != x86_64 ]; then
  echo "build-wolfssl: AES-NI and the x86-64 assembly need x86_64; configure with -Dwolfssl=system" >&2
  exit 1
fi
version=$(dpkg-query -W -f='${Version}' libwolfssl-dev 2>/dev/null || true)
if [ -z "$version" ]; then
  echo "build-wolfssl: libwolfssl-dev is not installed (run scripts/install-deps.sh)" >&2
  exit 1
fi
debian_flags=(--enable-distro --enable-pkcs11 --disable-examples --disable-silent-rules)
our_flags=(--enable-aesni --enable-intelasm --enable-sp-asm --enable-static --disable-shared)
stamp="wolfssl $version ${debian_flags[*]} ${our_flags[*]}"
if [ -f "$prefix/.dotpin-stamp" ] && [ "$(cat "$prefix/.dotpin-stamp")" = "$stamp" ] &&
   [ -f "$prefix/lib/libwolfssl.a" ] && [ -f "$prefix/include/wolfssl/options.h" ]; then
  echo "build-wolfssl: $prefix has $version with AES-NI (up to date)"
  exit 0
fi

work=$(mktemp -d /tmp/dotpin-wolfssl.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "build-wolfssl: fetching Debian's source package wolfssl=$version"
# A private apt configuration (deb822: the name must end in .sources) with deb-src entries.
mkdir -p "$work/apt/lists/partial"
cat > "$work/apt/deb-src.sources" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
apt_opts=(-o "Dir::Etc::SourceList=$work/apt/deb-src.sources" -o Dir::Etc::SourceParts=/dev/null
          -o "Dir::State::Lists=$work/apt/lists" -o APT::Sandbox::User=root -q)
apt-get "${apt_opts[@]}" update > "$work/apt.log" 2>&1 || { cat "$work/apt.log" >&2; exit 1; }
(cd "$work" && apt-get "${apt_opts[@]}" source --download-only "wolfssl=$version" >> apt.log 2>&1) ||
  { cat "$work/apt.log" >&2; echo "build-wolfssl: no source package wolfssl=$version" >&2; exit 1; }
(cd "$work" && dpkg-source -x ./*.dsc src > dpkg-source.log 2>&1) ||
  { cat "$work/dpkg-source.log" >&2; exit 1; }
src="$work/src"
# Debian's configure flags are ours too: stop if debian/rules no longer uses them.
for f in "${debian_flags[@]}"; do
  grep -q -- "$f" "$src/debian/rules" || { echo "build-wolfssl: debian/rules no longer passes $f" >&2; exit 1; }
done

echo "build-wolfssl: configuring with ${our_flags[*]}"
cd "$src"
# Debian's hardening (debian/rules: hardening=+all) and optimisation flags.
eval "$(DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --export=sh)"
autoreconf -fi > "$work/autoreconf.log" 2>&1 || { cat "$work/autoreconf.log" >&2; exit 1; }
./configure --prefix="$prefix" "${debian_flags[@]}" "${our_flags[@]}" > "$work/configure.log" 2>&1 ||
  { tail -40 "$work/configure.log" >&2; exit 1; }
grep -q '^#define WOLFSSL_AESNI' wolfssl/options.h || { echo "build-wolfssl: AES-NI not enabled" >&2; exit 1; }
make -j"$(nproc)" > "$work/make.log" 2>&1 || { tail -40 "$work/make.log" >&2; exit 1; }
# wolfCrypt's known-answer tests, on this CPU, before anything links the library.
./wolfcrypt/test/testwolfcrypt > "$work/test.log" 2>&1 || { tail -40 "$work/test.log" >&2; exit 1; }

rm -rf "$prefix"
make install > "$work/install.log" 2>&1 || { tail -40 "$work/install.log" >&2; exit 1; }
# options.h is the configuration every includer must see (Debian's .install ships it; make
# install does not), and a static library only: dotpin must not load Debian's .so by accident.
install -m 0644 wolfssl/options.h "$prefix/include/wolfssl/options.h"
rm -f "$prefix"/lib/libwolfssl.so* "$prefix"/lib/libwolfssl.la
rm -rf "$prefix/bin" "$prefix/share"
echo "$stamp" > "$prefix/.dotpin-stamp"
echo "build-wolfssl: installed $version with AES-NI, x86-64 asm and SP asm in $prefix"
