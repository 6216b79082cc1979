#!/usr/bin/env bash
# Runs every libFuzzer target for SECONDS each (default 30), seeded from tests/fuzz/corpus and the
# test PKI. Usage: scripts/run-fuzzers.sh BUILD_DIR [SECONDS]
# BUILD_DIR must be configured with clang and -Dfuzzers=true (scripts/test.sh does it).
set -euo pipefail
build=${1:?usage: run-fuzzers.sh BUILD_DIR [SECONDS]}
seconds=${2:-30}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/dotpin-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT

pki="$build/tests/pki/test-pki"
[ -f "$pki/.done" ] || "$src/tests/pki/make-test-pki.sh" "$pki"

mkdir -p "$work/certificate" "$work/pem" "$work/pin_file" "$work/dns_message" "$work/packet"
for crt in "$pki"/*.crt; do
  openssl x509 -in "$crt" -outform der -out "$work/certificate/$(basename "$crt" .crt).der"
  cp "$crt" "$work/pem/"
done
cp "$pki"/*.chain.pem "$pki"/spare.pub "$work/pem/"
cp "$src"/tests/fuzz/corpus/pin_file/* "$work/pin_file/"
cp "$src"/tests/fuzz/corpus/dns_message/* "$work/dns_message/"
cp "$src"/tests/fuzz/corpus/packet/* "$work/packet/"

status=0
for target in certificate pem pin_file dns_message packet; do
  bin="$build/tests/fuzz/fuzz_$target"
  echo "== fuzz_$target for ${seconds}s"
  # -rss_limit_mb keeps a runaway input from eating the machine; artifacts land in $work.
  if ! "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
       -artifact_prefix="$work/crash-$target-" "$work/$target" 2>"$work/$target.log"; then
    echo "fuzz_$target FAILED:"; tail -50 "$work/$target.log"
    mkdir -p "$src/fuzz-artifacts" && cp "$work"/crash-* "$src/fuzz-artifacts/" 2>/dev/null || true
    status=1
  else
    grep -E "stat::number_of_executed_runs|cov:" "$work/$target.log" | tail -2
  fi
done
exit $status
