#!/usr/bin/env bash
# dotpin end to end on one machine: installs what it needs, builds, and then, inside a network
# namespace of its own, starts two real unbound DoT servers on loopback (the genuine upstream and an
# impostor whose certificate is valid for the same name under the same CA), walks the operator's
# pinning workflow with dotpinctl (fetch, pin file with a backup pin, lint, verify), and runs the
# appliance: dotpind on a DPDK net_tap port, the genuine upstream pinned, real clients (kdig, dig,
# dnsperf) on the tap's kernel side at 198.18.0.2 — answers, cache hits, the ACL, a bounded load,
# then the impostor refused with SERVFAIL. Everything it starts is stopped at the end; running it
# again works the same.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

if [ -z "${DOTPIN_DEMO_NETNS:-}" ]; then
  scripts/install-deps.sh
  if [ ! -f build/build.ninja ]; then meson setup build >/dev/null; fi
  ninja -C build control/dotpinctl control/dotpind >/dev/null
  # The rest runs in a network namespace made for it: its own loopback, its own tap link.
  netns=dotpin-demo-$$
  ip netns add "$netns"
  trap 'ip netns delete "$netns" 2>/dev/null || true' EXIT
  ip netns exec "$netns" ip link set lo up
  ip netns exec "$netns" env DOTPIN_DEMO_NETNS="$netns" bash "$0"
  exit
fi
ctl=$src/build/control/dotpinctl
dotpind=$src/build/control/dotpind

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
  rm -rf "$work" "/var/run/dpdk/dotpin-demo-$$"
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

probe_refused() {  # server-name port: a pinned probe (with PKIX) must be refused, the server's log untouched
  local name=$1 port=$2 code before after
  before=$(grep -c "www.dotpin.test" "$work/$name/unbound.log" || true)
  set +e
  "$ctl" probe "127.0.0.1:$port" www.dotpin.test A --name dns.dotpin.test --pin "$primary" --pin "$spare" \
    --ca "$pki/ca-bundle.pem"
  code=$?
  set -e
  after=$(grep -c "www.dotpin.test" "$work/$name/unbound.log" || true)
  echo "exit status $code; queries in $name's own log before/after: $before/$after"
  [ "$code" -eq 3 ] && [ "$before" = "$after" ] || { echo "demo: $name got a query" >&2; exit 1; }
}

say "7. The same query to the impostor: refused before the query is written"
probe_refused impostor "$impostor"

say "7b. An impostor that appends the genuine server's public certificate to its own chain"
appender=$(start_unbound appender "$pki/hostile/misissued-plus-leaf.key" "$pki/hostile/misissued-plus-leaf.chain.pem")
echo "appender upstream: 127.0.0.1:$appender (CA-valid leaf with another key, then the genuine leaf)"
probe_refused appender "$appender"
echo "(a pin counts only on the verified path from the leaf: the appended genuine leaf is not on it)"

start_dotpind() {  # pin file -> runs dotpind on net_tap "dotpin0" and gives its kernel side addresses
  local pins=$1
  cat > "$work/dotpind.toml" <<CONF
[dpdk]
eal_args = ["-l", "0-1", "--no-huge", "-m", "256", "--no-pci", "--file-prefix", "dotpin-demo-$$",
            "--log-level", "error", "--vdev=net_tap0,iface=dotpin0"]
[port]
device = "net_tap0"
ipv4 = ["198.18.0.1/24"]
ipv6 = ["2001:2::1"]
mbufs = 4095
[acl]
allow = ["198.18.0.0/24", "2001:2::/64"]
[upstreams]
pin_file = "$pins"
query_timeout_ms = 1500
[control]
socket = "$work/dotpind.sock"
CONF
  mkdir -p "$work/dotpind"
  "$dotpind" --config "$work/dotpind.toml" >"$work/dotpind/log" 2>&1 &
  echo $! > "$work/dotpind/server.pid"
  for _ in $(seq 300); do grep -q "dotpind: ready" "$work/dotpind/log" && break; sleep 0.1; done
  grep "dotpind: ready" "$work/dotpind/log" || { cat "$work/dotpind/log"; exit 1; }
  ip addr add 198.18.0.2/24 dev dotpin0
  ip addr add 198.18.1.2/32 dev dotpin0
  ip -6 addr add 2001:2::2/64 dev dotpin0 nodad
  ip link set dotpin0 up
}
stop_dotpind() {  # SIGTERM, then its shutdown summary
  local pid
  pid=$(cat "$work/dotpind/server.pid")
  kill -TERM "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$work/dotpind/server.pid"
  sed -n '/signal/,$p' "$work/dotpind/log"
}

