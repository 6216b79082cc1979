#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""dotpind end to end: the real daemon on a DPDK net_tap port in a network namespace, real unbound
DoT upstreams (genuine and a CA-valid impostor) on the namespace's loopback, real clients (kdig,
dnsperf) on the tap's kernel side. Proves answers, caching, pin enforcement with failover, the ACL,
and a bounded load with no loss; reads the daemon's shutdown summary for its counters."""

import calendar
import os
import re
import shutil
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dotpin_harness import (status_of, main, APPLIANCE_V4, APPLIANCE_V6, OUTSIDER_V4, DOTPIND, ApplianceSuite, Dotpind,  # noqa: E402
                            kdig, reference_pin, CLIENT_MAC, dns_query, udp4_frame)


def expected_suite_order_line():
    """What dotpind logs of its suite order ([upstreams] suite_order = "auto"): AES-GCM first only
    with the AES-NI wolfSSL (linked statically; Debian's is a shared libwolfssl) on a CPU with AES-NI
    and PCLMULQDQ."""
    linked = subprocess.run(["ldd", DOTPIND], capture_output=True, text=True).stdout
    with open("/proc/cpuinfo") as f:
        flags = next((l.split(":", 1)[1].split() for l in f if l.startswith("flags")), [])
    if "libwolfssl" in linked:
        return "upstream TLS: ChaCha20-Poly1305 suites first (auto: this wolfSSL has no AES-NI code)"
    if "aes" in flags and "pclmulqdq" in flags:
        return "upstream TLS: AES-GCM suites first (auto: wolfSSL with AES-NI on a CPU with AES-NI)"
    return "upstream TLS: ChaCha20-Poly1305 suites first (auto: this CPU has no AES-NI/PCLMULQDQ)"


