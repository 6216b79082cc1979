#!/usr/bin/env bash
# Makes a throw-away PKI for dotpin's tests in OUTDIR:
#   root.{key,crt}            self-signed root CA (ECDSA P-256)
#   issuing.{key,crt}         intermediate CA signed by the root
#   leaf-<kind>.{key,crt}     server certificates for dns.dotpin.test signed by the intermediate,
#                             kind in: rsa2048 rsa3072 rsa4096 p256 p384 ed25519
#   impostor.{key,crt}        another P-256 key for the same name from the same intermediate
#   leaf-short.{key,crt}      a genuine certificate that expires in 20 days (expiry warnings)
#   other-name.{key,crt}      a genuine-CA certificate for another name (wrong.dotpin.test)
#   expired.{key,crt}         a leaf whose validity ended in 2020
#   resolver.{key,crt}        the appliance's own DoT certificate for clients (resolver.dotpin.test)
#   spare.{key,pub}           a spare key with no certificate (for backup pins)
#   <name>.chain.pem          leaf + intermediate, what a server presents
#   <name>.pin                the expected pin-sha256, computed by the openssl pipeline of RFC 7469
#   ca-bundle.pem             root CA, for PKIX checks
#   hostile/                  impostor chains and broken paths made from these (make-hostile-pki.sh)
# Re-running into the same OUTDIR is a no-op once OUTDIR/.done exists (hostile/ has its own stamp).
set -euo pipefail
out=${1:?usage: make-test-pki.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
cd "$out"
# (A PKI made before a leaf was added is made anew.)
[ -f .done ] && [ -f resolver.chain.pem ] && exec "$here/make-hostile-pki.sh" "$PWD/hostile"
rm -rf hostile .done  # made from the old root: remade below
name=dns.dotpin.test

# shellcheck source=pki-lib.sh
. "$here/pki-lib.sh"

keygen() {  # kind file
  case $1 in
    rsa*) openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:${1#rsa}" -out "$2" 2>/dev/null ;;
    p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$2" ;;
    p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$2" ;;
    ed25519) openssl genpkey -algorithm ED25519 -out "$2" ;;
    *) echo "unknown key kind $1" >&2; exit 2 ;;
  esac
}

cat > ca.ext <<'X'
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
X

keygen p256 root.key
openssl req -x509 -new -key root.key -subj "/O=dotpin tests/CN=dotpin test root CA" -days 3650 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out root.crt
keygen p256 issuing.key
openssl req -new -key issuing.key -subj "/O=dotpin tests/CN=dotpin test issuing CA" -out issuing.csr
openssl x509 -req -in issuing.csr -CA root.crt -CAkey root.key -CAcreateserial -days 3000 \
  -extfile ca.ext -out issuing.crt 2>/dev/null

leaf() {  # file-stem kind cn days-or-dates
  local stem=$1 kind=$2 cn=$3
  keygen "$kind" "$stem.key"
  cat > "$stem.ext" <<X
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:$cn
X
  openssl req -new -key "$stem.key" -subj "/O=dotpin tests/CN=$cn" -out "$stem.csr"
  if [ "${4:-}" = expired ]; then
    "$here/sign-dated.sh" issuing.crt issuing.key "$stem.csr" "$stem.ext" 20190101000000Z 20200101000000Z "$stem.crt"
  else
    openssl x509 -req -in "$stem.csr" -CA issuing.crt -CAkey issuing.key -CAcreateserial -days "${4:-825}" \
      -extfile "$stem.ext" -out "$stem.crt" 2>/dev/null
  fi
  cat "$stem.crt" issuing.crt > "$stem.chain.pem"
  pin_of cert "$stem.crt" > "$stem.pin"
}

for kind in rsa2048 rsa3072 rsa4096 p256 p384 ed25519; do leaf "leaf-$kind" "$kind" "$name"; done
leaf impostor p256 "$name"
leaf other-name p256 wrong.dotpin.test
leaf expired p256 "$name" expired
leaf leaf-short p256 "$name" 20   # expires in 20 days: inside the expiry monitor's 30-day warning
leaf resolver p256 resolver.dotpin.test
keygen p256 spare.key
openssl pkey -in spare.key -pubout -out spare.pub
pin_of key spare.pub > spare.pin
pin_of cert root.crt > root.pin
pin_of cert issuing.crt > issuing.pin
cp root.crt ca-bundle.pem
rm -f ./*.csr ./*.ext
"$here/make-hostile-pki.sh" "$PWD/hostile"
touch .done
