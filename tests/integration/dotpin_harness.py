# SPDX-License-Identifier: Apache-2.0
"""Shared pieces of dotpin's integration tests: the test PKI, free loopback ports, a real
unbound DoT server, and running dotpinctl. Everything started here is stopped by PID."""

import json
import os
import unittest
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

PKI = os.environ.get("DOTPIN_TEST_PKI", "")
DOTPINCTL = os.environ.get("DOTPINCTL", "dotpinctl")
AUTH_NAME = "dns.dotpin.test"
UNBOUND_CONF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pki", "unbound-dot-conf.sh")


def main():
    """unittest.main() that tells meson what ran: exit 1 on any failure or error, 77 (meson's SKIP)
    when any test was skipped (a suite that skips is never counted as passed), 0 otherwise."""
    import sys
    prog = unittest.main(exit=False, verbosity=2 if "-v" in sys.argv else 1)
    result = prog.result
    if result.failures or result.errors or result.unexpectedSuccesses or result.testsRun == 0:
        sys.exit(1)
    if result.skipped:
        print(f"SKIPPED {len(result.skipped)} of {result.testsRun} test(s):", file=sys.stderr)
        for test, why in result.skipped:
            print(f"  {test.id()}: {why}", file=sys.stderr)
        sys.exit(77)
    sys.exit(0)


def pki(name):
    return os.path.join(PKI, name)


def reference_pin(stem):
    with open(pki(stem + ".pin")) as f:
        return f.read().strip()


def openssl_pin(cert_path):
    """The RFC 7469 reference pipeline, run fresh."""
    cmd = (f"openssl x509 -in '{cert_path}' -pubkey -noout | openssl pkey -pubin -outform der"
           " | openssl dgst -sha256 -binary | base64")
    return subprocess.run(["sh", "-c", cmd], check=True, capture_output=True, text=True).stdout.strip()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_tcp(port, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def stop_process(proc, timeout):
    """SIGTERM, then SIGKILL after @timeout seconds; waits for it either way. Returns how it ended,
    for diagnosis: "exited N before the stop" (it was already gone), "exit N" / "signal N" after
    SIGTERM, "SIGKILL after Ts", or None when there was no process."""
    if not proc:
        return None
    if proc.poll() is not None:
        return f"exited {proc.returncode} before the stop"
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return f"SIGKILL after {timeout}s (SIGTERM did not stop it)"
    return f"exit {proc.returncode}" if proc.returncode >= 0 else f"signal {-proc.returncode}"


def ctl(*args, stdin=None, timeout=60):
    """Runs dotpinctl; returns the CompletedProcess (text mode)."""
    return subprocess.run([DOTPINCTL, *args], input=stdin, capture_output=True, text=True, timeout=timeout)


def ctl_json(*args, **kw):
    r = ctl("--json", *args, **kw)
    return r.returncode, json.loads(r.stdout)


class ServerProcess:
    """A server process the harness started, with a work directory of its own: subclasses give
    start() and stop(); cleanup() stops it by PID and removes the directory."""

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


class UnboundDot(ServerProcess):
    """A real unbound serving DNS over TLS on 127.0.0.1 with a given key and chain, answering a
    small static zone. Logs every query it receives (log-queries) so tests can prove what reached it."""

    def __init__(self, key, chain, zone_a="198.18.0.10", plain=None):
        self.key, self.chain, self.zone_a, self.plain = key, chain, zone_a, plain
        self.dir = tempfile.mkdtemp(prefix="dotpin-unbound-")
        self.port = free_port()
        self.proc = None

    @property
    def log(self):
        return os.path.join(self.dir, "unbound.log")

    def start(self):
        conf = os.path.join(self.dir, "unbound.conf")
        with open(conf, "w") as f:
            subprocess.run([UNBOUND_CONF, self.dir, str(self.port), self.key, self.chain, self.zone_a,
                            *([self.plain] if self.plain else [])],
                           stdout=f, check=True)
        self.stderr = open(os.path.join(self.dir, "stderr.log"), "w")
        self.proc = subprocess.Popen(["unbound", "-d", "-c", conf], stdout=subprocess.DEVNULL, stderr=self.stderr)
        if not wait_for_tcp(self.port):
            self.stop()
            raise RuntimeError(f"unbound did not start on port {self.port}: {self.read_log()}")
        return self

    def restart_with(self, key, chain):
        """Stops the server and starts it again on the same port with another key and chain: a
        key rollover as clients see it."""
        self.stop()
        self.key, self.chain = key, chain
        return self.start()

    def read_log(self):
        text = ""
        for name in ("unbound.log", "stderr.log"):
            try:
                with open(os.path.join(self.dir, name)) as f:
                    text += f.read()
            except OSError:
                pass
        return text

    def queries_logged(self):
        return sum(1 for line in self.read_log().splitlines() if " IN" in line and "info:" in line)

    def stop(self):
        stop_process(self.proc, 5)
        self.proc = None
        if getattr(self, "stderr", None):
            self.stderr.close()
            self.stderr = None


class OpenSslServer(ServerProcess):
    """A real `openssl s_server` on 127.0.0.1 with a given key, chain and TLS options (e.g. only a
    NULL or CBC cipher suite): not a DNS server, a TLS endpoint whose own output shows what it got.
    s_server prints each handshake it completes ("CIPHER is ...") and writes the application data it
    receives verbatim; a DNS query for a name under dotpin.test carries the label bytes b"dotpin"."""

    def __init__(self, key, cert, chain_extra=None, tls_args=()):
        self.key, self.cert, self.chain_extra, self.tls_args = key, cert, chain_extra, list(tls_args)
        self.dir = tempfile.mkdtemp(prefix="dotpin-s_server-")
        self.port = free_port()
        self.proc = None
        self.out = None

    @property
    def log(self):
        return os.path.join(self.dir, "s_server.out")

    def start(self):
        self.out = open(self.log, "wb")
        args = ["openssl", "s_server", "-accept", f"127.0.0.1:{self.port}", "-key", self.key, "-cert", self.cert,
                *(["-cert_chain", self.chain_extra] if self.chain_extra else []), *self.tls_args]
        # stdin stays an open pipe that nobody writes: s_server would end its session on EOF.
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=self.out, stderr=subprocess.STDOUT)
        if not wait_for_tcp(self.port):
            self.stop()
            raise RuntimeError(f"s_server did not start on port {self.port}: {self.read()!r}")
        time.sleep(0.2)  # the probe connection of wait_for_tcp is logged (as a failed handshake); let it settle
        return self

    def read(self, since=0):
        """Everything s_server wrote from byte @since on (bytes)."""
        try:
            with open(self.log, "rb") as f:
                f.seek(since)
                return f.read()
        except OSError:
            return b""

    def mark(self):
        """The current end of s_server's output, for read(since=...)."""
        try:
            return os.path.getsize(self.log)
        except OSError:
            return 0

    def stop(self):
        if self.proc and self.proc.stdin:
            self.proc.stdin.close()
        stop_process(self.proc, 5)
        self.proc = None
        if self.out:
            self.out.close()
            self.out = None



