#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Faulty DoT upstreams for the integration suites: each a real TCP (or TLS) server in a process of
its own, stopped by PID, that logs what it received so a test can prove what reached it.

  silent   accepts TCP connections and never sends a byte (a TLS handshake that never starts)
  garbage  completes a real TLS handshake with the key and chain it is given (so it passes the pins),
           reads a query, then answers with bytes that are no DNS: "framed" sends a length-prefixed
           random message, "unframed" sends raw random bytes whose first two announce a long frame
           that never comes
  stall    completes the handshake, reads queries and never answers
  slow     completes the handshake and answers each query after 100 ms with its question and no
           records (NOERROR): a working but slow name server

Run directly (`python3 upstream_faults.py MODE PORT LOG [KEY CHAIN]`) it serves until killed. The
FaultServer class starts one on a free port and stops it by PID."""

import os
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dotpin_harness import read_framed  # noqa: E402


def _log(path, line):
    with open(path, "a") as f:
        f.write(line + "\n")



def _serve_connection(mode, raw, ctx, log):
    try:
        if mode == "silent":
            _log(log, "accepted")
            while raw.recv(4096):  # read (the ClientHello) and never answer
                pass
            return
        conn = ctx.wrap_socket(raw, server_side=True)
        _log(log, "handshake")
        while True:
            q = read_framed(conn)
            if q is None:
                return
            _log(log, "query")
            if mode == "framed":
                junk = os.urandom(40)
                conn.sendall(len(junk).to_bytes(2, "big") + junk)
            elif mode == "unframed":
                conn.sendall(b"\x7f\xf0" + os.urandom(30))  # announces 32752 bytes, sends 30
            elif mode == "slow":
                time.sleep(0.1)
                reply = bytearray(q)
                reply[2] |= 0x80                       # QR
                reply[3] = (reply[3] & 0x10) | 0x80    # RA, rcode NOERROR (CD kept)
                conn.sendall(len(reply).to_bytes(2, "big") + bytes(reply))
            # stall: nothing
    except (OSError, ssl.SSLError) as e:
        _log(log, f"closed: {e.__class__.__name__}")
    finally:
        raw.close()


def serve(mode, port, log, key=None, chain=None):
    ctx = None
    if mode != "silent":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(chain, key)
        ctx.set_alpn_protocols(["dot"])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(64)
    _log(log, "listening")
    while True:
        raw, _ = srv.accept()
        threading.Thread(target=_serve_connection, args=(mode, raw, ctx, log), daemon=True).start()


class FaultServer:
    """One fault server (MODE above) on a free loopback port of the current namespace."""

    def __init__(self, mode, workdir, key=None, chain=None):
        from dotpin_harness import free_port
        self.mode, self.key, self.chain = mode, key, chain
        self.port = free_port()
        self.log = os.path.join(workdir, f"fault-{mode}-{self.port}.log")
        self.proc = None

    def start(self):
        from dotpin_harness import wait_for_tcp
        args = [sys.executable, os.path.abspath(__file__), self.mode, str(self.port), self.log]
        if self.key:
            args += [self.key, self.chain]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while "listening" not in self.lines() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not wait_for_tcp(self.port):
            self.stop()
            raise RuntimeError(f"fault server {self.mode} did not start")
        return self

    def lines(self):
        try:
            with open(self.log) as f:
                return f.read().split("\n")
        except OSError:
            return []

    def count(self, what):
        return sum(1 for line in self.lines() if line == what)

    def stop(self):
        from dotpin_harness import stop_process
        if self.proc:
            stop_process(self.proc, 5)
            self.proc = None

    cleanup = stop

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), sys.argv[3], *(sys.argv[4:6]))
