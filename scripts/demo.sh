#!/usr/bin/env bash
# dotpin end to end on one machine: installs what it needs, builds, starts two real unbound DoT
# servers on loopback (the genuine upstream and an impostor whose certificate is valid for the same
# name under the same CA), and walks the operator's pinning workflow with dotpinctl:
# fetch the chain, write a pin file with a backup pin, lint it, and verify both servers against it.
# Everything it starts is stopped at the end; running it again works the same.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

scripts/install-deps.sh
if [ ! -f build/build.ninja ]; then meson setup build >/dev/null; fi
ninja -C build control/dotpinctl >/dev/null
ctl=$src/build/control/dotpinctl

work=$(mktemp -d /tmp/dotpin-demo.XXXXXX)
# start_unbound runs in a command substitution (a subshell), so it records each server's PID in
# a file under $work; cleanup stops exactly those processes.
cleanup() {
  local pidfile pid
  for pidfile in "$work"/*/server.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_unbound() {  # name key chain -> port on stdout
  local name=$1 key=$2 chain=$3 port
  port=$(free_port)
  mkdir -p "$work/$name"
  tests/pki/unbound-dot-conf.sh "$work/$name" "$port" "$key" "$chain" > "$work/$name/unbound.conf"
  unbound -d -c "$work/$name/unbound.conf" >"$work/$name/stderr.log" 2>&1 &
  echo $! > "$work/$name/server.pid"
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && { echo "$port"; return; }
    sleep 0.1
  done
  echo "unbound $name did not start:" >&2; cat "$work/$name/stderr.log" "$work/$name/unbound.log" >&2; exit 1
}

say "A throw-away PKI: one CA, the genuine server key, an impostor key for the same name, a spare key"
tests/pki/make-test-pki.sh "$work/pki" >/dev/null 2>&1
pki=$work/pki
echo "made in $pki"

say "Two real DoT upstreams (unbound) on loopback"
genuine=$(start_unbound genuine "$pki/leaf-p256.key" "$pki/leaf-p256.chain.pem")
impostor=$(start_unbound impostor "$pki/impostor.key" "$pki/impostor.chain.pem")
echo "genuine  upstream: 127.0.0.1:$genuine"
echo "impostor upstream: 127.0.0.1:$impostor (CA-valid certificate for the same name, another key)"
run kdig +tls +tls-hostname=dns.dotpin.test +tls-ca="$pki/ca-bundle.pem" +time=5 +retry=0 \
  @127.0.0.1 -p "$genuine" www.dotpin.test A +short
run kdig +tls +tls-hostname=dns.dotpin.test +tls-ca="$pki/ca-bundle.pem" +time=5 +retry=0 \
  @127.0.0.1 -p "$impostor" www.dotpin.test A +short
echo "(both pass a CA check: that is exactly why dotpin pins keys)"

say "1. Fetch the genuine upstream's chain and its pins"
run "$ctl" pin fetch "127.0.0.1:$genuine" --name dns.dotpin.test --ca "$pki/ca-bundle.pem" --upstream-name lab

say "2. Write the pin file: the fetched primary pin plus a backup pin for an offline spare key"
"$ctl" --json pin fetch "127.0.0.1:$genuine" --name dns.dotpin.test --upstream-name lab |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["snippet"])' > "$work/pins.toml"
run sh -c "openssl pkey -in '$pki/spare.key' -pubout | '$ctl' pin compute -"
spare=$("$ctl" --json pin compute "$pki/spare.pub" | python3 -c 'import json,sys; print(json.load(sys.stdin)["files"][0]["objects"][0]["pin_sha256"])')
printf '\n[[upstream.pin]]\nlabel = "backup"\nsha256 = "%s"\n' "$spare" >> "$work/pins.toml"
grep -v '^#' "$work/pins.toml" | sed '/^$/N;/^\n$/D'

say "3. Lint it"
run "$ctl" pins check "$work/pins.toml"

say "4. Verify the genuine upstream against the pin file"
run "$ctl" pin fetch "127.0.0.1:$genuine" --name dns.dotpin.test --check "$work/pins.toml"

say "5. Point the same upstream at the impostor: CA-valid, but its key is not pinned"
set +e
"$ctl" pin fetch "127.0.0.1:$impostor" --name dns.dotpin.test --ca "$pki/ca-bundle.pem" \
  --check "$work/pins.toml" --upstream lab | sed -n '1,2p;/Pin check/,$p'
code=${PIPESTATUS[0]}
set -e
echo "exit status $code (3 = the pin set refuses this server)"
[ "$code" -eq 3 ] || { echo "demo: expected the impostor to be refused" >&2; exit 1; }

say "6. A real query through dotpin's DoT engine (io_uring + wolfSSL), pinned to primary + backup"
primary=$("$ctl" --json pin compute "$pki/leaf-p256.crt" | python3 -c 'import json,sys; print(json.load(sys.stdin)["files"][0]["objects"][0]["pin_sha256"])')
run "$ctl" probe "127.0.0.1:$genuine" www.dotpin.test A --name dns.dotpin.test --pin "$primary" --pin "$spare"

say "7. The same query to the impostor: refused before the query is written"
before=$(grep -c "www.dotpin.test" "$work/impostor/unbound.log" || true)
set +e
"$ctl" probe "127.0.0.1:$impostor" www.dotpin.test A --name dns.dotpin.test --pin "$primary" --pin "$spare" \
  --ca "$pki/ca-bundle.pem"
code=$?
set -e
after=$(grep -c "www.dotpin.test" "$work/impostor/unbound.log" || true)
echo "exit status $code; queries in the impostor's own log before/after: $before/$after"
[ "$code" -eq 3 ] && [ "$before" = "$after" ] || { echo "demo: the impostor got a query" >&2; exit 1; }

say "Done: the genuine key is accepted, the CA-valid impostor is refused before any query"