class GenuineAndImpostor(unittest.TestCase):
    """Base for suites that need both upstreams: the genuine server (leaf-p256) and an impostor
    whose certificate is valid for the same name under the same CA, with another key."""

    @classmethod
    def setUpClass(cls):
        cls.genuine = UnboundDot(pki("leaf-p256.key"), pki("leaf-p256.chain.pem")).start()
        cls.impostor = UnboundDot(pki("impostor.key"), pki("impostor.chain.pem")).start()

    @classmethod
    def tearDownClass(cls):
        cls.genuine.cleanup()
        cls.impostor.cleanup()


# ---- the appliance in its own little network --------------------------------------------------

DOTPIND = os.environ.get("DOTPIND", "dotpind")
APPLIANCE_V4, CLIENT_V4, OUTSIDER_V4 = "198.18.0.1", "198.18.0.2", "198.18.1.2"
APPLIANCE_V6, CLIENT_V6 = "2001:2::1", "2001:2::2"
_CLONE_NEWNET = 0x40000000


def _setns(fd):
    import ctypes
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    if libc.setns(fd, _CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns failed")


class Netns:
    """A network namespace that this process enters (so every server and client it starts runs in
    it, on its own loopback) and leaves and deletes at the end. Only 198.18.0.0/15 and 2001:2::/48
    (the benchmarking ranges) are used on its links."""

    def __init__(self, tag):
        self.name = f"dotpin-{tag}-{os.getpid()}"
        subprocess.run(["ip", "netns", "delete", self.name], capture_output=True)
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self._home = os.open("/proc/self/ns/net", os.O_RDONLY)
        fd = os.open(f"/var/run/netns/{self.name}", os.O_RDONLY)
        try:
            _setns(fd)
        finally:
            os.close(fd)
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)

    def close(self):
        if self._home is not None:
            _setns(self._home)
            os.close(self._home)
            self._home = None
            subprocess.run(["ip", "netns", "delete", self.name], capture_output=True)