@unittest.skipUnless(os.geteuid() == 0, "needs root for network namespaces and net_tap")
class ApplianceEndToEnd(ApplianceSuite):
    TAG = "e2e"
    SERVERS = {"genuine": ("leaf-p256.key", "leaf-p256.chain.pem"), "impostor": ("impostor.key", "impostor.chain.pem")}

    def test_answers_over_ipv4_and_ipv6_then_from_cache(self):
        pins = self.pin_file("genuine.toml", [("genuine", self.genuine, ["leaf-p256", "spare"])])
        before = self.genuine.queries_logged()
        with Dotpind(self.dir, pins, tag="ans") as d:
            r = kdig(f"@{APPLIANCE_V4}", "www.dotpin.test", "A")
            self.assertEqual(status_of(r.stdout), "NOERROR", r.stdout + r.stderr)
            self.assertIn("198.18.0.10", r.stdout)
            # dig keeps the case it was given (kdig lower-cases): the client's own spelling comes back.
            r = subprocess.run(["dig", f"@{APPLIANCE_V6}", "WwW.DotPin.TEST", "A", "+tries=1", "+time=2"],
                               capture_output=True, text=True, timeout=10)
            self.assertIn("198.18.0.10", r.stdout, r.stdout + r.stderr)
            self.assertIn("WwW.DotPin.TEST.", r.stdout)
            r = kdig(f"@{APPLIANCE_V4}", "nothere.dotpin.test", "A")
            self.assertEqual(status_of(r.stdout), "NXDOMAIN", r.stdout)
            r = kdig(f"@{APPLIANCE_V4}", "nothere.dotpin.test", "A")
            self.assertEqual(status_of(r.stdout), "NXDOMAIN", r.stdout)
            self.assertIn("SOA", r.stdout)
            r = kdig(f"@{APPLIANCE_V4}", "big.dotpin.test", "TXT", "+notcp", "+ignore")
            self.assertIn("tc", r.stdout.split("Flags:")[1].split("\n")[0], r.stdout)
        self.assertEqual(d.counter("cache_hits"), 2, d.summary)       # www over v6, nothere again
        self.assertEqual(d.counter("forwarded"), 3, d.summary)        # www, nothere, big
        self.assertEqual(d.counter("truncated"), 1, d.summary)
        self.assertGreaterEqual(d.counter("arp_replies"), 1, d.summary)
        self.assertGreaterEqual(d.counter("nd_replies"), 1, d.summary)
        self.assertEqual(self.genuine.queries_logged(), before + 3)

    def test_impostor_refused_and_clients_get_servfail(self):
        # The impostor's certificate is valid for the name under the same CA: only the pin tells.
        pins = self.pin_file("impostor-only.toml", [("impostor", self.impostor, ["leaf-p256"])])
        before = self.impostor.queries_logged()
        with Dotpind(self.dir, pins, tag="imp") as d:
            r = kdig(f"@{APPLIANCE_V4}", "www.dotpin.test", "A", "+edns")
            self.assertEqual(status_of(r.stdout), "SERVFAIL", r.stdout + r.stderr)
            self.assertNotIn("198.18.0.10", r.stdout)
            self.assertIn("EDE", r.stdout + r.stderr)
            # The control socket shows the refusal with its reason and the impostor's pin.
            d.wait_published()
            code, stats = d.ctl("stats", "--upstream", "impostor")
            self.assertEqual(code, 0, stats)
            up = stats["result"]["upstreams"][0]
            self.assertGreaterEqual(up["failures"]["pin_mismatch"], 1, up)
            self.assertEqual(up["answers"], 0, up)
            self.assertIn(reference_pin("impostor"), up["last_refusal"]["observed_pins"], up)
            refused_at = calendar.timegm(time.strptime(up["last_refusal"]["at"], "%Y-%m-%dT%H:%M:%SZ"))
            self.assertLess(abs(refused_at - time.time()), 60, up)  # when it happened, not a placeholder
            code, text = d.ctl("stats", json_out=False)
            self.assertEqual(code, 0, text)
            self.assertIn("pin_mismatch=", text)
            self.assertIn("observed pins", text)
            m = d.metrics()
            self.assertGreaterEqual(m[("dotpin_upstream_failures_total",
                                       frozenset({("upstream", "impostor"), ("reason", "pin_mismatch")}))], 1)
            self.assertEqual(m[("dotpin_upstream_state", frozenset({("upstream", "impostor"), ("state", "pin_failed")}))], 1)
            self.assertEqual(m[("dotpin_upstream_answers_total", frozenset({("upstream", "impostor")}))], 0)
        self.assertEqual(self.impostor.queries_logged(), before, "a query reached the impostor")
        self.assertGreaterEqual(d.upstream_counter("impostor", "failed_pin_mismatch"), 1, d.summary)
        self.assertIn("pin_mismatch", d.summary)
        self.assertIn("observed pins", d.summary)  # the log line with what the impostor presented

    def test_control_socket_metrics_and_permissions(self):
        pins = self.pin_file("genuine5.toml", [("genuine", self.genuine, ["leaf-p256"])])
        with Dotpind(self.dir, pins, tag="ctl") as d:
            mode = os.stat(d.socket).st_mode
            self.assertTrue(stat.S_ISSOCK(mode))
            self.assertEqual(stat.S_IMODE(mode), 0o600)  # never group- or world-accessible by default
            code, status = d.ctl("status")
            self.assertEqual(code, 0, status)
            self.assertEqual(status["result"]["worker_lcores"], 1)
            self.assertEqual(status["result"]["pin_generation"], 1)
            kdig(f"@{APPLIANCE_V4}", "www.dotpin.test", "A")
            kdig(f"@{APPLIANCE_V4}", "www.dotpin.test", "A")
            d.wait_published()
            code, stats = d.ctl("stats")
            self.assertEqual(stats["result"]["totals"]["counters"]["cache_hits"], 1, stats)
            self.assertEqual(stats["result"]["upstreams"][0]["answers"], 1, stats)
            m = d.metrics()
            self.assertEqual(m[("dotpin_lcore_events_total", frozenset({("lcore", "1"), ("event", "cache_hits")}))], 1)
            self.assertEqual(m[("dotpin_upstream_answers_total", frozenset({("upstream", "genuine")}))], 1)
            self.assertEqual(m[("dotpin_pin_generation", frozenset())], 1)
            r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                                f"http://127.0.0.1:{d.metrics_port}/other"], capture_output=True, text=True, timeout=10)
            self.assertEqual(r.stdout, "404")
            code, text = d.ctl("upstreams", json_out=False)
            self.assertEqual(code, 0, text)
            self.assertIn("genuine", text)
            code, err = d.ctl("stats", "--upstream", "nope")
            self.assertEqual(code, 2)
            self.assertIn("no upstream named 'nope'", err["error"])
        self.assertFalse(os.path.exists(d.socket), "the socket outlived the daemon")
        code, err = d.ctl("status")  # nobody listening: a clear error, not a hang
        self.assertEqual(code, 2)
        self.assertIn("is dotpind running", err["error"])

    def test_failover_from_impostor_to_pinned_upstream(self):
        pins = self.pin_file("pool.toml", [("impostor", self.impostor, ["leaf-p256"]),
                                           ("genuine", self.genuine, ["leaf-p256"])])
        before = self.impostor.queries_logged()
        with Dotpind(self.dir, pins, tag="fo") as d:
            for i in range(6):
                r = kdig(f"@{APPLIANCE_V4}", f"n{i}.dotpin.test", "A")
                self.assertEqual(status_of(r.stdout), "NXDOMAIN", r.stdout + r.stderr)
        self.assertEqual(self.impostor.queries_logged(), before)
        self.assertEqual(d.counter("upstream_answers"), 6, d.summary)
        self.assertEqual(d.upstream_counter("genuine", "answers"), 6, d.summary)
        self.assertEqual(d.upstream_counter("impostor", "answers"), 0, d.summary)

    def test_client_outside_the_acl_is_refused(self):
        pins = self.pin_file("genuine2.toml", [("genuine", self.genuine, ["leaf-p256"])])
        before = self.genuine.queries_logged()
        with Dotpind(self.dir, pins, tag="acl") as d:
            r = kdig(f"@{APPLIANCE_V4}", "-b", OUTSIDER_V4, "www.dotpin.test", "A")
            self.assertEqual(status_of(r.stdout), "REFUSED", r.stdout + r.stderr)
        self.assertEqual(d.counter("acl_refused"), 1, d.summary)
        self.assertEqual(self.genuine.queries_logged(), before)

    @unittest.skipUnless(shutil.which("dnsperf"), "dnsperf not installed")
    def test_dnsperf_bounded_load_loses_nothing(self):
        pins = self.pin_file("genuine3.toml", [("genuine", self.genuine, ["leaf-p256"])])
        queries = os.path.join(self.dir, "queries.txt")
        with open(queries, "w") as f:
            for i in range(200):
                f.write(f"q{i}.dotpin.test A\nwww.dotpin.test A\n")
        with Dotpind(self.dir, pins, tag="perf") as d:
            started = time.monotonic()
            r = subprocess.run(["dnsperf", "-s", APPLIANCE_V4, "-d", queries, "-l", "3", "-Q", "3000", "-t", "2", "-q", "100"],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            sent = int(re.search(r"Queries sent:\s+(\d+)", r.stdout).group(1))
            lost = int(re.search(r"Queries lost:\s+(\d+)", r.stdout).group(1))
            self.assertGreater(sent, 1000, r.stdout)
            self.assertEqual(lost, 0, r.stdout)
            # What the work cost: busy cycles (passes that did something), never more than the
            # lcores' wall time; idle passes too (3000 q/s leaves a polling lcore mostly idle).
            code, j = d.ctl("stats")
            self.assertEqual(code, 0, j)
            hz = j["result"]["tsc_hz"]
            self.assertGreater(hz, 0)
            wall = time.monotonic() - started + 30  # and the start-up before it, at most
            busy = sum(l["cycles"]["busy"] for l in j["result"]["lcores"])
            queries_seen = j["result"]["totals"]["counters"]["queries"]
            for l in j["result"]["lcores"]:
                self.assertGreater(l["cycles"]["idle_passes"], 0, l)
                self.assertLess(l["cycles"]["busy"] / hz, wall, l)
            self.assertGreater(busy, 0, j["result"]["lcores"])
            print(f"\nbusy CPU per query at 3000 q/s: {busy / hz / queries_seen * 1e9:.0f} ns "
                  f"({queries_seen} queries)", file=sys.stderr)
            metrics = d.metrics()
            self.assertIn(("dotpin_lcore_cycles_total", frozenset({("lcore", str(j["result"]["lcores"][0]["lcore"])),
                                                                   ("state", "busy")})), metrics)
            code, text_out = d.ctl("stats", json_out=False)
            self.assertIn("CPU/Q", text_out)
        # 201 distinct names: each went upstream exactly once (a repeat while the first was in flight
        # joined it: "merged"); everything else came from the cache.
        self.assertEqual(d.counter("forwarded"), 201, d.summary)
        self.assertEqual(d.counter("upstream_answers"), d.counter("forwarded") + d.counter("merged"), d.summary)
        self.assertEqual(d.counter("cache_hits") + d.counter("forwarded") + d.counter("merged"), d.counter("queries"),
                         d.summary)
        self.assertGreater(d.counter("busy_cycles"), 0, d.summary)
        self.assertIn("ns CPU per query", d.summary)

    @unittest.skipUnless(shutil.which("dnsperf"), "dnsperf not installed")
    def test_two_worker_lcores_each_with_its_queue_cache_and_connection(self):
        # Three lcores on this 2-CPU machine: main on CPU 0, both workers on CPU 1 (they poll in turn).
        pins = self.pin_file("genuine4.toml", [("genuine", self.genuine, ["leaf-p256"])])
        queries = os.path.join(self.dir, "queries2.txt")
        with open(queries, "w") as f:
            for i in range(50):
                f.write(f"w{i}.dotpin.test A\n")
        with Dotpind(self.dir, pins, tag="mq", lcores=("--lcores", "0@0,1@1,2@1")) as d:
            self.assertIn("2 worker lcore(s)", d.read_log())
            self.assertIn(expected_suite_order_line(), d.read_log())
            r = subprocess.run(["dnsperf", "-s", APPLIANCE_V4, "-d", queries, "-l", "2", "-Q", "1000", "-c", "16"],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(int(re.search(r"Queries lost:\s+(\d+)", r.stdout).group(1)), 0, r.stdout)
        lines = [l for l in d.summary.splitlines() if l.startswith("  lcore ")]
        self.assertEqual(len(lines), 2, d.summary)
        for line in lines:  # the kernel spread the 16 clients' flows over both queues
            self.assertGreater(int(re.search(r"queries=(\d+)", line).group(1)), 0, d.summary)
        self.assertEqual(d.upstream_counter("genuine", "connections"), 2, d.summary)  # one per lcore

    def test_bad_config_is_rejected_with_its_line(self):
        bad = os.path.join(self.dir, "bad.toml")
        with open(bad, "w") as f:
            f.write('[port]\ndevice = "net_tap0"\nipv4 = ["198.18.0.1"]\n[acl]\nallow = ["198.18.0.1/24"]\n'
                    '[upstreams]\npin_file = "nope.toml"\n')
        r = subprocess.run([DOTPIND, "--config", bad], capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 1)
        self.assertIn("bad.toml:5:", r.stderr)
        self.assertIn("host bits", r.stderr)


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000, i, len(fr), len(fr)) + fr)


