# SPDX-License-Identifier: Apache-2.0
"""Real DNSSEC zones for the DANE tests, on loopback only: a knotd of our own (config, rundir, databases
and zone files in one work directory, no system service) that serves

  dane.test.      signed by knot itself (dnssec-signing: on, one ECDSA P-256 CSK), with RRSIGs valid
                  for 2 hours so their expiration is plainly visible; the TLSA RRsets at
                  _853._tcp.<name>.dane.test. are what the test gives, and set_tlsa() changes them at
                  run time through a knotc transaction (knot re-signs what changed);
  bogus.test.     signed offline with ldns-signzone (its own key) over TLSA records that differ in
                  their last hex digit from the ones the test gave, and then tampered with: the signed
                  records are replaced by exactly the test's records, which knot serves as they are
                  (signing off). So the served records are the ones a test wants matched (a real
                  server's key), and their signatures are wrong. Its DS is in the trust anchor file, so a validator expects it signed, finds the
                  DNSKEY RRset valid and the TLSA signature wrong: "bogus" (a failed signature under a
                  trusted key), not "insecure" (which is data outside any anchor or below a proven
                  unsigned delegation);
  insecure.test.  not signed, and outside every anchor: "insecure".

A client reaches them with stub zones pointing at 127.0.0.1:<port> (libunbound's --stub), or through
the optional validating unbound recursive (RecursiveUnbound below), which has the same stubs.
Every process is stopped by PID; cleanup() removes the work directory."""

import os
import re
import shutil
import subprocess
import tempfile
import time

from dotpin_harness import ServerProcess, free_port, stop_process

ZONE, BOGUS_ZONE, INSECURE_ZONE = "dane.test.", "bogus.test.", "insecure.test."
RRSIG_LIFETIME_S = 2 * 3600
KNOT_POLICY = """policy:
  - id: short-rrsig
    algorithm: ecdsap256sha256
    single-type-signing: on
    dnskey-ttl: 300
    zone-max-ttl: 600
    propagation-delay: 0
    rrsig-lifetime: 2h
    rrsig-refresh: 30m
    rrsig-pre-refresh: 10m
"""


def tools_missing():
    """The programs the fixture runs that are not installed (scripts/install-deps.sh lists them)."""
    return [t for t in ("knotd", "knotc", "keymgr", "kdig", "ldns-keygen", "ldns-signzone") if not shutil.which(t)]


def _soa(zone):
    return f"{zone} 300 IN SOA ns.{zone} hostmaster.{zone} 1 3600 900 604800 60\n{zone} 300 IN NS ns.{zone}\n" \
           f"ns.{zone} 300 IN A 127.0.0.1\n"


def _tlsa_lines(owner, records, ttl):
    return "".join(f"{owner} {ttl} IN TLSA {r}\n" for r in records)