def write_pin_file(path, upstreams):
    """upstreams: (name, server, [pins]) tuples; server has a .port (UnboundDot, OpenSslServer); a pin
    is a PKI stem (its reference pin, labelled with the stem) or a (label, base64 pin) pair."""
    def entry(p):
        label, pin = p if isinstance(p, tuple) else (p, reference_pin(p))
        return f'{{ sha256 = "{pin}", label = "{label}" }}'

    with open(path, "w") as f:
        for name, server, stems in upstreams:
            f.write(f'[[upstream]]\nname = "{name}"\naddress = "127.0.0.1:{server.port}"\n'
                    f'auth_name = "{AUTH_NAME}"\n')
            f.write("pin = [" + ", ".join(entry(s) for s in stems) + "]\n\n")


# Raw frames for a port (test_dotpind_e2e.py's capture replay, test_hostile_dotpind.py's spoofed
# sources): Ethernet to OUR_MAC (callers put the port's real MAC in front: mac + frame[6:]).
OUR_MAC, CLIENT_MAC = bytes([2, 0, 0, 0, 0, 1]), bytes([2, 0, 0, 0, 0, 2])


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def stream_connect(src, port, timeout=3.0, rcvbuf=None):
    """A TCP connection from client address @src (v4 or v6) to the appliance's @port."""
    v6 = ":" in src
    s = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_STREAM)
    try:
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(timeout)
        s.bind((src, 0))
        s.connect((APPLIANCE_V6 if v6 else APPLIANCE_V4, port))
    except BaseException:
        s.close()
        raise
    return s


def closed_by_server(s, within=5.0):
    """True if the server closes @s (EOF, reset, or a TLS alert on a TLS socket) within @within seconds."""
    import ssl
    s.settimeout(within)
    try:
        while True:
            if not s.recv(65535):
                return True
    except (ConnectionResetError, ssl.SSLError):
        return True
    except socket.timeout:
        return False


def framed(msg):
    """@msg with its 2-byte length prefix (DNS over TCP and TLS, RFC 1035 4.2.2)."""
    return struct.pack("!H", len(msg)) + msg


def read_framed(sock):
    """One length-prefixed DNS message from a stream socket, or None when the peer closed first."""
    head = b""
    while len(head) < 2:
        chunk = sock.recv(2 - len(head))
        if not chunk:
            return None
        head += chunk
    (n,) = struct.unpack("!H", head)
    body = b""
    while len(body) < n:
        chunk = sock.recv(n - len(body))
        if not chunk:
            return None
        body += chunk
    return body


def dns_query(name, qtype=1, qid=0x1234, opcode=0):
    m = struct.pack("!HHHHHH", qid, 0x0100 | (opcode << 11), 1, 0, 0, 0)
    for label in name.split("."):
        m += bytes([len(label)]) + label.encode()
    return m + b"\0" + struct.pack("!HH", qtype, 1)


def ipv4_frame(proto, l4, src, dst=None):
    """An IPv4 frame around the L4 segment @l4 (its checksum already set)."""
    s, d = socket.inet_aton(src), socket.inet_aton(dst or APPLIANCE_V4)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0, s, d)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return OUR_MAC + CLIENT_MAC + b"\x08\x00" + ip + l4


def udp4_frame(payload, src=None, sport=40000):
    s, d = socket.inet_aton(src or CLIENT_V4), socket.inet_aton(APPLIANCE_V4)
    u = struct.pack("!HHHH", sport, 53, 8 + len(payload), 0) + payload
    u = u[:6] + struct.pack("!H", checksum(s + d + struct.pack("!BBH", 0, 17, len(u)) + u) or 0xFFFF) + u[8:]
    return ipv4_frame(17, u, src or CLIENT_V4)


def icmp4_echo_frame(src=None):
    e = struct.pack("!BBHHH", 8, 0, 0, 0x1234, 1) + b"dotpin"
    return ipv4_frame(1, e[:2] + struct.pack("!H", checksum(e)) + e[4:], src or CLIENT_V4)


def ipv6_frame(next_header, l4, src, dst=None):
    """An IPv6 frame around @l4, whose checksum (at @l4 offset 6 for UDP, 2 for ICMPv6) is set here."""
    s, d = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst or APPLIANCE_V6)
    at = 6 if next_header == 17 else 2
    c = checksum(s + d + struct.pack("!IxxxB", len(l4), next_header) + l4)
    l4 = l4[:at] + struct.pack("!H", (c or 0xFFFF) if next_header == 17 else c) + l4[at + 2:]
    ip = struct.pack("!IHBB16s16s", 6 << 28, len(l4), next_header, 64, s, d)
    return OUR_MAC + CLIENT_MAC + b"\x86\xdd" + ip + l4


