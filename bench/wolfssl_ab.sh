#!/usr/bin/env bash
# Same-run A/B of the two wolfSSL builds (docs/benchmarks.md, "TLS record cost"): the record,
# DoT-connection, shard and pipeline benchmarks of build A (Debian's generic libwolfssl,
# -Dwolfssl=system) and build B (the AES-NI build, -Dwolfssl=aesni), run interleaved ROUNDS times
# (A B A B ...), the medians per benchmark and the ratio B/A printed as one Markdown table.
# The record benchmark needs no second build: build B links it against both (dotpin_record_bench
# and dotpin_record_system_bench).
#
# Usage: bench/wolfssl_ab.sh SYSTEM_BUILD AESNI_BUILD [ROUNDS [NAMES]]   (NAMES: "record dot shard pipeline")
#   e.g. meson setup /tmp/build-sys -Dwolfssl=system -Dtests=false &&
#        ninja -C /tmp/build-sys bench/dotpin_dot_bench bench/dotpin_shard_bench bench/dotpin_pipeline_bench &&
#        bench/wolfssl_ab.sh /tmp/build-sys build 3
# Run it on an otherwise idle machine; the one-core benchmarks are pinned to CPU 1.
set -euo pipefail
a=${1:?system build dir}
b=${2:?aesni build dir}
rounds=${3:-3}
only=${4:-record dot shard pipeline}
# Both sides use build B's test PKI (a build of the benchmarks alone does not make one).
export DOTPIN_TEST_PKI=${DOTPIN_TEST_PKI:-$(realpath "$b")/tests/pki/test-pki}
out=$(mktemp -d /tmp/dotpin-wolfssl-ab.XXXXXX)
trap 'rm -rf "$out"' EXIT

# name; binary in A; binary in B; pin to a CPU?; filter; min time
runs=(
  "record;$b/bench/dotpin_record_system_bench;$b/bench/dotpin_record_bench;taskset -c 1;Seal(Open)?/tls1[23]_.*/(128|468|1460)$;0.1"
  "dot;$a/bench/dotpin_dot_bench;$b/bench/dotpin_dot_bench;taskset -c 1;FullHandshake/0|Resumption/0|ForwardBatch/(1|16)$;0.3"
  "shard;$a/bench/dotpin_shard_bench;$b/bench/dotpin_shard_bench;;.;0.5"
  "pipeline;$a/bench/dotpin_pipeline_bench;$b/bench/dotpin_pipeline_bench;;Miss;0.5"
)
for r in $(seq "$rounds"); do
  for spec in "${runs[@]}"; do
    IFS=';' read -r name bin_a bin_b pin filter min <<<"$spec"
    [[ " $only " == *" $name "* ]] || continue
    for side in A B; do
      bin=$bin_a; [ "$side" = B ] && bin=$bin_b
      [ -x "$bin" ] || { echo "wolfssl_ab: missing $bin" >&2; exit 1; }
      # shellcheck disable=SC2086
      $pin "$bin" --benchmark_filter="$filter" --benchmark_min_time="$min" --benchmark_format=json \
        > "$out/$name.$side.$r.json" 2>/dev/null
    done
  done
  echo "wolfssl_ab: round $r of $rounds done" >&2
done

python3 - "$out" <<'PY'
import collections, glob, json, os, statistics, sys
out = sys.argv[1]
vals = collections.defaultdict(lambda: {"A": [], "B": []})
order = []
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
    side = path.rsplit(".", 3)[1]
    for b in json.load(open(path))["benchmarks"]:
        if b.get("error_occurred"):
            sys.exit(f"{b['name']}: {b.get('error_message')}")
        key = b["name"]
        if key not in vals:
            order.append(key)
        # items/s where the benchmark counts items, else time per iteration
        v = b.get("items_per_second") or b["real_time"]
        vals[key][side].append(v)
        # process CPU per answered query (shard, pipeline); the worker's TSC cycles per query (pipeline)
        for counter, label in (("cpu_us_per_query", "CPU µs per query"), ("cycles_per_query", "worker cycles per query")):
            if counter in b:
                ck = f"{key} ({label})"
                if ck not in vals:
                    order.append(ck)
                vals[ck][side].append(b[counter])
def fmt(v):
    return f"{v/1e6:.3g}M" if v >= 1e6 else f"{v/1e3:.3g}k" if v >= 1e3 else f"{v:.3g}"
print("| benchmark | generic (A) | AES-NI (B) | B/A | A range | B range |")
print("|---|---:|---:|---:|---|---|")
for k in order:
    a, b = vals[k]["A"], vals[k]["B"]
    if not a or not b:
        continue
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"| `{k}` | {fmt(ma)} | {fmt(mb)} | {mb/ma:.2f} | {fmt(min(a))}–{fmt(max(a))} | {fmt(min(b))}–{fmt(max(b))} |")
print("\nValues: items (records, handshakes, queries) per second where the benchmark counts items, else ns per iteration; medians of the rounds.")
PY
