#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A long soak of the real appliance (issue 19.7): dotpind on net_tap in a network namespace, two
real unbound DoT upstreams in its pool, dnsperf at a bounded rate for --minutes, a `pins reload`
every --reload-every seconds (the pin file alternates between the upstreams' key alone and the key
plus a backup pin, so each reload publishes a new generation), and one upstream killed with SIGKILL
every --kill-every seconds and started again --down seconds later (they take turns).

Every --sample seconds it records dotpind's RSS, open fds and threads, and its packet counters. At
the end it checks, and exits 1 if any fails:
  - every query dnsperf sent was answered (NOERROR, NXDOMAIN or SERVFAIL): dnsperf lost none, and
    dotpind's own counters account for every query it received
  - every reload was accepted (exit 0)
  - fds did not grow: the last sample has no more open fds than the most seen in the first quarter
  - memory is flat: the largest RSS of the last quarter is within --rss-slack-mb of the first
    quarter's largest (after the first --warmup seconds, while the cache fills)
and prints the samples (CSV, --csv FILE) and a summary. Run as root, from a build directory:

  DOTPIN_TEST_PKI=$PWD/tests/pki/test-pki DOTPIND=$PWD/control/dotpind DOTPINCTL=$PWD/control/dotpinctl \\
    python3 ../tests/soak/soak.py --minutes 30 --qps 2000