def udp6_frame(payload, src=None, sport=40000):
    return ipv6_frame(17, struct.pack("!HHHH", sport, 53, 8 + len(payload), 0) + payload, src or CLIENT_V6)


def icmp6_echo_frame(src=None):
    return ipv6_frame(58, struct.pack("!BBHHH", 128, 0, 0, 0x1234, 1) + b"dotpin", src or CLIENT_V6)


class Dotpind:
    """The real daemon on a net_tap port whose kernel side (in the current namespace) carries the
    client addresses. Stopped by PID; stop() returns its shutdown summary."""

    def __init__(self, workdir, pin_file, tag="e2e", acl=("198.18.0.0/24", "2001:2::/64"), extra_config="",
                 vdev=None, device="net_tap0", lcores=("-l", "0-1"), upstreams_extra="", views=None):
        """upstreams_extra: more lines for the [upstreams] section, e.g. 'ca_file = "..."\\n'.
        views: [[view]] sections (text); then pin_file and acl are not written (each view has its own)."""
        self.dir = workdir
        self.iface = f"dpt{os.getpid() % 100000}{tag[:3]}"[:15]
        self.prefix = f"dotpind-{tag}-{os.getpid()}"
        self.conf = os.path.join(workdir, f"dotpind-{tag}.toml")
        self.socket = os.path.join(workdir, f"dotpind-{tag}.sock")
        self.metrics_port = free_port()
        self.tap = vdev is None
        eal = [*lcores, "--no-huge", "-m", "256", "--no-pci", "--file-prefix", self.prefix,
               "--log-level", "error", vdev or f"--vdev=net_tap0,iface={self.iface}"]
        with open(self.conf, "w") as f:
            f.write("[dpdk]\neal_args = [" + ", ".join(f'"{a}"' for a in eal) + "]\n\n")
            f.write(f'[port]\ndevice = "{device}"\nipv4 = ["{APPLIANCE_V4}/24"]\nipv6 = ["{APPLIANCE_V6}"]\nmbufs = 4095\n\n')
            if views is None:
                f.write("[acl]\nallow = [" + ", ".join(f'"{a}"' for a in acl) + "]\n\n")
                f.write(f'[upstreams]\npin_file = "{pin_file}"\nquery_timeout_ms = 1500\n{upstreams_extra}\n')
            else:
                f.write(f'[upstreams]\nquery_timeout_ms = 1500\n{upstreams_extra}\n')
            f.write("[daemon]\ndrain_ms = 500\n\n")
            f.write(f'[control]\nsocket = "{self.socket}"\nmetrics = "127.0.0.1:{self.metrics_port}"\n' + extra_config)
            if views is not None:
                f.write("\n" + views)
        self.log_path = os.path.join(workdir, f"dotpind-{tag}.log")
        self.proc = None
        self.summary = ""

    def start(self, timeout=30.0):
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen([DOTPIND, "--config", self.conf], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "dotpind: ready" in self.read_log():
                break
            if self.proc.poll() is not None:
                raise RuntimeError("dotpind exited: " + self.read_log())
            time.sleep(0.05)
        else:
            self.stop()
            raise RuntimeError("dotpind not ready: " + self.read_log())
        if not self.tap:
            return self
        for cmd in (["ip", "addr", "add", f"{CLIENT_V4}/24", "dev", self.iface],
                    ["ip", "addr", "add", f"{OUTSIDER_V4}/32", "dev", self.iface],
                    ["ip", "-6", "addr", "add", f"{CLIENT_V6}/64", "dev", self.iface, "nodad"],
                    ["ip", "link", "set", self.iface, "up"]):
            subprocess.run(cmd, check=True)
        return self

    def ctl(self, *args, json_out=True):
        """dotpinctl against this daemon's control socket: (exit code, parsed JSON or text)."""
        r = ctl(*(("--json",) if json_out else ()), *args, "--socket", self.socket)
        return r.returncode, (json.loads(r.stdout) if json_out and r.stdout.strip() else r.stdout + r.stderr)

    def lcores_published(self):
        """{lcore: how many times it has published its stats}, from the control socket's stats."""
        code, out = self.ctl("stats")
        if code != 0:
            raise RuntimeError(f"dotpinctl stats failed: {out}")
        return {l["lcore"]: l["published"] for l in out["result"]["lcores"]}

    def wait_published(self, timeout=10.0):
        """Returns once every lcore has published its stats again after this call began, so that
        upstream stats and cache stats read afterwards include everything done before it (lcores
        publish every 100 ms; their packet counters are read directly and need no wait). Raises if
        an lcore has not published within timeout seconds."""
        before = self.lcores_published()
        deadline = time.monotonic() + timeout
        while True:
            now = self.lcores_published()
            if all(now.get(lcore, 0) > n for lcore, n in before.items()):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"lcores did not publish within {timeout} s: {before} -> {now}")
            time.sleep(0.02)

    def metrics(self):
        """Scrapes /metrics with curl and parses the text exposition format strictly:
        {(name, frozenset of label pairs): value}. Any malformed line raises."""
        import re
        r = subprocess.run(["curl", "-sf", "--max-time", "5", f"http://127.0.0.1:{self.metrics_port}/metrics"],
                           capture_output=True, text=True, timeout=10)
        if r.returncode != 0:
            raise RuntimeError(f"curl failed ({r.returncode}): {r.stderr}")
        samples = {}
        for line in r.stdout.splitlines():
            if line.startswith("# HELP ") or line.startswith("# TYPE "):
                continue
            m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)', line)
            if not m:
                raise ValueError(f"not exposition format: {line!r}")
            labels = frozenset(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
            samples[(m.group(1), labels)] = float(m.group(3))
        return samples

    def mac(self):
        """The port's MAC address as the ready line reports it."""
        import re
        m = re.search(r"MAC ([0-9a-f:]{17})", self.read_log())
        return bytes(int(x, 16) for x in m.group(1).split(":")) if m else None

    def read_log(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        self.ended = stop_process(self.proc, 15)
        self.proc = None
        if getattr(self, "log", None):
            self.log.close()
            self.log = None
        self.summary = self.read_log()
        # How the process ended goes with the log: an assertion on the summary then says why the
        # summary is missing (a crash, a hang through SIGTERM) instead of only that it is.
        if self.ended and self.ended != "exit 0":
            self.summary += f"\n[harness] dotpind: {self.ended}\n"
        # EAL leaves its runtime directory behind; it is ours to remove.
        shutil.rmtree(f"/var/run/dpdk/{self.prefix}", ignore_errors=True)
        return self.summary

    def counter(self, name):
        """Sum of a counter over the lcore lines of the shutdown summary."""
        import re
        lines = [l for l in self.summary.splitlines() if l.startswith("  lcore ")]
        return sum(int(v) for l in lines for v in re.findall(rf"\b{name}=(\d+)", l))

    def upstream_counter(self, upstream, name):
        """A counter of one upstream's line of the shutdown summary (0 if absent)."""
        import re
        for l in self.summary.splitlines():
            if l.startswith(f"  {upstream}: "):
                m = re.search(rf"\b{name}=(\d+)", l)
                return int(m.group(1)) if m else 0
        return 0

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class ApplianceSuite(unittest.TestCase):
    """Base for dotpind suites: a network namespace entered for the whole class, a work directory,
    and the unbound DoT servers named in SERVERS ({attribute: (key, chain)}), all stopped and
    removed at the end."""

    TAG = "app"
    SERVERS = {}

    @classmethod
    def setUpClass(cls):
        cls.netns = Netns(cls.TAG)
        cls.dir = tempfile.mkdtemp(prefix=f"dotpin-{cls.TAG}-")
        cls.servers = []
        try:
            for attr, (key, chain) in cls.SERVERS.items():
                server = UnboundDot(pki(key), pki(chain)).start()
                cls.servers.append(server)
                setattr(cls, attr, server)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for server in cls.servers:
            server.cleanup()
        cls.servers = []
        cls.netns.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def pin_file(self, name, upstreams):
        path = os.path.join(self.dir, name)
        write_pin_file(path, upstreams)
        return path

    def stats(self, d):
        """dotpind @d's `stats` result, once its lcores have published."""
        d.wait_published()
        code, j = d.ctl("stats")
        self.assertEqual(code, 0, j)
        return j["result"]

    def service_counter(self, d, transport, name):
        """A counter of the TCP service for @transport ("tcp" or "dot")."""
        return self.stats(d)[transport]["counters"].get(name, 0)

    def wait_service_counter(self, d, transport, name, at_least, timeout=10.0):
        """Polls service_counter until it reaches @at_least or @timeout passes; returns the last value."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            n = self.service_counter(d, transport, name)
            if n >= at_least:
                return n
            time.sleep(0.2)
        return self.service_counter(d, transport, name)


def kdig(*args, timeout=10):
    return subprocess.run(["kdig", "+timeout=2", "+retry=0", *args], capture_output=True, text=True, timeout=timeout)


def status_of(out):
    """The rcode of a kdig answer ("NOERROR", "SERVFAIL", ...), or None."""
    import re
    m = re.search(r"status: (\w+)", out)
    return m.group(1) if m else None


def dnsperf_answers_every_query(test, mode, workdir, seconds=4, rate=2000):
    """Runs dnsperf -m MODE (tcp, dot) against the appliance for @seconds at @rate q/s over 8
    connections, 64 outstanding, with cached, large (1.6 and 3.7 kB) and negative answers, and
    asserts on @test that every query sent was answered (NOERROR or NXDOMAIN). Returns the counts."""
    qfile = os.path.join(workdir, f"{mode}-queries.txt")
    with open(qfile, "w") as f:
        for name in ("www.dotpin.test A", "big.dotpin.test TXT", "huge.dotpin.test TXT", "nx.dotpin.test A"):
            f.write(name + "\n")
    r = subprocess.run(["dnsperf", "-m", mode, "-s", APPLIANCE_V4, "-d", qfile, "-l", str(seconds), "-Q", str(rate),
                        "-c", "8", "-q", "64", "-t", "3"], capture_output=True, text=True, timeout=seconds + 60)
    p = parse_dnsperf(r.stdout)
    test.assertIsNotNone(p["sent"], r.stdout + r.stderr)
    test.assertGreater(p["sent"], rate * seconds // 2, r.stdout)
    test.assertEqual(p["lost"], 0, r.stdout)
    test.assertEqual(p["completed"], p["sent"], r.stdout)
    test.assertEqual(set(p["codes"]) - {"NOERROR", "NXDOMAIN"}, set(), r.stdout)
    return p


def dnsperf_clients(runs, seconds, stagger=0.0, during=None):
    """Runs one dnsperf per client at the same time against the appliance's port 53, for @seconds:
    @runs is {name: (source address, query file, q/s, timeout s, outstanding)}, started in order
    @stagger seconds apart; @during (optional) runs in this thread once all have started. Returns
    {name: (parse_dnsperf result, output)}."""
    import threading
    out = {}

    def run(name, src, qfile, qps, timeout, outstanding):
        p = subprocess.run(["dnsperf", "-s", APPLIANCE_V4, "-a", src, "-d", qfile, "-l", str(seconds),
                            "-Q", str(qps), "-t", str(timeout), "-q", str(outstanding)],
                           capture_output=True, text=True, timeout=seconds + 30)
        out[name] = (parse_dnsperf(p.stdout), p.stdout + p.stderr)

    threads = []
    for i, (name, args) in enumerate(runs.items()):
        if i and stagger:
            time.sleep(stagger)
        threads.append(threading.Thread(target=run, args=(name, *args)))
        threads[-1].start()
    if during:
        during()
    for t in threads:
        t.join()
    return out


def parse_dnsperf(out):
    """dnsperf's statistics: {"sent", "completed", "lost": int or None, "codes_line": the
    response-code text, "codes": {rcode: count}}."""
    import re

    def num(label):
        m = re.search(rf"{label}:\s+(\d+)", out)
        return int(m.group(1)) if m else None
    m = re.search(r"Response codes:\s+(.*)", out)
    line = m.group(1) if m else ""
    return {"sent": num("Queries sent"), "completed": num("Queries completed"), "lost": num("Queries lost"),
            "codes_line": line, "codes": {k: int(v) for k, v in re.findall(r"(\w+) (\d+) \(", line)}}


def dnsperf(queries, seconds, qps, outstanding=50):
    """A bounded dnsperf run against the appliance: (sent, lost, response-code line, output)."""
    r = subprocess.run(["dnsperf", "-s", APPLIANCE_V4, "-d", queries, "-l", str(seconds), "-Q", str(qps),
                        "-t", "2", "-q", str(outstanding)], capture_output=True, text=True, timeout=seconds + 30)
    p = parse_dnsperf(r.stdout)
    if p["sent"] is None or p["lost"] is None:
        raise RuntimeError(f"dnsperf output not understood: {r.stdout}{r.stderr}")
    return p["sent"], p["lost"], p["codes_line"], r.stdout
