#!/usr/bin/env bash
# Signs a CSR with explicit validity dates (OpenSSL 3.0's x509 has no -not_before/-not_after; the
# ca command has -startdate/-enddate). Used by make-test-pki.sh and make-hostile-pki.sh.
# Usage: sign-dated.sh CA.crt CA.key REQ.csr EXTFILE START END OUT.crt   (dates: YYYYMMDDHHMMSSZ)
set -euo pipefail
[ $# -eq 7 ] || { echo "usage: sign-dated.sh CA.crt CA.key REQ.csr EXTFILE START END OUT.crt" >&2; exit 2; }
db=$(mktemp -d /tmp/dotpin-ca-db.XXXXXX)
trap 'rm -rf "$db"' EXIT
: > "$db/index.txt"
openssl rand -hex 8 > "$db/serial"
cat > "$db/ca.cnf" <<X
[ca]
default_ca = d
[d]
database = $db/index.txt
serial = $db/serial
new_certs_dir = $db
default_md = sha256
policy = p
unique_subject = no
[p]
commonName = supplied
organizationName = optional
X
openssl ca -batch -config "$db/ca.cnf" -cert "$1" -keyfile "$2" -in "$3" -extfile "$4" \
  -startdate "$5" -enddate "$6" -out "$7" 2>/dev/null