class DaneZone(ServerProcess):
    """tlsa: {name: [TLSA rdata in presentation form, "3 1 1 <hex>"]} for dane.test.; bogus: the same
    for bogus.test. (tampered after signing); insecure: the same for insecure.test."""

    def __init__(self, tlsa, bogus=None, insecure=None, ttl=300, workdir=None):
        self.dir = workdir or tempfile.mkdtemp(prefix="dotpin-knot-")
        self.port = free_port()
        self.tlsa, self.ttl = dict(tlsa), ttl
        self.bogus = dict(bogus or {})
        self.bogus_valid = set()  # names of bogus.test. served with their genuine signatures (make_bogus)
        self.insecure = dict(insecure or {})
        self.conf = os.path.join(self.dir, "knot.conf")
        self.socket = os.path.join(self.dir, "run", "knot.sock")
        self.log = os.path.join(self.dir, "knot.log")
        self.proc = None
        self._bogus_ds = ""

    # ---- set-up -------------------------------------------------------------------------------------

    def _write_zones(self):
        zones = os.path.join(self.dir, "zones")
        os.makedirs(zones, exist_ok=True)
        with open(os.path.join(zones, f"{ZONE}zone"), "w") as f:
            f.write(_soa(ZONE))
            # a name that exists without TLSA: a secure NODATA for _853._tcp.nodata.dane.test.
            f.write(f"_853._tcp.nodata.{ZONE} 300 IN TXT \"no TLSA here\"\n")
            for name, records in self.tlsa.items():
                f.write(_tlsa_lines(f"_853._tcp.{name}.{ZONE}", records, self.ttl))
        with open(os.path.join(zones, f"{INSECURE_ZONE}zone"), "w") as f:
            f.write(_soa(INSECURE_ZONE))
            for name, records in self.insecure.items():
                f.write(_tlsa_lines(f"_853._tcp.{name}.{INSECURE_ZONE}", records, self.ttl))
        self._sign_bogus(zones)

    def _sign_bogus(self, zones):
        """bogus.test.: signed offline with ldns-signzone, then one octet of every TLSA record changed."""
        keydir = os.path.join(self.dir, "bogus-key")
        if not os.path.isdir(keydir):
            os.makedirs(keydir)
            r = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", BOGUS_ZONE], cwd=keydir,
                               capture_output=True, text=True, check=True)
            self._bogus_key = os.path.join(keydir, r.stdout.strip())
            with open(self._bogus_key + ".ds") as f:
                self._bogus_ds = f.read()
        def flipped(data):
            return data[:-1] + ("0" if data[-1].lower() != "0" else "1")

        # What is signed: each record with its last hex digit changed; what is served: the record.
        served = {}
        unsigned = os.path.join(zones, f"{BOGUS_ZONE}zone.unsigned")
        with open(unsigned, "w") as f:
            f.write(_soa(BOGUS_ZONE))
            for name, records in self.bogus.items():
                if name in self.bogus_valid:  # signed as served: secure
                    f.write(_tlsa_lines(f"_853._tcp.{name}.{BOGUS_ZONE}", records, self.ttl))
                    continue
                signed = []
                for r in records:
                    head, data = r.rsplit(" ", 1)
                    served[flipped(data).lower()] = data.lower()
                    signed.append(f"{head} {flipped(data)}")
                f.write(_tlsa_lines(f"_853._tcp.{name}.{BOGUS_ZONE}", signed, self.ttl))
        now = int(time.time())
        subprocess.run(["ldns-signzone", "-i", time.strftime("%Y%m%d%H%M%S", time.gmtime(now - 3600)),
                        "-e", time.strftime("%Y%m%d%H%M%S", time.gmtime(now + RRSIG_LIFETIME_S)),
                        "-f", os.path.join(zones, f"{BOGUS_ZONE}zone"), unsigned, self._bogus_key],
                       capture_output=True, text=True, check=True)
        path = os.path.join(zones, f"{BOGUS_ZONE}zone")
        with open(path) as f:
            lines = f.read().splitlines()
        tampered = 0
        for i, line in enumerate(lines):
            fields = line.split()
            if len(fields) >= 8 and fields[3] == "TLSA" and "".join(fields[7:]).lower() in served:
                # back to the test's record: the signed RRset is no longer the one served
                data = "".join(fields[7:]).lower()
                fields = fields[:7] + [served[data]]
                lines[i] = "\t".join(fields)
                tampered += 1
        if tampered != sum(len(r) for n, r in self.bogus.items() if n not in self.bogus_valid):
            raise RuntimeError(f"bogus.test.: tampered {tampered} TLSA lines, expected {len(self.bogus)} RRsets' worth")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")

    def _write_conf(self):
        os.makedirs(os.path.join(self.dir, "run"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "db"), exist_ok=True)
        with open(self.conf, "w") as f:
            f.write(f"""server:
  rundir: "{self.dir}/run"
  listen: 127.0.0.1@{self.port}
database:
  storage: "{self.dir}/db"
  journal-db-max-size: 64M
  kasp-db-max-size: 16M
  timer-db-max-size: 16M
  catalog-db-max-size: 16M
control:
  listen: "{self.socket}"
log:
  - target: "{self.log}"
    any: info
{KNOT_POLICY}
template:
  - id: default
    storage: "{self.dir}/zones"
    file: "%s.zone"
    zonefile-sync: -1
zone:
  - domain: {ZONE}
    dnssec-signing: on
    dnssec-policy: short-rrsig
  - domain: {BOGUS_ZONE}
  - domain: {INSECURE_ZONE}
""")

    def start(self):
        missing = tools_missing()
        if missing:
            raise RuntimeError("missing " + ", ".join(missing))
        self._write_zones()
        self._write_conf()
        self.stderr = open(os.path.join(self.dir, "knotd.stderr"), "w")
        self.proc = subprocess.Popen(["knotd", "-c", self.conf], stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self._signed_soa() and self._serves(BOGUS_ZONE) and self._serves(INSECURE_ZONE):
                return self
            time.sleep(0.1)
        log = self.read_log()
        self.stop()
        raise RuntimeError(f"knotd did not serve signed {ZONE} on port {self.port}:\n{log}")

    # ---- queries ------------------------------------------------------------------------------------

    def kdig(self, *args):
        return subprocess.run(["kdig", "+timeout=2", "+retry=0", "-p", str(self.port), "@127.0.0.1", *args],
                              capture_output=True, text=True, timeout=10)

    def _signed_soa(self):
        out = self.kdig("+dnssec", ZONE, "SOA").stdout
        return "RRSIG" in out and "NOERROR" in out

    def _serves(self, zone):
        return "NOERROR" in self.kdig(zone, "SOA").stdout

    def query_tlsa(self, owner):
        """(TLSA records in presentation form, [(inception, expiration, original TTL) of each RRSIG
        over them], the RRset's TTL) as knot serves them, read with kdig +dnssec."""
        out = self.kdig("+dnssec", "+norec", "+noall", "+answer", "+nomultiline", owner, "TLSA").stdout
        records, sigs, ttl = [], [], None
        for line in out.splitlines():
            f = line.split()
            if len(f) < 5 or f[2] != "IN":
                continue
            if f[3] == "TLSA":
                records.append(" ".join(f[4:7]) + " " + "".join(f[7:]).lower())
                ttl = int(f[1])
            elif f[3] == "RRSIG" and f[4] == "TLSA":
                # type covered, algorithm, labels, original TTL, expiration, inception, key tag, signer, sig
                sigs.append((f[9], f[8], int(f[7])))
        return records, sigs, ttl

    # ---- helpers for the tests ----------------------------------------------------------------------

    def trust_anchor(self, path=None):
        """Writes the DS of dane.test. (from keymgr) and of bogus.test. (from ldns-keygen) to @path
        (default: anchors.ds in the work dir), in zone-file format, and returns the path. insecure.test.
        is deliberately left out: it stays outside every anchor."""
        path = path or os.path.join(self.dir, "anchors.ds")
        r = subprocess.run(["keymgr", "-c", self.conf, ZONE, "ds"], capture_output=True, text=True, timeout=20)
        if r.returncode != 0 or " DS " not in r.stdout:
            raise RuntimeError(f"keymgr ds failed: {r.stdout}{r.stderr}")
        with open(path, "w") as f:
            f.write(r.stdout)
            f.write(self._bogus_ds)
        return path

    def knotc(self, *args, check=True):
        r = subprocess.run(["knotc", "-s", self.socket, "-t", "10", *args], capture_output=True, text=True, timeout=20)
        if check and (r.returncode != 0 or "error" in r.stdout.lower()):
            raise RuntimeError(f"knotc {' '.join(args)}: {r.stdout}{r.stderr}")
        return r

    def set_tlsa(self, name, records, ttl=None, port=853):
        """Replaces the TLSA RRset at _<port>._tcp.<name>.dane.test. (an empty list removes it) in one
        knotc transaction; returns once knot serves the new RRset signed."""
        ttl = self.ttl if ttl is None else ttl
        owner = f"_{port}._tcp.{name}.{ZONE}"
        self.knotc("zone-begin", ZONE)
        try:
            if self.query_tlsa(owner)[0]:
                self.knotc("zone-unset", ZONE, owner, "TLSA")
            for rec in records:
                self.knotc("zone-set", ZONE, owner, str(ttl), "TLSA", *rec.split())
            self.knotc("zone-commit", ZONE)
        except Exception:
            self.knotc("zone-abort", ZONE, check=False)
            raise
        want = sorted(r.lower() for r in records)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            got, sigs, _ = self.query_tlsa(owner)
            if sorted(got) == want and (sigs or not want):
                return
            time.sleep(0.05)
        raise RuntimeError(f"knot does not serve the new {owner} TLSA RRset: {self.query_tlsa(owner)}")

    def make_bogus(self, name, records, tamper=True):
        """Serves tampered TLSA records at _853._tcp.<name>.bogus.test. (see the module comment): the
        zone is re-signed offline, tampered and reloaded. Returns the auth name to look up.
        tamper=False serves them with their genuine signatures (secure), so that a test can turn
        an RRset a client already validated bogus."""
        self.bogus[name] = list(records)
        if tamper:
            self.bogus_valid.discard(name)
        else:
            self.bogus_valid.add(name)
        self._sign_bogus(os.path.join(self.dir, "zones"))
        self.knotc("zone-reload", BOGUS_ZONE)
        owner = f"_853._tcp.{name}.{BOGUS_ZONE}"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if len(self.query_tlsa(owner)[0]) == len(records):
                return f"{name}.{BOGUS_ZONE}".rstrip(".")
            time.sleep(0.05)
        raise RuntimeError(f"knot does not serve {owner}")

    def stubs(self):
        """--stub arguments for dotpinctl: every zone of this server."""
        return [a for z in (ZONE, BOGUS_ZONE, INSECURE_ZONE) for a in ("--stub", f"{z}=127.0.0.1@{self.port}")]

    def read_log(self):
        text = ""
        for name in ("knot.log", "knotd.stderr"):
            try:
                with open(os.path.join(self.dir, name)) as f:
                    text += f.read()
            except OSError:
                pass
        return text

    def stop(self):
        stop_process(self.proc, 10)
        self.proc = None
        if getattr(self, "stderr", None):
            self.stderr.close()
            self.stderr = None


class RecursiveUnbound(ServerProcess):
    """A recursive unbound on 127.0.0.1:<port> with stub zones to a DaneZone's knot, for the
    --resolver path. validate=False runs it as a plain iterator: it passes every record through,
    bogus ones included, and leaves validation to the client. validate=True validates with the same
    anchors (a validating resolver withholds bogus data: its clients see SERVFAIL)."""

    def __init__(self, zone, anchors, validate=False):
        self.dir = tempfile.mkdtemp(prefix="dotpin-unbound-rec-")
        self.port = free_port()
        self.zone, self.anchors, self.validate = zone, anchors, validate
        self.proc = None

    def start(self):
        conf = os.path.join(self.dir, "unbound.conf")
        with open(conf, "w") as f:
            f.write(f"""server:
  interface: 127.0.0.1@{self.port}
  do-daemonize: no
  chroot: ""
  username: ""
  directory: "{self.dir}"
  pidfile: "{self.dir}/unbound.pid"
  logfile: "{self.dir}/unbound.log"
  use-syslog: no
  verbosity: 1
  do-ip6: no
  do-not-query-localhost: no
  module-config: "{'validator iterator' if self.validate else 'iterator'}"
""")
            if self.validate:
                f.write(f'  trust-anchor-file: "{self.anchors}"\n')
            for z in (ZONE, BOGUS_ZONE, INSECURE_ZONE):
                f.write(f'  local-zone: "{z}" transparent\n')
            for z in (ZONE, BOGUS_ZONE, INSECURE_ZONE):
                f.write(f'stub-zone:\n  name: "{z}"\n  stub-addr: 127.0.0.1@{self.zone.port}\n')
            f.write("remote-control:\n  control-enable: no\n")
        self.stderr = open(os.path.join(self.dir, "stderr.log"), "w")
        self.proc = subprocess.Popen(["unbound", "-d", "-c", conf], stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r = subprocess.run(["kdig", "+timeout=1", "+retry=0", "-p", str(self.port), "@127.0.0.1", ZONE, "SOA"],
                               capture_output=True, text=True, timeout=10)
            if "NOERROR" in r.stdout:
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"unbound recursive did not start on port {self.port}")

    def stop(self):
        stop_process(self.proc, 5)
        self.proc = None
        if getattr(self, "stderr", None):
            self.stderr.close()
            self.stderr = None