def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    frames, at = [], 24
    while at + 16 <= len(data):
        n = struct.unpack("<IIII", data[at:at + 16])[2]
        frames.append(data[at + 16:at + 16 + n])
        at += 16 + n
    return frames


@unittest.skipUnless(os.geteuid() == 0, "needs root for EAL")
class PcapReplay(unittest.TestCase):
    """dotpind on a net_pcap port: a capture of crafted frames in, the replies captured out; the
    shutdown counters account for every frame."""

    def test_replies_and_drops_from_a_capture(self):
        work = tempfile.mkdtemp(prefix="dotpin-pcap-")
        try:
            pins = os.path.join(work, "pins.toml")
            with open(pins, "w") as f:  # never contacted: every frame here is answered locally
                f.write('[[upstream]]\nname = "unused"\naddress = "127.0.0.1:9"\n'
                        'pin = [{ sha256 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" }]\n')
            bad_sum = bytearray(udp4_frame(dns_query("x.test")))
            bad_sum[-1] ^= 1
            frames = [
                udp4_frame(dns_query("axfr.test", 252)),                         # NOTIMP
                udp4_frame(dns_query("x.test")[:-2]),                            # FORMERR (no class)
                udp4_frame(dns_query("x.test", opcode=5)),                       # NOTIMP (UPDATE)
                udp4_frame(dns_query("x.test"), src="198.18.1.2"),               # REFUSED (ACL)
                udp4_frame(b"\x12\x34\x81\x80" + b"\0" * 8),                     # a response: dropped
                bytes(bad_sum),                                                  # bad UDP checksum
                b"\xff" * 6 + CLIENT_MAC + b"\x88\xcc" + b"\0" * 46,               # LLDP
            ]
            inp, out = os.path.join(work, "in.pcap"), os.path.join(work, "out.pcap")
            vdev = f"--vdev=net_pcap0,rx_pcap={inp},tx_pcap={out}"
            # First run on an empty capture: learn the port's MAC (the driver chooses it).
            write_pcap(inp, [])
            d = Dotpind(work, pins, tag="pcap", acl=("198.18.0.0/24",), vdev=vdev, device="net_pcap0")
            d.start()
            mac = d.mac()
            d.stop()
            self.assertIsNotNone(mac, d.summary)
            write_pcap(inp, [mac + fr[6:] if fr[0] != 0xFF else fr for fr in frames])
            d = Dotpind(work, pins, tag="pcap", acl=("198.18.0.0/24",), vdev=vdev, device="net_pcap0")
            d.start()
            time.sleep(1.0)  # the capture is read once, at full speed
            d.stop()
            replies = read_pcap(out)
            rcodes = sorted(r[14 + 20 + 8 + 3] & 0x0F for r in replies if len(r) > 45 and r[12:14] == b"\x08\x00")
            self.assertEqual(rcodes, [1, 4, 4, 5], d.summary)  # FORMERR, NOTIMP x2, REFUSED
            self.assertEqual(d.counter("rx_packets"), len(frames), d.summary)
            self.assertEqual(d.counter("drop_response"), 1, d.summary)
            self.assertEqual(d.counter("drop_udp_checksum"), 1, d.summary)
            self.assertEqual(d.counter("drop_ether_type"), 1, d.summary)
            self.assertEqual(d.counter("acl_refused"), 1, d.summary)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
