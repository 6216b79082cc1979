#!/usr/bin/env bash
# Side by side, on one machine, in one run: dotpin, Unbound, Knot Resolver, dnsdist and Stubby, each
# forwarding over DoT to the same pinned upstream (a real unbound on loopback), each driven by the
# same generator (dotpin-bench, UDP over a DPDK net_tap port on a bridge) with the same query mixes:
#   hit      a hot set of 1000 names, warmed first (dnsdist with its packet cache; Stubby has none)
#   miss     every name new: each query crosses the DoT connection
#   impostor the upstream's address answered by a CA-valid impostor: which ones refuse it?
# Reported per system: answers/s, latency percentiles, CPU seconds per answer (of the system's
# process, /proc/PID/stat), and whether the pin was enforced. The generator runs on CPU 0, the
# system under test and the upstream on CPU 1. Bounded: each run has a deadline; the whole script
# takes about 3 minutes. Everything runs in a network namespace of its own and is stopped at the end.
# Writes OUT (default docs/benchmarks/): compare.md, compare.csv, *.png (gnuplot), cdf-*.csv.
#
# Usage: [REPEAT=N] bash bench/compare/compare.sh [SECONDS_PER_RUN (default 5)] [SYSTEMS...]
#   REPEAT=3 runs every system's hit and miss runs three times, in rounds, and reports medians.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD
out=${OUT:-$src/docs/benchmarks}
seconds=${1:-5}
repeat=${REPEAT:-1}
shift || true
systems=("$@")
[ ${#systems[@]} -gt 0 ] || systems=(dotpin dotpin-memif unbound knot dnsdist stubby)

if [ -z "${DOTPIN_COMPARE_NETNS:-}" ]; then
  scripts/install-deps.sh --compare
  if [ ! -f build/build.ninja ]; then meson setup build >/dev/null; fi
  ninja -C build control/dotpind bench/loadgen/dotpin-bench bench/loadgen/libdotpin_nodelay_shim.so >/dev/null
  netns=dotpin-compare-$$
  ip netns add "$netns"
  trap 'ip netns delete "$netns" 2>/dev/null || true' EXIT
  ip netns exec "$netns" ip link set lo up
  mkdir -p "$out"
  ip netns exec "$netns" env DOTPIN_COMPARE_NETNS="$netns" OUT="$out" REPEAT="${REPEAT:-1}" bash "$0" "$seconds" "${systems[@]}"
  exit
fi

bench=$src/build/bench/loadgen/dotpin-bench
dotpind=$src/build/control/dotpind
work=$(mktemp -d /tmp/dotpin-compare.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null || true
  done
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"  # KEEP_WORK=1: keep configs and logs for a look
  rm -rf /var/run/dpdk/cmp-*-$$
}
trap cleanup EXIT
log() { printf '[compare] %s\n' "$*" >&2; }
[ -z "${KEEP_WORK:-}" ] || log "work directory $work (kept)"

# --- the network: a bridge carrying the generator's tap, the systems' addresses and dotpind's tap
ip link add br0 address 02:00:00:00:00:01 type bridge  # its own MAC: never one of its ports
ip addr add 198.18.0.1/24 dev br0
for i in 11 12 13 14; do ip addr add "198.18.0.$i/24" dev br0; done
ip link set br0 up
declare -A addr=([unbound]=198.18.0.11 [knot]=198.18.0.12 [dnsdist]=198.18.0.13 [stubby]=198.18.0.14
                 [dotpin]=198.18.1.20 [dotpin-memif]=198.18.1.20)
# dotpind has a DPDK port of its own: its tap is a second link, 198.18.1.0/24, routed by the kernel
# (so its queries cross the kernel twice where the others' cross it once: a conservative place).
# dotpin-memif meets the generator on a memif link instead: DPDK to DPDK, no kernel in the path.
sysctl -qw net.ipv4.ip_forward=1

# --- PKI and the upstreams (genuine and impostor), on CPU 1
bash tests/pki/make-test-pki.sh "$work/pki" >/dev/null 2>&1
pki=$work/pki
pin=$(cat "$pki/leaf-p256.pin")
start_upstream() {  # name key chain port
  local dir=$work/$1
  mkdir -p "$dir"
  sh tests/pki/unbound-dot-conf.sh "$dir" "$4" "$2" "$3" |
    sed 's|  local-zone: "dotpin.test." static|&\n  local-zone: "bench.dotpin.test." redirect\n  local-data: "bench.dotpin.test. 300 IN A 198.18.0.10"|' \
    > "$dir/unbound.conf"
  # unbound 1.17 does not set TCP_NODELAY on TLS connections: without the shim every system's misses
  # would measure Nagle + delayed ACK on the upstream (unbound 1.17 sets no TCP_NODELAY on TLS), not the system.
  LD_PRELOAD=$src/build/bench/loadgen/libdotpin_nodelay_shim.so taskset -c 1 unbound -d -c "$dir/unbound.conf" >/dev/null 2>&1 &
  pids+=($!)
}
start_upstream upstream "$pki/leaf-p256.key" "$pki/leaf-p256.chain.pem" 8853
start_upstream impostor "$pki/impostor.key" "$pki/impostor.chain.pem" 8854
sleep 1

# --- the systems: start_SYSTEM PORT writes its config and starts it on CPU 1, echoing its PID
start_unbound() {
  local d=$work/sut-unbound
  mkdir -p "$d"
  cat > "$d/unbound.conf" <<CONF
server:
  interface: ${addr[unbound]}@53
  access-control: 198.18.0.0/15 allow
  do-daemonize: no
  chroot: ""
  username: ""
  directory: "$d"
  pidfile: "$d/unbound.pid"
  use-syslog: no
  logfile: "$d/unbound.log"
  num-threads: 1
  module-config: "iterator"
  do-ip6: no
  do-not-query-localhost: no
  local-zone: "test." nodefault
  tls-cert-bundle: "$pki/ca-bundle.pem"
forward-zone:
  name: "."
  forward-addr: 127.0.0.1@$1#dns.dotpin.test
  forward-tls-upstream: yes
remote-control:
  control-enable: no
CONF
  taskset -c 1 unbound -d -c "$d/unbound.conf" >/dev/null 2>&1 &
  echo $!
}
start_knot() {
  local d=$work/sut-knot
  mkdir -p "$d/cache"
  cat > "$d/kresd.conf" <<CONF
net.listen('${addr[knot]}', 53, { kind = 'dns' })
trust_anchors.remove('.')
cache.open(100 * MB, 'lmdb://$d/cache')
policy.add(policy.all(policy.TLS_FORWARD({{'127.0.0.1@$1', pin_sha256 = {'$pin'}, hostname = 'dns.dotpin.test'}})))
CONF
  taskset -c 1 kresd -n -c "$d/kresd.conf" "$d" >"$d/log" 2>&1 &
  echo $!
}
start_dnsdist() {
  local d=$work/sut-dnsdist
  mkdir -p "$d"
  cat > "$d/dnsdist.conf" <<CONF
setLocal('${addr[dnsdist]}:53')
setACL({'198.18.0.0/15'})
setSecurityPollSuffix('')
-- Forced up: its health check asks for a.root-servers.net, which the test upstream cannot resolve.
newServer({address = '127.0.0.1:$1', tls = 'openssl', subjectName = 'dns.dotpin.test', caStore = '$pki/ca-bundle.pem',
           validateCertificates = true, maxInFlight = 100}):setUp()
getPool(''):setCache(newPacketCache(100000, {maxTTL = 86400}))
CONF
  taskset -c 1 dnsdist --supervised --disable-syslog -C "$d/dnsdist.conf" >"$d/log" 2>&1 &
  echo $!
}
start_stubby() {
  local d=$work/sut-stubby
  mkdir -p "$d"
  cat > "$d/stubby.yml" <<CONF
resolution_type: GETDNS_RESOLUTION_STUB
dns_transport_list: [GETDNS_TRANSPORT_TLS]
tls_authentication: GETDNS_AUTHENTICATION_REQUIRED
tls_query_padding_blocksize: 128
idle_timeout: 10000
round_robin_upstreams: 0
listen_addresses: [${addr[stubby]}@53]
upstream_recursive_servers:
  - address_data: 127.0.0.1
    tls_port: $1
    tls_auth_name: "dns.dotpin.test"
    tls_pubkey_pinset:
      - digest: "sha256"
        value: $pin
CONF
  taskset -c 1 stubby -C "$d/stubby.yml" >"$d/log" 2>&1 &
  echo $!
}
start_dotpin-memif() { start_dotpin "$1" memif; }
start_dotpin() {
  local d=$work/sut-dotpin vdev="--vdev=net_tap0,iface=cmpsut" device=net_tap0
  if [ "${2:-}" = memif ]; then
    vdev="--vdev=net_memif0,role=server,socket=$work/memif.sock,socket-abstract=no"
    device=net_memif0
  fi
  mkdir -p "$d"
  printf '[[upstream]]\nname = "up"\naddress = "127.0.0.1:%s"\nauth_name = "dns.dotpin.test"\npin = [ { sha256 = "%s" } ]\n' \
    "$1" "$pin" > "$d/pins.toml"
  cat > "$d/dotpind.toml" <<CONF
[dpdk]
eal_args = ["--lcores", "0@1,1@1", "--no-huge", "-m", "256", "--no-pci", "--file-prefix", "cmp-sut-$$",
            "--log-level", "error", "$vdev"]
[port]
device = "$device"
ipv4 = ["${addr[dotpin]}"]
mbufs = 8191
[acl]
allow = ["198.18.0.0/23"]
[upstreams]
pin_file = "$d/pins.toml"
[control]
socket = "$d/dotpind.sock"
metrics = ""
CONF
  "$dotpind" --config "$d/dotpind.toml" >"$d/log" 2>&1 &
  local pid=$!
  for _ in $(seq 100); do grep -q "dotpind: ready" "$d/log" && break; sleep 0.1; done
  if [ "$device" = net_tap0 ]; then
    ip addr add 198.18.1.1/24 dev cmpsut
    ip link set cmpsut up
  fi
  echo $pid
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# run_load SYSTEM SCENARIO MIX -> one JSON line in $work/results.jsonl
run_load() {
  local sys=$1 scenario=$2 mix=$3 pid=$4 extra=${5:-}
  local t0 t1 json
  t0=$(cpu_ticks "$pid")
  # dotpind is a DPDK application: the generator meets it on a memif link (shared memory, DPDK to
  # DPDK); the others are kernel-socket servers, met through a tap on the bridge.
  local port=net_tap0 vdev=net_tap0,iface=cmpgen,mac=02:62:65:6e:63:68 via=()
  [ "$sys" != dotpin ] || via=(--gateway 198.18.0.1)
  [ "$sys" != dotpin-memif ] || { port=net_memif0; vdev=net_memif0,role=client,socket=$work/memif.sock,socket-abstract=no; }
  taskset -c 0 "$bench" udp --device "$port" --dst "${addr[$sys]}" --src 198.18.0.2 --src-count 4 "${via[@]}" \
    --mix "$mix" --duration "$seconds" --outstanding 200 --timeout 2000 --json $extra \
    --latency-cdf "$work/cdf-$scenario-$sys.csv" -- \
    -l 0 --no-huge -m 256 --no-pci --file-prefix "cmp-gen-$$" --log-level error "--vdev=$vdev" \
    > "$work/run.json" 2>"$work/run.err" &
  local gen=$!
  if [ "$port" = net_tap0 ]; then
    for _ in $(seq 100); do ip link show cmpgen >/dev/null 2>&1 && break; sleep 0.02; done
    ip link set cmpgen master br0 up
  fi
  wait "$gen" || {
    log "$sys $scenario: generator failed: $(tail -1 "$work/run.err"); the system's log ends:"
    tail -3 "$work/sut-${sys%-memif}/log" "$work/sut-$sys/unbound.log" 2>/dev/null >&2 || true
    return 0
  }
  t1=$(cpu_ticks "$pid")
  python3 - "$sys" "$scenario" "$((t1 - t0))" "$(getconf CLK_TCK)" "$work/run.json" >> "$work/results.jsonl" <<'PY'
import json, sys
sysname, scenario, ticks, hz, path = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
r = json.load(open(path))
cpu = ticks / hz
r.update(system=sysname, scenario=scenario, sut_cpu_seconds=cpu,
         sut_cpu_us_per_answer=(1e6 * cpu / r["answered"]) if r["answered"] else None)
print(json.dumps(r))
PY
  rm -rf "/var/run/dpdk/cmp-gen-$$"
}

stop() { kill "$1" 2>/dev/null || true; for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done; kill -9 "$1" 2>/dev/null || true; }

: > "$work/results.jsonl"
# Rounds: every system in turn, REPEAT times (the machine's noise moves between rounds, not within
# one system's runs); the report gives the median round with the range.
for round in $(seq "$repeat"); do
  for sys in "${systems[@]}"; do
    log "round $round/$repeat, $sys: hit and miss runs (${seconds} s each) against the genuine upstream"
    pid=$("start_$sys" 8853)
    pids+=("$pid")
    sleep 2
    run_load "$sys" warm "unique:1000" "$pid" "--max-queries 1000"
    run_load "$sys" hit "random:1000" "$pid"
    run_load "$sys" miss "unique:2000000:$sys-$round-miss.bench.dotpin.test" "$pid"
    stop "$pid"
    rm -rf "/var/run/dpdk/cmp-sut-$$"
  done
done
for sys in "${systems[@]}"; do
  log "$sys: the upstream's address answered by the impostor"
  before=$(grep -c "info: " "$work/impostor/unbound.log" 2>/dev/null || true)
  pid=$("start_$sys" 8854)
  pids+=("$pid")
  sleep 2
  run_load "$sys" impostor "unique:50:$sys-imp.bench.dotpin.test" "$pid" "--max-queries 50"
  after=$(grep -c "info: " "$work/impostor/unbound.log" 2>/dev/null || true)
  echo "{\"system\": \"$sys\", \"scenario\": \"impostor-log\", \"impostor_queries\": $((after - before))}" >> "$work/results.jsonl"
  stop "$pid"
  rm -rf "/var/run/dpdk/cmp-sut-$$"
done

cp "$work/results.jsonl" "$out/compare.jsonl"
cp "$work"/cdf-hit-*.csv "$work"/cdf-miss-*.csv "$out/" 2>/dev/null || true
python3 "$src/bench/compare/report.py" "$out" "$(nproc) vCPU, $(uname -r), $(date -u +%Y-%m-%d)" "$seconds" "$repeat"
log "wrote $out/compare.md"
