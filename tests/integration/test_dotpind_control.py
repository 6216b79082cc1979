#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The control plane against the real daemon: pins changed at runtime (reload, add, remove) under
a bounded dnsperf load with no lost or failed query, a key rollover to the backup pin and back, a
bad pin file that leaves the pins in force, cache flush, upstream drain/enable, log level, the
error path of every command, and a control socket that 200 idle connections cannot lock out. dotpind runs on net_tap in a namespace the test makes; the upstreams
are real unbound DoT servers on its loopback."""

import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from dotpin_harness import (dnsperf, main, APPLIANCE_V4, ApplianceSuite, Dotpind, UnboundDot, ctl, kdig, pki,  # noqa: E402
                            reference_pin, status_of)


def edited(source, old, new, to=None):
    """Writes the pin file @source with @old replaced by @new to @to (default: itself); returns
    @source's text before the edit."""
    with open(source) as f:
        text = f.read()
    assert old in text, f"{old!r} not in {source}"
    with open(to or source, "w") as f:
        f.write(text.replace(old, new))
    return text


@unittest.skipUnless(os.geteuid() == 0, "needs root for network namespaces and net_tap")
class ControlPlane(ApplianceSuite):
    TAG = "ctl"
    SERVERS = {"a": ("leaf-p256.key", "leaf-p256.chain.pem"), "b": ("leaf-p256.key", "leaf-p256.chain.pem")}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.queries = os.path.join(cls.dir, "unique.txt")
        with open(cls.queries, "w") as f:  # every query a miss: each goes over DoT
            for i in range(20000):
                f.write(f"u{i}.dotpin.test A\n")

    def ok(self, d, *args):
        code, out = d.ctl(*args)
        self.assertEqual(code, 0, out)
        self.assertTrue(out["ok"], out)
        return out["result"]

    def error(self, d, *args):
        code, out = d.ctl(*args)
        self.assertEqual(code, 2, out)
        self.assertFalse(out["ok"], out)
        return out["error"]

    def upstream(self, d, name):
        d.wait_published()
        for u in self.ok(d, "upstreams")["upstreams"]:
            if u["name"] == name:
                return u
        self.fail(f"no upstream {name}")

    @unittest.skipUnless(shutil.which("dnsperf"), "dnsperf not installed")
    def test_reload_under_load_drains_and_loses_no_query(self):
        good = self.pin_file("reload-good.toml", [("a", self.a, ["leaf-p256", "spare"]), ("b", self.b, ["leaf-p256", "spare"])])
        # Generation 2 pins a to the spare key only: its open connection no longer matches and must
        # drain; new connections to a are refused; a's share of the load fails over to b.
        cut = self.pin_file("reload-cut.toml", [("a", self.a, ["spare"]), ("b", self.b, ["leaf-p256", "spare"])])
        # `pins reload FILE` makes FILE's text the configured pin file's: the way back is a third file.
        restore = self.pin_file("reload-restore.toml", [("a", self.a, ["leaf-p256", "spare"]), ("b", self.b, ["leaf-p256", "spare"])])
        with Dotpind(self.dir, good, tag="rld") as d:
            reloads = []

            def reload_during_load():
                time.sleep(1.5)
                reloads.append(d.ctl("pins", "reload", cut))
                time.sleep(1.5)
                reloads.append(d.ctl("pins", "reload", restore))

            t = threading.Thread(target=reload_during_load)
            t.start()
            sent, lost, codes, out = dnsperf(self.queries, 5, 800)
            t.join()
            self.assertGreater(sent, 2000, out)
            self.assertEqual(lost, 0, out)
            self.assertNotIn("SERVFAIL", codes, out)
            self.assertEqual([c for c, _ in reloads], [0, 0], reloads)
            self.assertEqual(reloads[0][1]["result"]["generation"], 2)
            self.assertTrue(reloads[0][1]["result"]["adopted_by_all_lcores"], reloads)
            self.assertEqual(reloads[1][1]["result"]["generation"], 3)
            a = self.upstream(d, "a")
            self.assertGreaterEqual(a["drained_connections"], 1, a)
            self.assertGreaterEqual(a["failures"]["pin_mismatch"], 1, a)
            self.assertGreater(self.upstream(d, "b")["answers"], 0)
            listing = self.ok(d, "pins", "list")
            self.assertEqual(listing["generation"], 3)
            self.assertEqual([p["label"] for p in listing["upstreams"][0]["pins"]], ["leaf-p256", "spare"])
            # The configured file holds the last reloaded file's text (a restart keeps it).
            with open(good) as f, open(restore) as g:
                self.assertEqual(f.read(), g.read())
            with open(good + ".prev") as f, open(cut) as g:
                self.assertEqual(f.read(), g.read())
            m = d.metrics()
            self.assertEqual(m[("dotpin_pin_generation", frozenset())], 3)
            self.assertGreater(m[("dotpin_upstream_latency_seconds_count", frozenset({("upstream", "b")}))], 0)
        self.assertEqual(d.counter("pin_generations"), 2, d.summary)

    def test_bad_pin_file_is_rejected_with_its_line_and_pins_stay(self):
        good = self.pin_file("bad-base.toml", [("a", self.a, ["leaf-p256"])])
        bad = os.path.join(self.dir, "bad.toml")
        text = edited(good, 'name = "a"', 'name = "a"\nmode = "sometimes"', to=bad)
        with Dotpind(self.dir, good, tag="bad") as d:
            err = self.error(d, "pins", "reload", bad)
            self.assertRegex(err, re.escape(bad) + r":\d+:\d+: error: .*mode")
            self.assertIn("pins in force are unchanged", err)
            self.assertEqual(self.ok(d, "status")["pin_generation"], 1)
            r = kdig(f"@{APPLIANCE_V4}", "www.dotpin.test", "A")
            self.assertIn("198.18.0.10", r.stdout)
            with open(good) as f:
                self.assertEqual(f.read(), text)  # the configured file is untouched
            # Commands with bad arguments get an error message, not a hang or a change.
            self.assertIn("no upstream named 'zz'", self.error(d, "pins", "add", "zz", reference_pin("spare")))
            self.assertIn("pin 'abc'", self.error(d, "pins", "add", "a", "abc"))
            self.assertIn("only pin", self.error(d, "pins", "remove", "a", "leaf-p256"))
            self.assertIn("--not-after 'soon'", self.error(d, "pins", "add", "a", reference_pin("spare"), "--not-after", "soon"))
            self.assertIn("no upstream named 'zz'", self.error(d, "upstream", "drain", "zz"))
            self.assertIn("unknown log level 'loud'", self.error(d, "log", "level", "loud"))
            self.assertIn("is not a domain name", self.error(d, "cache", "flush", "a..b"))
            self.assertEqual(self.ok(d, "status")["pin_generation"], 1)

    def test_a_reload_that_strands_the_only_upstream_is_refused_unless_forced(self):
        # The hostile review's case: a pin file whose only upstream has no pin valid now (its one
        # pin counts from 2099) was accepted, written and published; every miss then failed.
        good = self.pin_file("strand-good.toml", [("a", self.a, ["leaf-p256"])])
        stranded = os.path.join(self.dir, "strand-later.toml")
        text = edited(good, 'label = "leaf-p256" }', 'label = "leaf-p256", not_before = 2099-01-01 }', to=stranded)
        with Dotpind(self.dir, good, tag="str") as d:
            err = self.error(d, "pins", "reload", stranded)
            self.assertIn("upstream 'a' would have no pin valid now (its pins: 'leaf-p256' counts from 2099-01-01", err)
            self.assertIn("no upstream of the pool would have a pin valid now", err)
            self.assertIn("pins in force are unchanged", err)
            self.assertIn("--force", err)
            self.assertEqual(self.ok(d, "status")["pin_generation"], 1)
            with open(good) as f:
                self.assertEqual(f.read(), text)  # nothing written
            before = self.a.queries_logged()
            r = kdig(f"@{APPLIANCE_V4}", "strand1.dotpin.test", "A")
            self.assertEqual(status_of(r.stdout), "NXDOMAIN", r.stdout)  # the zone's answer: the upstream still serves
            self.assertGreater(self.a.queries_logged(), before)
            # The same edit made to the configured file itself, then `pins reload`: refused the same.
            shutil.copy(stranded, good)
            self.assertIn("would have no pin valid now", self.error(d, "pins", "reload"))
            # --force: the operator's explicit choice, told what it overrode; a is now unreachable
            # and no query reaches it.
            r = self.ok(d, "pins", "reload", "--force")
            self.assertEqual(r["generation"], 2)
            self.assertEqual(len(r["forced"]), 2, r)
            d.wait_published()
            before = self.a.queries_logged()
            r = kdig(f"@{APPLIANCE_V4}", "strand2.dotpin.test", "A")
            self.assertEqual(status_of(r.stdout), "SERVFAIL", r.stdout)
            time.sleep(0.2)
            self.assertEqual(self.a.queries_logged(), before)
            self.assertIn("forced although upstream 'a' would have no pin valid now", d.read_log())

    def test_a_reload_into_report_mode_is_a_downgrade_refused_unless_forced(self):
        # Report mode uses a server whatever key it shows: a reload must not slip it in. The hostile
        # file moves upstream a to an impostor (valid for the same name under the same CA, another
        # key) in report mode; refused, the impostor gets no query. Forced, it is used: what the
        # refusal prevented.
        impostor = UnboundDot(pki("impostor.key"), pki("impostor.chain.pem")).start()
        try:
            good = self.pin_file("rep-good.toml", [("a", self.a, ["leaf-p256"])])
            report = self.pin_file("rep-report.toml", [("a", impostor, ["leaf-p256"])])
            edited(report, 'auth_name = ', 'mode = "report"\nauth_name = ')
            with Dotpind(self.dir, good, tag="rep") as d:
                err = self.error(d, "pins", "reload", report)
                self.assertIn("upstream 'a' would be in mode 'report' (it enforces its pins now)", err)
                self.assertIn("pins in force are unchanged", err)
                self.assertEqual(self.ok(d, "status")["pin_generation"], 1)
                before = self.a.queries_logged()
                r = kdig(f"@{APPLIANCE_V4}", "rep0.dotpin.test", "A")
                self.assertEqual(status_of(r.stdout), "NXDOMAIN", r.stdout)
                self.assertGreater(self.a.queries_logged(), before)  # the genuine server, still pinned
                self.assertEqual(impostor.queries_logged(), 0, impostor.read_log())
                r = self.ok(d, "pins", "reload", report, "--force")
                self.assertEqual(r["generation"], 2)
                self.assertTrue(any("mode 'report'" in x for x in r["forced"]), r)
                log = d.read_log()
                self.assertIn("forced although upstream 'a' would be in mode 'report'", log)
                self.assertIn("upstream 'a' is in mode 'report' in generation 2", log)
                d.wait_published()
                r = kdig(f"@{APPLIANCE_V4}", "rep1.dotpin.test", "A")
                self.assertEqual(status_of(r.stdout), "NXDOMAIN", r.stdout)  # admitted by report mode, as forced
                self.assertGreaterEqual(self.upstream(d, "a").get("report_mode_mismatches", 0), 1)
                self.assertGreater(impostor.queries_logged(), 0)
                # Back to enforce: no force needed, and no more warning. (The forced reload wrote the
                # report table into the configured file, good's path: the enforcing table comes from
                # a file of its own.)
                with open(good) as f:
                    self.assertIn('mode = "report"', f.read())
                enforce = self.pin_file("rep-enforce.toml", [("a", self.a, ["leaf-p256"])])
                self.assertEqual(self.ok(d, "pins", "reload", enforce)["generation"], 3)
                self.assertEqual(self.upstream(d, "a")["mode"], "enforce")
                self.assertNotIn("in mode 'report' in generation 3", d.read_log())
            # A restart with the forced file in place is not quiet about it either.
            with Dotpind(self.dir, report, tag="rep2") as d:
                self.assertIn("upstream 'a' is in mode 'report' in generation 1", d.read_log())
        finally:
            impostor.cleanup()

    def test_add_and_remove_persist_atomically(self):
        path = self.pin_file("persist.toml", [("a", self.a, ["leaf-p256"])])
        os.chmod(path, 0o640)
        with Dotpind(self.dir, path, tag="per") as d:
            r = self.ok(d, "pins", "add", "a", reference_pin("spare"), "--label", "spare-2027", "--not-after", "2030-01-01")
            self.assertEqual(r["generation"], 2)
            with open(path) as f:
                text = f.read()
            self.assertIn(reference_pin("spare"), text)
            self.assertIn("not_after = 2030-01-01T00:00:00Z", text)
            self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o640)
            self.assertTrue(os.path.exists(path + ".prev"))
            self.assertFalse(os.path.exists(path + ".tmp"))
            # The written file is a valid pin file for the offline tool too.
            chk = ctl("pins", "check", path)
            self.assertIn(chk.returncode, (0, 1), chk.stdout + chk.stderr)
            self.assertIn("spare-2027", self.ok(d, "pins", "list")["upstreams"][0]["pins"][1]["label"])
            r = self.ok(d, "pins", "remove", "a", "spare-2027")
            self.assertEqual(r["generation"], 3)
            with open(path) as f:
                self.assertNotIn(reference_pin("spare"), f.read())
            r = kdig(f"@{APPLIANCE_V4}", "www.dotpin.test", "A")
            self.assertIn("198.18.0.10", r.stdout)
        # A restart loads what the CLI persisted.
        self.ok_restart(path)

    def ok_restart(self, path):
        with Dotpind(self.dir, path, tag="rs") as d:
            pins = self.ok(d, "pins", "list")["upstreams"][0]["pins"]
            self.assertEqual([p["label"] for p in pins], ["leaf-p256"])

    @unittest.skipUnless(shutil.which("dnsperf"), "dnsperf not installed")
    def test_key_rollover_to_the_backup_pin_and_back_fails_no_query(self):
        rot = UnboundDot(pki("leaf-p256.key"), pki("leaf-p256.chain.pem")).start()
        self.servers.append(rot)
        # a rotates between two keys, both pinned (primary + backup); b keeps the pool answering
        # while a's server restarts with its new key.
        pins = self.pin_file("rollover.toml", [("a", rot, ["leaf-p256", "leaf-rsa2048"]), ("b", self.b, ["leaf-p256"])])
        with Dotpind(self.dir, pins, tag="rot") as d:
            def rotate():
                time.sleep(1.0)
                rot.restart_with(pki("leaf-rsa2048.key"), pki("leaf-rsa2048.chain.pem"))
                time.sleep(2.0)
                rot.restart_with(pki("leaf-p256.key"), pki("leaf-p256.chain.pem"))

            t = threading.Thread(target=rotate)
            t.start()
            sent, lost, codes, out = dnsperf(self.queries, 6, 500)
            t.join()
            self.assertEqual(lost, 0, out)
            self.assertNotIn("SERVFAIL", codes, out)
            a = self.upstream(d, "a")
            # Three full handshakes to a at least: the primary key, the backup key, the primary again;
            # none refused for its pin.
            self.assertGreaterEqual(a["full_handshakes"], 3, a)
            self.assertEqual(a["failures"]["pin_mismatch"], 0, a)
            self.assertEqual(a["state"], "up", a)
        rot.cleanup()
        self.servers.remove(rot)

    def test_cache_flush_drain_enable_and_log_level(self):
        pins = self.pin_file("ops.toml", [("a", self.a, ["leaf-p256"]), ("b", self.b, ["leaf-p256"])])
        with Dotpind(self.dir, pins, tag="ops") as d:
            for name in ("www.dotpin.test", "www.dotpin.test", "other.dotpin.test"):
                kdig(f"@{APPLIANCE_V4}", name, "A")
            r = self.ok(d, "cache", "flush", "WWW.dotpin.test")
            self.assertEqual(r["removed"], 1, r)  # one name, case-insensitively; the other stays
            kdig(f"@{APPLIANCE_V4}", "other.dotpin.test", "A")
            kdig(f"@{APPLIANCE_V4}", "www.dotpin.test", "A")
            self.assertEqual(self.ok(d, "cache", "flush")["removed"], 2)
            # Drain a: every query goes to b until a is enabled again.
            self.assertEqual(self.ok(d, "upstream", "drain", "a")["state"], "drained")
            a_before = self.a.queries_logged()
            for i in range(6):
                r = kdig(f"@{APPLIANCE_V4}", f"d{i}.dotpin.test", "A")
                self.assertIn("NXDOMAIN", r.stdout)
            self.assertEqual(self.a.queries_logged(), a_before)
            self.assertEqual(self.upstream(d, "a")["state"], "drained")
            self.ok(d, "upstream", "enable", "a")
            for i in range(6):
                kdig(f"@{APPLIANCE_V4}", f"e{i}.dotpin.test", "A")
            self.assertGreater(self.a.queries_logged(), a_before)
            self.assertEqual(self.upstream(d, "a")["state"], "up")
            self.assertEqual(self.ok(d, "log", "level")["level"], "info")
            r = self.ok(d, "log", "level", "warn")
            self.assertEqual((r["previous"], r["level"]), ("info", "warn"))
            code, text = d.ctl("pins", "list", json_out=False)
            self.assertEqual(code, 0, text)
            self.assertRegex(text, r"UPSTREAM\s+MODE\s+LABEL\s+PIN\s+STATE\s+ORIGIN")
        self.assertIn("cache flush: WWW.dotpin.test: 1 entries removed", d.summary)
        self.assertIn("log level info -> warn", d.summary)

    def test_idle_connections_cannot_lock_the_operator_out(self):
        # Issue 19: 32 idle connections used to refuse every operator for the idle timeout (30 s).
        pins = self.pin_file("lockout.toml", [("a", self.a, ["leaf-p256"])])
        with Dotpind(self.dir, pins, tag="lck") as d:
            t0 = time.monotonic()
            self.assertEqual(d.ctl("status")[0], 0)
            print(f"\ndotpinctl status, no other control connection: {(time.monotonic() - t0) * 1000:.0f} ms",
                  file=sys.stderr)
            socks = []
            try:
                for i in range(200):
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    s.connect(d.socket)
                    if i % 4 == 0:
                        try:
                            s.send(b'{"comm')  # a slow-loris's first bytes; the rest never comes
                        except OSError:  # closed already (a daemon that refuses clients when full)
                            pass
                    socks.append(s)
                for _ in range(3):
                    t0 = time.monotonic()
                    code, out = d.ctl("status")
                    elapsed = time.monotonic() - t0
                    self.assertEqual(code, 0, out)
                    self.assertTrue(out["ok"], out)
                    self.assertEqual(out["result"]["pin_generation"], 1)
                    print(f"\ndotpinctl status with 200 idle/slow control connections open: {elapsed * 1000:.0f} ms",
                          file=sys.stderr)
                # Every one of them is closed: evicted for a newer client or at the request deadline
                # (2 s). A bound for the test to end, not a timing claim.
                deadline = time.monotonic() + 30
                for s in socks:
                    s.settimeout(max(0.1, deadline - time.monotonic()))
                    said = b""
                    while True:
                        chunk = s.recv(4096)
                        if not chunk:
                            break
                        said += chunk
                    self.assertTrue(b"no complete request" in said or b"control socket busy" in said, said)
            finally:
                for s in socks:
                    s.close()
            for _ in range(100):  # the warn line: counts only
                if "control socket: closed" in d.read_log():
                    break
                time.sleep(0.1)
            self.assertIn("evicted", d.read_log())
            m = d.metrics()
            closed = {dict(k[1])["reason"]: v for k, v in m.items() if k[0] == "dotpin_control_clients_closed_total"}
            self.assertEqual(closed["evicted"] + closed["request_deadline"], 200, closed)
            self.assertGreaterEqual(m[("dotpin_control_clients_accepted_total", frozenset())], 203)
            self.assertEqual(self.ok(d, "status")["pin_generation"], 1)
        self.assertRegex(d.summary, r"control socket: closed \d+ client\(s\) without a complete request within 2000 ms")

    def test_expiry_monitor_warns_once_alerts_and_exports(self):
        short = UnboundDot(pki("leaf-short.key"), pki("leaf-short.chain.pem")).start()
        self.servers.append(short)
        path = os.path.join(self.dir, "expiry.toml")
        with open(path, "w") as f:  # one pin valid, ending in 5 days; the server's certificate ends in 20
            f.write(f'[[upstream]]\nname = "s"\naddress = "127.0.0.1:{short.port}"\nauth_name = "dns.dotpin.test"\n'
                    f'pin = [ {{ sha256 = "{reference_pin("leaf-short")}", label = "short",'
                    f' not_after = {time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 5 * 86400))} }} ]\n')
        alerts = os.path.join(self.dir, "alerts.txt")
        extra = (f'\n[expiry]\nwarn_days = [30, 7]\n'
                 f'alert_command = "echo $DOTPIN_UPSTREAM $DOTPIN_KIND $DOTPIN_STATUS $DOTPIN_THRESHOLD_DAYS >> {alerts}"\n')
        with Dotpind(self.dir, path, tag="exp", extra_config=extra) as d:
            code, out = d.ctl("expiry", "--refresh")
            self.assertEqual(code, 1, out)  # warnings, no errors
            items = {(i["kind"], i["status"], i["threshold_days"]) for i in out["result"]["items"]}
            self.assertIn(("certificate", "warning", 30), items, out)
            self.assertIn(("pin_window", "warning", 7), items, out)
            self.assertIn(("valid_pins", "warning", None), items, out)
            cert = next(i for i in out["result"]["items"] if i["kind"] == "certificate")
            self.assertIn(cert["days_left"], (19, 20), cert)
            code, text = d.ctl("expiry", json_out=False)
            self.assertEqual(code, 1, text)
            self.assertRegex(text, r"UPSTREAM\s+KIND\s+ITEM\s+NOT_AFTER\s+DAYS\s+STATUS")
            self.assertIn("warning (30d)", text)
            m = d.metrics()
            status = {dict(k[1])["kind"]: v for k, v in m.items() if k[0] == "dotpin_expiry_status"}
            self.assertEqual(status["certificate"], 1, status)
            secs = [v for k, v in m.items() if k[0] == "dotpin_expiry_seconds" and dict(k[1])["kind"] == "certificate"]
            self.assertTrue(19 * 86400 < secs[0] <= 20 * 86400, secs)
            d.ctl("expiry", "--refresh")  # a second round: nothing new to say
        with open(alerts) as f:
            lines = sorted(f.read().splitlines())
        self.assertEqual(lines, ["s certificate warning 30", "s pin_window warning 7", "s valid_pins warning"], lines)
        self.assertEqual(d.summary.count("expiry warning: upstream s: server certificate"), 1, d.summary)
        short.cleanup()
        self.servers.remove(short)


if __name__ == "__main__":
    main()
