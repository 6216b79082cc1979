#!/usr/bin/env bash
# Runs every libFuzzer target meson built for SECONDS each (default 30), seeded from tests/fuzz/corpus
# and the test PKI; ends with "fuzz summary: ok=N failed=M". Usage: scripts/run-fuzzers.sh BUILD_DIR [SECONDS]
# BUILD_DIR must be configured with clang and -Dfuzzers=true (scripts/test.sh does it).
# For long runs: FUZZ_TARGETS="pem tlsa" runs only those; FUZZ_OUT=DIR leaves each target's grown
# corpus in DIR/TARGET (minimise it into tests/fuzz/corpus with -merge=1 before committing) and its
# log in DIR/TARGET.log.
set -euo pipefail
build=${1:?usage: run-fuzzers.sh BUILD_DIR [SECONDS]}
seconds=${2:-30}
src=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/dotpin-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT

pki="$build/tests/pki/test-pki"
[ -f "$pki/.done" ] || "$src/tests/pki/make-test-pki.sh" "$pki"

mkdir -p "$work/certificate" "$work/chain_verify" "$work/pem"
for crt in "$pki"/*.crt; do
  openssl x509 -in "$crt" -outform der -out "$work/certificate/$(basename "$crt" .crt).der"
  cp "$crt" "$work/pem/"
done
cp "$pki"/*.chain.pem "$pki"/spare.pub "$work/pem/"
# Chains as fuzz_chain_verify reads them: flags, pin mask, then DER certificates back to back; the
# genuine and hostile chains of the test PKI, each with pins on every element, in both modes.
for chain in "$pki"/*.chain.pem "$pki"/hostile/*.chain.pem; do
  stem=$(basename "$chain" .chain.pem)
  der=$(mktemp "$work/der.XXXXXX")
  # Split the PEM into its certificate blocks (text around them, as openssl ca writes, is skipped)
  # and convert each to DER, in order.
  awk -v dir="$work" -v stem="$stem" '/-----BEGIN CERTIFICATE-----/{n++; on=1}
    on{f = sprintf("%s/%s.part%02d.pem", dir, stem, n); print > f} /-----END CERTIFICATE-----/{on=0; close(f)}' "$chain"
  for part in "$work/$stem".part*.pem; do
    openssl x509 -in "$part" -outform der >> "$der"; rm -f "$part"
  done
  # Pins on every element, and on every element but the leaf (so that a match has to be above it),
  # in pin-only mode and in CA mode with the root as the last, anchor, certificate.
  for mask in ff fe; do
    { printf "\\x00\\x$mask"; cat "$der"; } > "$work/chain_verify/$stem-pin-$mask"
    { printf "\\x01\\x$mask"; cat "$der"; openssl x509 -in "$pki/root.crt" -outform der; } > "$work/chain_verify/$stem-ca-$mask"
  done
  # The same with scoped pins of other forms (flags bits 1-2 form, 3-4 scope; fuzz_chain_verify.cc):
  # certificate SHA-256 at leaf scope (DANE-EE 3 0 1), SPKI SHA-512 at issuer scope (DANE-TA 2 1 2).
  for flags in 0a 14; do
    { printf "\\x$flags\\xff"; cat "$der"; } > "$work/chain_verify/$stem-pin-$flags"
    { printf "\\x$(printf %02x $((0x$flags | 1)))\\xfe"; cat "$der"; openssl x509 -in "$pki/root.crt" -outform der; } > "$work/chain_verify/$stem-ca-$flags"
  done
  rm -f "$der"
done
# Seeds kept in the repository: tests/fuzz/corpus/TARGET/ for fuzz_TARGET.
for dir in "$src"/tests/fuzz/corpus/*/; do
  mkdir -p "$work/$(basename "$dir")"
  cp "$dir"* "$work/$(basename "$dir")/"
done

# The targets are what meson built (tests/fuzz/meson.build is the one list); each needs a seed
# directory made above.
targets=()
for bin in "$build"/tests/fuzz/fuzz_*; do
  [ -f "$bin" ] && [ -x "$bin" ] || continue
  name=$(basename "$bin" | sed 's/^fuzz_//')
  if [ -n "${FUZZ_TARGETS:-}" ] && ! [[ " $FUZZ_TARGETS " == *" $name "* ]]; then continue; fi
  targets+=("$name")
done
[ ${#targets[@]} -gt 0 ] || { echo "run-fuzzers: no fuzz targets in $build/tests/fuzz" >&2; exit 1; }
ok=0
bad=0
for target in "${targets[@]}"; do
  [ -d "$work/$target" ] || { echo "fuzz_$target: no seed corpus (add tests/fuzz/corpus/$target/)"; bad=$((bad + 1)); continue; }
  bin="$build/tests/fuzz/fuzz_$target"
  echo "== fuzz_$target for ${seconds}s"
  # -rss_limit_mb keeps a runaway input from eating the machine; artifacts land in $work.
  if ! "$bin" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 \
       -artifact_prefix="$work/crash-$target-" "$work/$target" 2>"$work/$target.log"; then
    echo "fuzz_$target FAILED:"; tail -50 "$work/$target.log"
    mkdir -p "$src/fuzz-artifacts" && cp "$work"/crash-* "$src/fuzz-artifacts/" 2>/dev/null || true
    bad=$((bad + 1))
  else
    grep -E "stat::number_of_executed_runs|cov:" "$work/$target.log" | tail -2
    ok=$((ok + 1))
  fi
  if [ -n "${FUZZ_OUT:-}" ]; then
    mkdir -p "$FUZZ_OUT" && rm -rf "${FUZZ_OUT:?}/$target"
    cp -r "$work/$target" "$FUZZ_OUT/$target" && cp "$work/$target.log" "$FUZZ_OUT/$target.log"
  fi
done
# Read by scripts/test.sh: one line with the counts.
echo "fuzz summary: ok=$ok failed=$bad"
[ "$bad" -eq 0 ]
