#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""dotpin-bench against a real server, its counts checked against the server's own log (unbound's
log-queries: one line per query it received). DoT mode over loopback TCP with the pinned engine
(persistent pipelined connections; reconnects with and without resumption; a wrong pin refused
before any query); UDP mode over a DPDK net_tap port in a namespace the test makes, to unbound's
plain DNS on the tap's kernel side."""

import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dotpin_harness import main, AUTH_NAME, ApplianceSuite, reference_pin  # noqa: E402

BENCH = os.environ.get("DOTPIN_BENCH", "dotpin-bench")


def bench(*args, timeout=120):
    r = subprocess.run([BENCH, *args], capture_output=True, text=True, timeout=timeout)
    return r.returncode, (json.loads(r.stdout) if r.returncode == 0 and "--json" in args else r.stdout + r.stderr)


@unittest.skipUnless(os.geteuid() == 0, "needs root for network namespaces and net_tap")
class DotpinBench(ApplianceSuite):
    TAG = "bench"
    SERVERS = {"server": ("leaf-p256.key", "leaf-p256.chain.pem")}

    def dot(self, *args):
        return bench("dot", "--server", f"127.0.0.1:{self.server.port}", "--name", AUTH_NAME, *args, "--json")

    def test_dot_pipelined_counts_match_the_servers_log(self):
        before = self.server.queries_logged()
        code, r = self.dot("--pin", reference_pin("leaf-p256"), "--connections", "2", "--pipeline", "32",
                           "--mix", "random:500", "--max-queries", "3000", "--duration", "20")
        self.assertEqual(code, 0, r)
        self.assertEqual(r["sent"], 3000, r)
        self.assertEqual(r["answered"], 3000, r)
        self.assertEqual(r["lost"], 0, r)
        self.assertEqual(r["rcodes"], {"NXDOMAIN": 3000}, r)
        self.assertEqual(r["handshakes"], 2, r)
        self.assertEqual(r["latency"]["samples"], 3000, r)
        self.assertGreater(r["latency"]["p99_ms"], 0, r)
        self.assertLessEqual(r["latency"]["p50_ms"], r["latency"]["p99_ms"], r)
        time.sleep(0.2)
        self.assertEqual(self.server.queries_logged() - before, 3000)

    def test_dot_reconnects_resume_the_pinned_session_unless_told_not_to(self):
        code, r = self.dot("--pin", reference_pin("leaf-p256"), "--queries-per-connection", "10",
                           "--max-queries", "200", "--pipeline", "10")
        self.assertEqual(code, 0, r)
        self.assertEqual(r["answered"], 200, r)
        self.assertEqual(r["handshakes"], 20, r)
        self.assertEqual(r["resumptions"], 19, r)  # every reconnect after the first
        code, r = self.dot("--pin", reference_pin("leaf-p256"), "--queries-per-connection", "10",
                           "--max-queries", "100", "--pipeline", "10", "--no-resume")
        self.assertEqual(code, 0, r)
        self.assertEqual((r["handshakes"], r["resumptions"]), (10, 0), r)

    def test_dot_wrong_pin_is_refused_before_any_query(self):
        before = self.server.queries_logged()
        code, out = bench("dot", "--server", f"127.0.0.1:{self.server.port}", "--name", AUTH_NAME,
                          "--pin", reference_pin("spare"), "--max-queries", "10")
        self.assertEqual(code, 1, out)
        self.assertIn("matches none of the given pins", out)
        self.assertEqual(self.server.queries_logged(), before)

    def test_bad_arguments_are_reported(self):
        code, out = bench("dot", "--server", "127.0.0.1:1", "--max-queries", "1")
        self.assertEqual(code, 2, out)
        self.assertIn("needs --pin", out)
        code, out = bench("udp", "--mix", "zipf:10", "--device", "x", "--dst", "198.18.0.1")
        self.assertEqual(code, 2, out)
        self.assertIn("query mix 'zipf:10'", out)
        code, out = bench("dot", "--frobnicate", "1")
        self.assertEqual(code, 2, out)
        self.assertIn("unknown option --frobnicate", out)

    def test_udp_over_net_tap_counts_match_the_servers_log(self):
        from dotpin_harness import UnboundDot, pki
        plain = UnboundDot(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"), plain="198.18.0.1@53").start()
        self.servers.append(plain)
        iface = f"dpb{os.getpid() % 100000}"
        prefix = f"dotpin-bench-{os.getpid()}"
        before = plain.queries_logged()
        proc = subprocess.Popen([BENCH, "udp", "--device", "net_tap0", "--dst", "198.18.0.1", "--src", "198.18.0.2",
                                 "--src-count", "4", "--mix", "zipf:1000:0.9", "--rate", "2000",
                                 "--max-queries", "4000", "--duration", "10", "--json", "--",
                                 "-l", "0", "--no-huge", "-m", "256", "--no-pci", "--file-prefix", prefix,
                                 "--log-level", "error", f"--vdev=net_tap0,iface={iface}"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            for _ in range(200):  # the PMD creates the interface; give it the server's address
                if subprocess.run(["ip", "link", "show", iface], capture_output=True).returncode == 0:
                    break
                time.sleep(0.01)
            subprocess.run(["ip", "addr", "add", "198.18.0.1/24", "dev", iface], check=True)
            subprocess.run(["ip", "link", "set", iface, "up"], check=True)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            subprocess.run(["rm", "-rf", f"/var/run/dpdk/{prefix}"])
        self.assertEqual(proc.returncode, 0, out + err)
        r = json.loads(out)
        self.assertEqual(r["sent"], 4000, r)
        self.assertEqual(r["lost"], 0, r)
        self.assertEqual(r["answered"], 4000, r)
        self.assertEqual(sum(r["rcodes"].values()), 4000, r)
        self.assertGreater(r["qps"], 1000, r)  # open loop at 2000/s: the count, not a timing claim
        time.sleep(0.2)
        self.assertEqual(plain.queries_logged() - before, 4000)

    def test_udp_over_ipv6_finds_the_server_by_neighbour_discovery(self):
        """dotpind on a memif link (DPDK to DPDK), IPv6 only: the generator solicits its MAC and
        every query is answered (SERVFAIL here: the pinned upstream does not exist; the count is
        what matters)."""
        import shutil as _sh
        from dotpin_harness import Dotpind, write_pin_file
        pins = os.path.join(self.dir, "v6.toml")
        write_pin_file(pins, [("nowhere", self.server, ["spare"])])
        sock = os.path.join(self.dir, "memif.sock")
        d = Dotpind(self.dir, pins, tag="b6", device="net_memif0",
                    vdev=f"--vdev=net_memif0,role=server,socket={sock},socket-abstract=no")
        with d:
            prefix = f"dotpin-bench6-{os.getpid()}"
            code, r = bench("udp", "--device", "net_memif0", "--dst", "2001:2::1", "--src", "2001:2::2",
                            "--mix", "random:100", "--max-queries", "500", "--duration", "10", "--json", "--",
                            "-l", "0", "--no-huge", "-m", "256", "--no-pci", "--file-prefix", prefix, "--log-level",
                            "error", f"--vdev=net_memif0,role=client,socket={sock},socket-abstract=no")
            _sh.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
            self.assertEqual(code, 0, r)
            self.assertEqual((r["sent"], r["answered"], r["lost"]), (500, 500, 0), r)
        self.assertEqual(d.counter("nd_replies"), 1, d.summary)
        self.assertEqual(d.counter("queries"), 500, d.summary)


if __name__ == "__main__":
    main()
