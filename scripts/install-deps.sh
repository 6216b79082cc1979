#!/usr/bin/env bash
# Installs everything dotpin needs to build, test, benchmark and run its demo on Debian 12, by
# package name. Idempotent: apt is only called when a package is missing. Run as root.
set -euo pipefail

packages=(
  # toolchain
  g++ clang libclang-rt-14-dev meson ninja-build pkg-config python3
  # libraries (the design card's, plus toml++, nlohmann-json, and libmicrohttpd for /metrics)
  libdpdk-dev libwolfssl-dev liburing-dev libtomlplusplus-dev nlohmann-json3-dev libmicrohttpd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # real peers and clients for the integration tests and the demo
  unbound knot-dnsutils dnsutils dnsperf openssl ca-certificates iproute2 curl
  # DANE: libunbound validates TLSA answers; knot serves and signs the test zone
  libunbound-dev knot ldnsutils
  # libunbound.pc names libevent (Requires.private): pkg-config, hence meson, needs its .pc; the
  # root trust anchor DaneLookup uses by default (/usr/share/dns/root.key)
  libevent-dev dns-root-data
  # scripts/build-wolfssl.sh: Debian's wolfssl source package rebuilt with AES-NI (-Dwolfssl=aesni)
  dpkg-dev autoconf automake libtool
)

# bench/compare/compare.sh also needs the forwarders it compares with, and gnuplot for its plots.
if [ "${1:-}" = "--compare" ]; then
  packages+=(knot-resolver dnsdist stubby gnuplot-nox)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing ${missing[*]}; run as root (apt-get install)" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  # The unbound package may try to start its service; dotpin's tests run their own instances on
  # other ports, so a running system unbound does not matter, and where no init runs nothing starts.
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The wolfSSL the build links by default on x86-64 (meson -Dwolfssl=auto|aesni; -Dwolfssl=system needs none).
# DOTPIN_WOLFSSL=system skips it; elsewhere than x86_64 there is no AES-NI build to make.
if [ "${DOTPIN_WOLFSSL:-aesni}" = aesni ] && [ "$(uname -m)" = x86_64 ]; then
  "$(dirname "$0")/build-wolfssl.sh"
fi
