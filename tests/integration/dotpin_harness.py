# SPDX-License-Identifier: Apache-2.0
"""Shared pieces of dotpin's integration tests: the test PKI, free loopback ports, a real
unbound DoT server, and running dotpinctl. Everything started here is stopped by PID."""

import json
import os
import unittest
import shutil
import signal
import socket
import subprocess
import tempfile
import time

PKI = os.environ.get("DOTPIN_TEST_PKI", "")
DOTPINCTL = os.environ.get("DOTPINCTL", "dotpinctl")
AUTH_NAME = "dns.dotpin.test"
UNBOUND_CONF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pki", "unbound-dot-conf.sh")


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


def ctl(*args, stdin=None, timeout=60):
    """Runs dotpinctl; returns the CompletedProcess (text mode)."""
    return subprocess.run([DOTPINCTL, *args], input=stdin, capture_output=True, text=True, timeout=timeout)


def ctl_json(*args, **kw):
    r = ctl("--json", *args, **kw)
    return r.returncode, json.loads(r.stdout)


class UnboundDot:
    """A real unbound serving DNS over TLS on 127.0.0.1 with a given key and chain, answering a
    small static zone. Logs every query it receives (log-queries) so tests can prove what reached it."""

    def __init__(self, key, chain, zone_a="198.18.0.10"):
        self.key, self.chain, self.zone_a = key, chain, zone_a
        self.dir = tempfile.mkdtemp(prefix="dotpin-unbound-")
        self.port = free_port()
        self.proc = None

    @property
    def log(self):
        return os.path.join(self.dir, "unbound.log")

    def start(self):
        conf = os.path.join(self.dir, "unbound.conf")
        with open(conf, "w") as f:
            subprocess.run([UNBOUND_CONF, self.dir, str(self.port), self.key, self.chain, self.zone_a],
                           stdout=f, check=True)
        self.stderr = open(os.path.join(self.dir, "stderr.log"), "w")
        self.proc = subprocess.Popen(["unbound", "-d", "-c", conf], stdout=subprocess.DEVNULL, stderr=self.stderr)
        if not wait_for_tcp(self.port):
            self.stop()
            raise RuntimeError(f"unbound did not start on port {self.port}: {self.read_log()}")
        return self

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
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if getattr(self, "stderr", None):
            self.stderr.close()
            self.stderr = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()


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