Nothing is timed as a pass condition; the figures go to docs/operations.md."""

import argparse
import csv
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from dotpin_harness import APPLIANCE_V4, Dotpind, Netns, UnboundDot, parse_dnsperf, pki, write_pin_file  # noqa: E402


COUNTERS = ("rx_packets", "queries", "cache_hits", "forwarded", "upstream_answers", "upstream_servfails")


def sample(pid, t, dotpind):
    """One row: dotpind's RSS, open fds and threads from /proc, and its lcores' counters (summed)."""
    with open(f"/proc/{pid}/status") as f:
        status = f.read()
    row = {"t": round(t, 1), "rss_kb": int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)),
           "fds": len(os.listdir(f"/proc/{pid}/fd")), "threads": int(re.search(r"Threads:\s+(\d+)", status).group(1))}
    code, st = dotpind.ctl("stats")
    if code != 0:
        raise RuntimeError(f"dotpinctl stats failed: {st}")
    for name in COUNTERS:
        row[name] = sum(int(l["counters"].get(name, 0)) for l in st["result"]["lcores"])
    return row


def write_queries(path, names, seed=19):
    """A query mix for dnsperf: a quarter www.dotpin.test A (cache hits), the rest unique names that
    unbound answers NXDOMAIN (misses first, then negative-cache hits for 60 s), so upstream traffic
    never stops."""
    rnd = random.Random(seed)
    with open(path, "w") as f:
        for i in range(names):
            if rnd.random() < 0.25:
                f.write("www.dotpin.test A\n")
            else:
                f.write(f"soak{i}.dotpin.test {rnd.choice(['A', 'AAAA', 'TXT'])}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--qps", type=int, default=2000)
    ap.add_argument("--reload-every", type=float, default=60)
    ap.add_argument("--kill-every", type=float, default=300)
    ap.add_argument("--down", type=float, default=20, help="seconds a killed upstream stays down")
    ap.add_argument("--sample", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=60)
    ap.add_argument("--rss-slack-mb", type=float, default=8)
    ap.add_argument("--names", type=int, default=400000)
    ap.add_argument("--cache-entries", type=int, default=0,
                    help="[cache] entries (0: dotpind's default); small, the cache is full within seconds and "
                         "cannot hide other growth (the kill-heavy run in docs/operations.md)")
    ap.add_argument("--lcores", default="0@0,1@0", help="EAL --lcores for dotpind (default: both on CPU 0)")
    ap.add_argument("--csv")
    args = ap.parse_args()
    seconds = int(args.minutes * 60)

    netns = Netns("soak")
    work = tempfile.mkdtemp(prefix="dotpin-soak-")
    ups = [UnboundDot(pki("leaf-p256.key"), pki("leaf-p256.chain.pem")) for _ in range(2)]
    dotpind = perf = None
    samples, events = [], []
    reload_failures = []
    try:
        for u in ups:
            u.start()
        pins = os.path.join(work, "pins.toml")
        variants = [[("u1", ups[0], ["leaf-p256"]), ("u2", ups[1], ["leaf-p256"])],
                    [("u1", ups[0], ["leaf-p256", "spare"]), ("u2", ups[1], ["leaf-p256", "spare"])]]
        write_pin_file(pins, variants[0])
        queries = os.path.join(work, "queries.txt")
        write_queries(queries, args.names)
        dotpind = Dotpind(work, pins, tag="soak", lcores=("--lcores", args.lcores),
                          upstreams_extra="probe_interval_ms = 500\n",
                          extra_config=f"\n[cache]\nentries = {args.cache_entries}\n" if args.cache_entries else "").start()
        pid = dotpind.proc.pid
        perf_out = open(os.path.join(work, "dnsperf.out"), "w")
        perf = subprocess.Popen(["dnsperf", "-s", APPLIANCE_V4, "-d", queries, "-l", str(seconds), "-Q", str(args.qps),
                                 "-t", "5", "-q", "200", "-S", "60"], stdout=perf_out, stderr=subprocess.STDOUT)
        start = time.monotonic()
        next_sample = next_reload = start
        next_reload += args.reload_every
        next_kill = start + args.kill_every
        down = None  # (upstream index, time to restart)
        victim = 0
        generation = 0
        while perf.poll() is None:
            now = time.monotonic()
            t = now - start
            if now >= next_sample:
                samples.append(sample(pid, t, dotpind))
                next_sample += args.sample
            if now >= next_reload:
                generation ^= 1
                write_pin_file(pins, variants[generation])
                code, out = dotpind.ctl("pins", "reload")
                events.append((round(t, 1), f"reload -> exit {code}"))
                if code != 0:
                    reload_failures.append((t, out))
                next_reload += args.reload_every
            if down is None and now >= next_kill:
                u = ups[victim]
                u.proc.send_signal(signal.SIGKILL)
                u.proc.wait()
                events.append((round(t, 1), f"killed u{victim + 1}"))
                down = (victim, now + args.down)
                victim ^= 1
                next_kill += args.kill_every
            if down is not None and now >= down[1]:
                ups[down[0]].stop()
                ups[down[0]].start()
                events.append((round(t, 1), f"restarted u{down[0] + 1}"))
                down = None
            time.sleep(0.2)
        perf_out.close()
        with open(os.path.join(work, "dnsperf.out")) as f:
            perf_text = f.read()
        samples.append(sample(pid, time.monotonic() - start, dotpind))
    finally:
        if perf and perf.poll() is None:
            perf.kill()
            perf.wait()
        if dotpind:
            dotpind.stop()
        for u in ups:
            u.cleanup()
        netns.close()
    summary = dotpind.summary

    result = parse_dnsperf(perf_text)
    print(perf_text[perf_text.find("Statistics:"):] if "Statistics:" in perf_text else perf_text)
    print("\n".join(l for l in summary.splitlines() if l.startswith("  ") or "summary" in l))
    for e in events:
        print(f"  t={e[0]:>7}s {e[1]}")
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(samples[0].keys()))
            w.writeheader()
            w.writerows(samples)

    problems = []
    if result["sent"] is None or result["lost"] is None:
        problems.append("dnsperf output not understood")
    else:
        answered = sum(result["codes"].values())
        if result["lost"] != 0:
            problems.append(f"dnsperf lost {result['lost']} of {result['sent']} queries")
        if answered != result["completed"]:
            problems.append(f"response codes add up to {answered}, completed {result['completed']}")
        other = {k: v for k, v in result["codes"].items() if k not in ("NOERROR", "NXDOMAIN", "SERVFAIL")}
        if other:
            problems.append(f"unexpected response codes: {other}")
        # dotpind's side: it received every query, and each one has an outcome in its counters.
        queries = dotpind.counter("queries")
        outcomes = dotpind.counter("cache_hits") + dotpind.counter("forwarded") + dotpind.counter("merged")
        print(f"dotpind: queries={queries} outcomes={outcomes} tx_packets={dotpind.counter('tx_packets')} "
              f"stale_answers={dotpind.counter('stale_answers')} upstream_servfails={dotpind.counter('upstream_servfails')}")
        if queries != result["sent"]:
            problems.append(f"dotpind counted {queries} queries, dnsperf sent {result['sent']}")
        if outcomes != queries:
            problems.append(f"cache_hits + forwarded + merged = {outcomes}, queries = {queries}")
        for name in ("tx_dropped", "no_mbuf", "shutdown_unanswered", "loop_aborted", "inflight_full", "shard_full"):
            if dotpind.counter(name):
                problems.append(f"dotpind counted {name}={dotpind.counter(name)}")
    if reload_failures:
        problems.append(f"{len(reload_failures)} reload(s) failed: {reload_failures[:2]}")
    steady = [s for s in samples if s["t"] >= args.warmup]
    if len(steady) >= 8:
        q = len(steady) // 4
        first, last = steady[:q], steady[-q:]
        rss_first, rss_last = max(s["rss_kb"] for s in first), max(s["rss_kb"] for s in last)
        fd_first, fd_last = max(s["fds"] for s in first), samples[-1]["fds"]
        print(f"RSS (kB): first quarter max {rss_first}, last quarter max {rss_last}, "
              f"overall min {min(s['rss_kb'] for s in steady)} max {max(s['rss_kb'] for s in steady)}")
        print(f"fds: first quarter max {fd_first}, last {fd_last}, overall max {max(s['fds'] for s in steady)}; "
              f"threads {min(s['threads'] for s in samples)}..{max(s['threads'] for s in samples)}")
        if rss_last - rss_first > args.rss_slack_mb * 1024:
            problems.append(f"RSS grew {rss_last - rss_first} kB (> {args.rss_slack_mb} MB)")
        if fd_last > fd_first:
            problems.append(f"open fds grew from {fd_first} to {fd_last}")
    else:
        problems.append(f"too few samples after warmup ({len(steady)}) to judge memory and fds")
    shutil.rmtree(work, ignore_errors=True)
    for p in problems:
        print("SOAK FAILED:", p)
    print("soak:", "ok" if not problems else "failed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