say "8. The appliance: dotpind on a DPDK net_tap port, the genuine upstream pinned (pin file of step 2)"
sed "s/127.0.0.1:[0-9]*/127.0.0.1:$genuine/" "$work/pins.toml" > "$work/pins-appliance.toml"
start_dotpind "$work/pins-appliance.toml"
echo "appliance 198.18.0.1 / 2001:2::1 on the tap; clients at 198.18.0.2 / 2001:2::2"
run kdig @198.18.0.1 www.dotpin.test A +timeout=2 +retry=0
say "9. Again: a cache hit (TTL counting down), over IPv6, in the client's own 0x20 spelling"
sleep 1
run dig @2001:2::1 WwW.DotPin.TEST A +tries=1 +time=2 +noall +answer +stats
say "10. A negative answer (cached by RFC 2308), and a client outside the ACL"
run kdig @198.18.0.1 nothere.dotpin.test A +timeout=2 +retry=0 +noall +header +authority
run kdig @198.18.0.1 -b 198.18.1.2 www.dotpin.test A +timeout=2 +retry=0 +noall +header
say "11. A bounded load: dnsperf, 3 seconds at up to 2000 queries/s over 100 names"
for i in $(seq 100); do echo "n$i.dotpin.test A"; done > "$work/queries.txt"
run dnsperf -s 198.18.0.1 -d "$work/queries.txt" -l 3 -Q 2000 -q 50 | sed -n '/Statistics/,/Latency StdDev/p'
say "12. Ask the running appliance: control socket (mode 0600) and Prometheus /metrics"
ls -l "$work/dotpind.sock"
run "$ctl" stats --socket "$work/dotpind.sock"
echo '$ curl -s http://127.0.0.1:9853/metrics | grep -E "events_total.*(cache_hits|forwarded)|upstream_answers"'
curl -s http://127.0.0.1:9853/metrics | grep -E 'events_total.*"(cache_hits|forwarded)"|upstream_answers_total\{'

say "13. Pins at runtime: list, expiry, then remove the server's pin (refused at once), and add it back"
sock=(--socket "$work/dotpind.sock")
run "$ctl" pins list "${sock[@]}"
run "$ctl" expiry --refresh "${sock[@]}" || true   # exit 1 when something warns
primary=$(awk -F'"' '/^sha256/ {print $2; exit}' "$work/pins-appliance.toml")
run "$ctl" pins remove lab "$primary" "${sock[@]}"
run kdig @198.18.0.1 fresh1.dotpin.test A +edns +timeout=3 +retry=0 +noall +header +opt
run "$ctl" pins add lab "$primary" --label primary "${sock[@]}"
run kdig @198.18.0.1 fresh2.dotpin.test A +timeout=3 +retry=0 +noall +header
run "$ctl" pins remove lab "$primary" --socket /nonexistent.sock || true   # no daemon there: exit 2

say "14. Shutdown summary (counters per lcore and per upstream)"
stop_dotpind
ip link del dotpin0 2>/dev/null || true

say "15. The same upstream name pointed at the impostor: refused, clients get SERVFAIL + EDE"
sed "s/127.0.0.1:[0-9]*/127.0.0.1:$impostor/" "$work/pins.toml" > "$work/pins-impostor.toml"
before=$(grep -c "www.dotpin.test" "$work/impostor/unbound.log" || true)
start_dotpind "$work/pins-impostor.toml"
run kdig @198.18.0.1 www.dotpin.test A +edns +timeout=3 +retry=0 +noall +header +opt
sleep 0.3
run "$ctl" upstreams --socket "$work/dotpind.sock"
stop_dotpind | grep -E "pin_mismatch|lab:"
after=$(grep -c "www.dotpin.test" "$work/impostor/unbound.log" || true)
echo "queries in the impostor's own log before/after: $before/$after"
[ "$before" = "$after" ] || { echo "demo: the impostor got a query" >&2; exit 1; }

say "Done: the genuine key answers through the appliance; the CA-valid impostor never sees a query"
