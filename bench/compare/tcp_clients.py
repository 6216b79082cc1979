#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Client-side DNS over TCP and DoT capacity, same run, one machine: dotpind (cache hits through its
exception path: tap -> its TCP service -> lcore cache -> tap; for DoT the service's wolfSSL server
too) next to its own UDP fast path and next to Unbound answering the same names from a local zone
over UDP, TCP and DoT on loopback, and Knot Resolver (when kresd is installed: `scripts/install-deps.sh
--compare`) answering them from its cache (it forwards to that Unbound once, then hits) over UDP,
TCP and DoT on its own address (each system on its own best path). dnsperf drives every row the same way: N seconds, C TCP connections (or UDP
sockets), Q queries outstanding, no rate cap (saturation); the generator is pinned to CPU 0 and
dotpind's worker lcore to CPU 1. Prints a table with answers/s and the ratio to Unbound over TCP.

Usage (root; from a build directory with dotpind built):
  python3 ../bench/compare/tcp_clients.py [SECONDS (default 5)] [ROUNDS (default 3)]
Reports medians over the rounds (rows interleaved per round: the machine's noise hits all alike)."""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "tests", "integration"))
os.environ.setdefault("DOTPIN_TEST_PKI", os.path.join(os.getcwd(), "tests", "pki", "test-pki"))
os.environ.setdefault("DOTPIND", os.path.join(os.getcwd(), "control", "dotpind"))
os.environ.setdefault("DOTPINCTL", os.path.join(os.getcwd(), "control", "dotpinctl"))
from dotpin_harness import (APPLIANCE_V4, UNBOUND_CONF, Dotpind, Netns, UnboundDot, free_port, kdig, parse_dnsperf,  # noqa: E402
                            pki, stop_process, wait_for_tcp, write_pin_file)

UNBOUND_PLAIN = "198.18.0.5"
KNOT = "198.18.0.6"


def start_knot(work):
    """kresd on CPU 1: plain DNS and DoT (the test CA's resolver certificate) on KNOT, forwarding
    to Unbound's plain listener, with a cache (the rows measure its hits)."""
    d = os.path.join(work, "kresd")
    os.makedirs(os.path.join(d, "cache"), exist_ok=True)
    with open(os.path.join(d, "kresd.conf"), "w") as f:
        f.write(f"""net.listen('{KNOT}', 53, {{ kind = 'dns' }})
net.listen('{KNOT}', 853, {{ kind = 'tls' }})
net.tls('{pki("resolver.chain.pem")}', '{pki("resolver.key")}')
trust_anchors.remove('.')
cache.open(100 * MB, 'lmdb://{d}/cache')
policy.add(policy.all(policy.FORWARD('{UNBOUND_PLAIN}')))
""")
    subprocess.run(["ip", "addr", "add", f"{KNOT}/32", "dev", "lo"], check=True)
    return subprocess.Popen(["taskset", "-c", "1", "kresd", "-n", "-c", os.path.join(d, "kresd.conf"), d],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def dnsperf(server, mode, qfile, seconds, clients=8, outstanding=64, port=None):
    if port is None:
        port = 853 if mode == "dot" else 53
    r = subprocess.run(["taskset", "-c", "0", "dnsperf", "-m", mode, "-s", server, "-p", str(port), "-d", qfile, "-l", str(seconds),
                        "-c", str(clients), "-q", str(outstanding), "-t", "3"], capture_output=True, text=True,
                       timeout=seconds + 60)
    p = parse_dnsperf(r.stdout)
    if p["completed"] is None:
        raise RuntimeError(r.stdout + r.stderr)
    return p["completed"] / seconds, p["lost"]


def main():
    seconds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    netns = Netns("tcpbench")
    work = tempfile.mkdtemp(prefix="dotpin-tcpbench-")
    upstream = UnboundDot(pki("leaf-p256.key"), pki("leaf-p256.chain.pem")).start()
    plain = knot = None
    try:
        # Unbound for the clients: the same zone, no query log (it would cost it a write per query).
        subprocess.run(["ip", "addr", "add", f"{UNBOUND_PLAIN}/32", "dev", "lo"], check=True)
        pdir = tempfile.mkdtemp(prefix="dotpin-tcpbench-unbound-")
        unbound_tls = free_port()  # Unbound's DoT for the clients, on 127.0.0.1
        conf = subprocess.run([UNBOUND_CONF, pdir, str(unbound_tls), pki("leaf-p256.key"), pki("leaf-p256.chain.pem"),
                               "198.18.0.10", f"{UNBOUND_PLAIN}@53"], capture_output=True, text=True, check=True).stdout
        conf = conf.replace("log-queries: yes", "log-queries: no").replace("  verbosity: 1", "  verbosity: 0\n  num-threads: 1")
        with open(os.path.join(pdir, "unbound.conf"), "w") as f:
            f.write(conf)
        plain = subprocess.Popen(["taskset", "-c", "1", "unbound", "-d", "-c", os.path.join(pdir, "unbound.conf")],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        pin_file = os.path.join(work, "pins.toml")
        write_pin_file(pin_file, [("a", upstream, ["leaf-p256"])])
        dot = f'\n[dot]\ncertificate = "{pki("resolver.chain.pem")}"\nkey = "{pki("resolver.key")}"\n'
        d = Dotpind(work, pin_file, tag="bench", lcores=("--lcores", "0@0,1@1"), extra_config=dot).start()
        try:
            qfile = os.path.join(work, "q.txt")
            with open(qfile, "w") as f:
                f.write("www.dotpin.test A\nbig.dotpin.test TXT\n")
            if shutil.which("kresd"):
                knot = start_knot(work)
                time.sleep(1.0)
            for name, t in (("www.dotpin.test", "A"), ("big.dotpin.test", "TXT")):
                kdig(f"@{APPLIANCE_V4}", "+tcp", name, t)  # warm dotpind's cache
                if knot:
                    kdig(f"@{KNOT}", "+tcp", name, t)  # and Knot's
            systems = (("dotpind udp", APPLIANCE_V4, "udp", None), ("dotpind tcp", APPLIANCE_V4, "tcp", None),
                       ("dotpind dot", APPLIANCE_V4, "dot", None), ("unbound udp", UNBOUND_PLAIN, "udp", None),
                       ("unbound tcp", UNBOUND_PLAIN, "tcp", None), ("unbound dot", "127.0.0.1", "dot", unbound_tls))
            if knot:
                systems += (("knot udp", KNOT, "udp", None), ("knot tcp", KNOT, "tcp", None), ("knot dot", KNOT, "dot", None))
            rows = {s[0]: [] for s in systems}
            for _ in range(rounds):
                for label, server, mode, port in systems:
                    qps, lost = dnsperf(server, mode, qfile, seconds, port=port)
                    rows[label].append((qps, lost))
            base = {m: statistics.median(q for q, _ in rows[f"unbound {m}"]) for m in ("udp", "tcp", "dot")}
            print(f"{seconds} s per run, {rounds} rounds, dnsperf -c 8 -q 64 on CPU 0; medians")
            print(f"{'system':<14}{'answers/s':>12}{'lost':>8}{'vs unbound, same transport':>28}")
            for label, runs in rows.items():
                qps = statistics.median(q for q, _ in runs)
                ratio = qps / base[label.split()[1]]
                print(f"{label:<14}{qps:>12.0f}{max(l for _, l in runs):>8}{ratio:>27.2f}x")
        finally:
            summary = d.stop()
            for kind in ("tcp: ", "dot: "):
                line = [x for x in summary.splitlines() if x.startswith(kind)]
                print(line[0] if line else f"dotpind printed no {kind.strip()} line", file=sys.stderr)
    finally:
        if plain:
            stop_process(plain, 5)
        if knot:
            stop_process(knot, 5)
        upstream.cleanup()
        netns.close()


if __name__ == "__main__":
    main()
