#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""DNS over TCP for clients (RFC 7766) through the real path: dotpind on a net_tap port in a network
namespace, its exception path (a second tap whose kernel side lives in dotpind's own namespace, where
its TCP service listens), a real unbound DoT upstream, and real clients — dig (which retries over TCP
by itself on TC=1), kdig, dnsperf -m tcp — plus raw sockets for what an attacker sends: pipelined
queries answered out of order, idle connections and a slowloris while UDP keeps answering, per-client
connection caps, the ACL over TCP, bad length prefixes, garbage, a TLS ClientHello on port 53, and a
client that never reads its answers."""

import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dotpin_harness import (APPLIANCE_V4, APPLIANCE_V6, CLIENT_V4, OUTSIDER_V4, ApplianceSuite, Dotpind, checksum,  # noqa: E402
                            closed_by_server, stream_connect,
                            dns_query, dnsperf_answers_every_query, framed, ipv4_frame, kdig, main, parse_dnsperf,
                            read_framed, status_of)


def tcp_connect(src=CLIENT_V4, timeout=3.0, rcvbuf=None):
    return stream_connect(src, 53, timeout, rcvbuf)


def edns_query(name, qid):
    """A query with an OPT record (EDNS 1232), so that errors carry their EDE."""
    q = bytearray(dns_query(name, qid=qid))
    q[11] = 1
    return bytes(q) + b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"


def rcode(msg):
    return msg[3] & 0x0F


@unittest.skipUnless(os.geteuid() == 0, "needs root for network namespaces and net_tap")
class TcpClients(ApplianceSuite):
    TAG = "tcp"
    SERVERS = {"a": ("leaf-p256.key", "leaf-p256.chain.pem")}

    def daemon(self, tag, tcp="", acl=("198.18.0.0/24", "2001:2::/64"), extra=""):
        path = self.pin_file(f"{tag}.toml", [("a", self.a, ["leaf-p256"])])
        return Dotpind(self.dir, path, tag=tag, acl=acl, extra_config=extra + "\n[tcp]\n" + tcp)

    def tcp_counter(self, d, name):
        return self.service_counter(d, "tcp", name)

    def wait_tcp_counter(self, d, name, at_least, timeout=10.0):
        return self.wait_service_counter(d, "tcp", name, at_least, timeout)

    def udp_still_answers(self):
        r = kdig(f"@{APPLIANCE_V4}", "www.dotpin.test", "A")
        self.assertEqual(status_of(r.stdout), "NOERROR", r.stdout + r.stderr)

    def test_dig_retries_a_large_answer_over_tcp_and_gets_all_of_it(self):
        before = self.a.queries_logged()
        with self.daemon("tcpbig") as d:
            # No flags: dig asks over UDP (EDNS 1232), receives TC=1, asks again over TCP by itself.
            r = subprocess.run(["dig", f"@{APPLIANCE_V4}", "huge.dotpin.test", "TXT", "+time=3", "+tries=1"],
                               capture_output=True, text=True, timeout=20)
            self.assertIn("status: NOERROR", r.stdout, r.stdout)
            self.assertIn("Truncated, retrying in TCP mode", r.stdout)
            self.assertEqual(len(re.findall(r"^huge\.dotpin\.test\.\s+\d+\s+IN\s+TXT", r.stdout, re.M)), 16, r.stdout)
            size = int(re.search(r"MSG SIZE\s+rcvd: (\d+)", r.stdout).group(1))
            self.assertGreater(size, 3000)
            self.assertIn("(TCP)", r.stdout)
            # The second time from the cache, over TCP too (kdig +tcp), and over IPv6.
            for server in (APPLIANCE_V4, APPLIANCE_V6):
                k = kdig(f"@{server}", "+tcp", "huge.dotpin.test", "TXT")
                self.assertEqual(status_of(k.stdout), "NOERROR", k.stdout + k.stderr)
                self.assertEqual(k.stdout.count("\tTXT\t"), 16, k.stdout)
            s = self.stats(d)
            self.assertGreaterEqual(s["totals"]["counters"]["truncated"], 1)
            self.assertGreaterEqual(s["totals"]["counters"]["tcp_queries"], 3)
            self.assertGreaterEqual(s["totals"]["counters"]["to_kernel"], 10)
            self.assertGreaterEqual(s["totals"]["counters"]["from_kernel"], 10)
            self.assertEqual(s["tcp"]["counters"]["answers"], s["tcp"]["counters"]["queries"])
            # The stats table has its TCP row.
            code, text = d.ctl("stats", json_out=False)
            self.assertIn("tcp: connections open", text)
        self.assertEqual(self.a.queries_logged() - before, 1, "the cached answer must not be fetched again")

    def test_pipelined_queries_are_answered_out_of_order_with_keepalive(self):
        with self.daemon("tcppipe") as d:
            self.assertEqual(status_of(kdig(f"@{APPLIANCE_V4}", "www.dotpin.test", "A").stdout), "NOERROR")
            s = tcp_connect()
            # One write: a miss (goes upstream) first, then a cached name; the cached answer must not
            # wait for the miss (RFC 7766 §6.2.1.1).
            miss = dns_query("big.dotpin.test", qtype=16, qid=0x1001)
            hit = dns_query("www.dotpin.test", qtype=1, qid=0x1002)
            s.sendall(framed(miss) + framed(hit))
            first, second = read_framed(s), read_framed(s)
            self.assertIsNotNone(first)
            self.assertIsNotNone(second)
            self.assertEqual(struct.unpack("!H", first[:2])[0], 0x1002, "the cached answer comes first")
            self.assertEqual(struct.unpack("!H", second[:2])[0], 0x1001)
            self.assertEqual(rcode(first), 0)
            self.assertEqual(rcode(second), 0)
            # 20 more pipelined on the same connection, all answered, each exactly once.
            ids = list(range(0x2000, 0x2014))
            s.sendall(b"".join(framed(dns_query("www.dotpin.test", qid=i)) for i in ids))
            got = sorted(struct.unpack("!H", read_framed(s)[:2])[0] for _ in ids)
            self.assertEqual(got, ids)
            # More than max_inflight_per_connection (32) at once, then the first 2 bytes of a 5 kB
            # query (EDNS padding): the service must not move its read buffer under the receive
            # in flight while answers free room (a review found it did; ASan runs this too).
            big = bytearray(dns_query("www.dotpin.test", qid=0x2fff))
            big[11] = 1
            pad = 5000 - len(big) - 11 - 4
            big += struct.pack("!BHHBBHH", 0, 41, 1232, 0, 0, 0, 4 + pad) + struct.pack("!HH", 12, pad) + bytes(pad)
            ids = list(range(0x2100, 0x2128))
            framed_big = framed(bytes(big))
            s.sendall(b"".join(framed(dns_query("www.dotpin.test", qid=i)) for i in ids) + framed_big[:2])
            time.sleep(0.3)
            s.sendall(framed_big[2:])
            got = sorted(struct.unpack("!H", read_framed(s)[:2])[0] for _ in range(len(ids) + 1))
            self.assertEqual(got, ids + [0x2fff])
            s.close()
            # edns-tcp-keepalive (RFC 7828): dig asks, dotpind advertises its idle timeout (10 s).
            r = subprocess.run(["dig", f"@{APPLIANCE_V4}", "+tcp", "+keepalive", "www.dotpin.test", "A", "+time=3",
                                "+tries=1"], capture_output=True, text=True, timeout=20)
            self.assertIn("status: NOERROR", r.stdout, r.stdout)
            self.assertRegex(r.stdout, r"TCP KEEPALIVE: 10\.0 secs", r.stdout)
            self.assertGreaterEqual(self.tcp_counter(d, "keepalive"), 1)

    @unittest.skipUnless(shutil.which("dnsperf"), "dnsperf not installed")
    def test_dnsperf_over_tcp_answers_every_query(self):
        with self.daemon("tcpperf") as d:
            p = dnsperf_answers_every_query(self, "tcp", self.dir)
            self.assertGreaterEqual(self.stats(d)["totals"]["counters"]["tcp_queries"], p["sent"])

    @unittest.skipUnless(shutil.which("dnsperf"), "dnsperf not installed")
    def test_idle_connections_and_a_slowloris_do_not_stop_udp(self):
        qfile = os.path.join(self.dir, "udp-queries.txt")
        with open(qfile, "w") as f:
            f.write("www.dotpin.test A\n")
        with self.daemon("tcpidle", tcp="idle_timeout_ms = 2000\nmax_connections_per_client = 600\n") as d:
            self.udp_still_answers()
            idle = [tcp_connect() for _ in range(500)]
            slow = tcp_connect()
            query = framed(dns_query("www.dotpin.test"))
            # The slowloris: a byte every 300 ms never completes a query; it is closed by the idle rule.
            r = subprocess.Popen(["dnsperf", "-s", APPLIANCE_V4, "-d", qfile, "-l", "3", "-Q", "2000", "-t", "2"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            sent_bytes, closed = 0, False
            deadline = time.monotonic() + 6
            while time.monotonic() < deadline and sent_bytes < len(query) - 1:
                try:
                    slow.send(query[sent_bytes:sent_bytes + 1])
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
                sent_bytes += 1
                time.sleep(0.3)
            out, err = r.communicate(timeout=30)
            p = parse_dnsperf(out)
            self.assertEqual(p["lost"], 0, out + err)
            self.assertGreater(p["sent"], 4000, out)
            self.assertTrue(closed or closed_by_server(slow, 4.0), "the slowloris must be closed")
            # Every idle connection is closed too, by the same rule; none is left open.
            self.assertGreaterEqual(self.wait_tcp_counter(d, "closed_idle", 501), 501)
            self.assertTrue(all(closed_by_server(s, 2.0) for s in idle[:5]))
            self.assertEqual(self.stats(d)["tcp"]["active"], 0)
            for s in idle + [slow]:
                s.close()
            self.udp_still_answers()

    def test_per_client_and_total_connection_caps(self):
        with self.daemon("tcpcap", tcp="max_connections = 6\nmax_connections_per_client = 4\n") as d:
            subprocess.run(["ip", "addr", "add", "198.18.0.3/32", "dev", d.iface], check=True)
            held = [tcp_connect() for _ in range(4)]
            fifth = tcp_connect()
            self.assertTrue(closed_by_server(fifth, 3.0), "a fifth connection from one client is closed")
            self.assertGreaterEqual(self.wait_tcp_counter(d, "refused_client_limit", 1), 1)
            # Another client still gets in (2 left overall), then the total cap holds.
            other = [tcp_connect("198.18.0.3") for _ in range(2)]
            third = tcp_connect("198.18.0.3")
            self.assertTrue(closed_by_server(third, 3.0))
            self.assertGreaterEqual(self.wait_tcp_counter(d, "refused_limit", 1), 1)
            # The connections held still answer.
            held[0].sendall(framed(dns_query("www.dotpin.test", qid=7)))
            self.assertEqual(rcode(read_framed(held[0])), 0)
            for s in held + other + [fifth, third]:
                s.close()

    def test_the_acl_holds_over_tcp(self):
        with self.daemon("tcpacl") as d:
            before = self.a.queries_logged()
            s = tcp_connect(OUTSIDER_V4)
            s.sendall(framed(edns_query("www.dotpin.test", qid=9)))
            reply = read_framed(s)
            s.close()
            self.assertIsNotNone(reply)
            self.assertEqual(rcode(reply), 5, "REFUSED")
            self.assertIn(struct.pack("!HHH", 15, 2, 18), reply, "EDE 18 (prohibited)")
            self.assertGreaterEqual(self.stats(d)["totals"]["counters"]["tcp_acl_refused"], 1)
            self.assertEqual(self.a.queries_logged(), before, "an outsider's query must not reach the upstream")
        # With action = "drop", an outsider's SYN never reaches the kernel: no connection at all.
        path = self.pin_file("tcpdrop2.toml", [("a", self.a, ["leaf-p256"])])
        d = Dotpind(self.dir, path, tag="tcpdr2", acl=("198.18.0.0/24",), extra_config="")
        with open(d.conf) as f:
            conf = f.read().replace("[acl]\n", '[acl]\naction = "drop"\n')
        with open(d.conf, "w") as f:
            f.write(conf)
        with d:
            # No SYN-ACK and no reset: the connect times out (a refusal would be ConnectionRefusedError).
            with self.assertRaises(TimeoutError):
                tcp_connect(OUTSIDER_V4, timeout=2.0)
            self.assertGreaterEqual(self.stats(d)["totals"]["counters"]["acl_dropped"], 1)
            self.assertEqual(self.stats(d)["totals"]["counters"]["to_kernel"], 0, "the SYN must not reach the kernel")
            self.assertEqual(self.stats(d)["tcp"]["counters"]["accepted"], 0)

    def test_bad_input_closes_only_that_connection(self):
        with self.daemon("tcpbad", tcp="idle_timeout_ms = 3000\n") as d:
            good = tcp_connect()

            def good_still_answers(qid):
                good.sendall(framed(dns_query("www.dotpin.test", qid=qid)))
                reply = read_framed(good)
                self.assertIsNotNone(reply, "the well-behaved connection must stay open")
                self.assertEqual(struct.unpack("!H", reply[:2])[0], qid)

            good_still_answers(0x3000)
            # A length prefix of 0.
            s = tcp_connect()
            s.sendall(b"\x00\x00")
            self.assertTrue(closed_by_server(s, 3.0))
            good_still_answers(0x3001)
            # A valid query, then garbage: the query is answered, then the connection is closed.
            s3 = tcp_connect()
            s3.sendall(framed(dns_query("www.dotpin.test", qid=0x3003)) + b"\x00\x05junk!")
            reply = read_framed(s3)
            self.assertIsNotNone(reply)
            self.assertEqual(struct.unpack("!H", reply[:2])[0], 0x3003)
            self.assertTrue(closed_by_server(s3, 3.0))
            good_still_answers(0x3002)
            # A TLS ClientHello on port 53 (a DoT client at the wrong port).
            s4 = tcp_connect()
            s4.sendall(bytes.fromhex("16030100a5010000a10303") + os.urandom(32) + b"\x00" * 130)
            self.assertTrue(closed_by_server(s4, 3.0))
            # A DNS response sent as a query: no answer, closed.
            s5 = tcp_connect()
            resp = bytearray(dns_query("www.dotpin.test", qid=0x3005))
            resp[2] |= 0x80
            s5.sendall(framed(bytes(resp)))
            self.assertTrue(closed_by_server(s5, 3.0))
            good_still_answers(0x3004)
            # 65535 announced, nothing sent: closed by the idle rule.
            s2 = tcp_connect()
            s2.sendall(b"\xff\xff")
            self.assertTrue(closed_by_server(s2, 6.0))
            c = self.stats(d)["tcp"]["counters"]
            self.assertGreaterEqual(c["closed_bad_length"], 2, c)
            self.assertGreaterEqual(c["closed_tls_on_plain"], 1, c)
            self.assertGreaterEqual(c["closed_bad_message"], 1, c)
            self.assertGreaterEqual(c["closed_idle"], 1, c)
            self.assertGreaterEqual(self.stats(d)["totals"]["counters"]["drop_response"], 1)
            self.udp_still_answers()
            for x in (good, s, s2, s3, s4, s5):
                x.close()

    def test_a_forged_segment_cannot_redirect_a_clients_connection(self):
        """An attacker on the client segment sends TCP segments with the client's address and its own
        MAC (no SYN: it cannot open a connection as the client). What the kernel sends next on the
        client's open connection — here the FIN of the idle timeout, sent while the client sends
        nothing — must still reach the client's MAC."""
        with self.daemon("tcpspoof", tcp="idle_timeout_ms = 1000\n") as d:
            mac = d.mac()
            s = tcp_connect()
            s.sendall(framed(dns_query("www.dotpin.test", qid=0x5001)))
            self.assertEqual(struct.unpack("!H", read_framed(s)[:2])[0], 0x5001)
            sport = s.getsockname()[1]
            forged_mac = bytes([2, 0x66, 0x66, 0x66, 0x66, 0x66])
            src, dst = socket.inet_aton(CLIENT_V4), socket.inet_aton(APPLIANCE_V4)
            tap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
            try:
                tap.bind((d.iface, 0))
                for port, flags in ((sport, 0x10), (sport, 0x18), (sport + 1, 0x10), (40001, 0x04)):  # ACK, PSH+ACK, RST
                    tcp = struct.pack("!HHIIBBHHH", port, 53, 0x1000, 0x2000, 5 << 4, flags, 65535, 0, 0)
                    c = checksum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
                    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
                    tap.send(mac + forged_mac + ipv4_frame(6, tcp, CLIENT_V4)[12:])
            finally:
                tap.close()
            self.assertTrue(closed_by_server(s, 5.0), "the server's FIN must reach the client, not the forged MAC")
            s.close()
            # A new connection (its SYN) works as before.
            s2 = tcp_connect()
            s2.sendall(framed(dns_query("www.dotpin.test", qid=0x5003)))
            self.assertEqual(struct.unpack("!H", read_framed(s2)[:2])[0], 0x5003)
            s2.close()
            self.assertGreaterEqual(self.stats(d)["totals"]["counters"]["to_kernel"], 4)

    def test_a_client_that_never_reads_is_closed(self):
        with self.daemon("tcpslow", tcp="write_timeout_ms = 1000\n") as d:
            self.assertEqual(status_of(kdig(f"@{APPLIANCE_V4}", "huge.dotpin.test", "TXT", "+tcp").stdout), "NOERROR")
            s = tcp_connect(rcvbuf=4096)
            q = b"".join(framed(dns_query("huge.dotpin.test", qtype=16, qid=i)) for i in range(200))
            s.settimeout(5)
            try:
                s.sendall(q)
            except (socket.timeout, OSError):
                pass  # the service stopped reading once 32 answers were waiting: backpressure
            self.assertGreaterEqual(self.wait_tcp_counter(d, "closed_slow_reader", 1), 1)
            s.close()
            self.udp_still_answers()


if __name__ == "__main__":
    main()
