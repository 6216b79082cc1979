#!/usr/bin/env bash
# Makes the hostile upstreams of dotpin's pin-path tests in OUTDIR (normally TEST-PKI/hostile), from
# the genuine root, issuing CA and leaf-p256 that make-test-pki.sh left in OUTDIR/.. . For each case
# STEM (what a server would present, element 0 first, in the order given):
#   STEM.chain.pem   the chain a server presents        STEM.key   the key of element 0
#   STEM.crt         element 0 (the leaf)               STEM.pin   element 0's pin-sha256
# Impostors who hold only their own keys but append the genuine server's public certificates:
#   selfsigned-plus-leaf      self-signed leaf for the name + genuine leaf-p256 + issuing
#   rogue-plus-issuing        leaf from a rogue self-signed CA + genuine issuing + rogue CA
#   misissued-plus-leaf       the CA-valid impostor (genuine issuing, other key) + genuine leaf-p256 + issuing
#   forged-issuer             leaf from a fake CA that copies the issuing CA's subject AND key identifier
#                             (forged-ca.*, another key) + genuine issuing + root
#   genuine-spki-by-impostor  leaf signed by the rogue key in the issuing CA's name + spki-clone.crt: a
#                             CA:TRUE certificate carrying the genuine issuing key, signed by the rogue CA
#   other-intermediate        leaf from other-issuing (a second genuine intermediate) + genuine issuing +
#                             other-issuing (PKIX-valid through other-issuing)
# Broken links (pinned: the intermediate):
#   expired-intermediate      leaf from expired-ca (validity ended 2020) + expired-ca
#   non-ca-issuer             leaf signed by non-ca (CA:FALSE, under issuing) + non-ca + issuing
#   pathlen-exceeded          leaf from pathlen-sub + pathlen-sub + pathlen0 (CA, pathlen:0, under root)
# Wrong names (genuine issuing CA, own key, so their own pins match): partial-wildcard (DNS:d*.dotpin.test),
#   uri-san (URI:https://dns.dotpin.test/ only), cn-only (CN, no SAN), star-test (DNS:*.test)
# Genuine chains that must still pass: root-sent (leaf-p256 + issuing + root), out-of-order
#   (leaf-p256 + root + issuing), extra-unrelated (leaf-p256 + unrelated.crt + issuing), wildcard-ok
#   (DNS:*.dotpin.test from the issuing CA)
# Helper CAs also get NAME.{crt,key,pin}. Every artefact is checked with openssl verify as it is made.
# Re-running is a no-op once OUTDIR/.done holds this script's checksum (a changed script remakes OUTDIR).
set -euo pipefail
out=${1:?usage: make-hostile-pki.sh OUTDIR}
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
sum=$(cat "$self" "$(dirname "$self")/sign-dated.sh" "$(dirname "$self")/pki-lib.sh" | sha256sum | cut -d' ' -f1)
mkdir -p "$out"
cd "$out"
g=$(cd .. && pwd)  # the genuine PKI
for f in root.crt root.key issuing.crt issuing.key leaf-p256.crt leaf-p256.key impostor.crt impostor.key; do
  [ -f "$g/$f" ] || { echo "make-hostile-pki.sh: $g/$f missing (run make-test-pki.sh)" >&2; exit 2; }
done
[ -f .done ] && [ "$(cat .done)" = "$sum" ] && exit 0
if [ -f .done ]; then rm -rf ./* .done; fi  # stale: made by another version of this script
name=dns.dotpin.test
issuing_subject="/O=dotpin tests/CN=dotpin test issuing CA"

# shellcheck source=pki-lib.sh
. "$(dirname "$self")/pki-lib.sh"

keygen() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

ca_ext() {  # file [basicConstraints extra, e.g. ", pathlen:0"] [SKI value instead of the hash]
  cat > "$1" <<X
basicConstraints = critical, CA:TRUE${2:-}
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = ${3:-hash}
X
}

leaf_ext() {  # file SAN (empty: no subjectAltName at all) [AKID]
  cat > "$1" <<X
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = ${3:-keyid}
X
  [ -z "$2" ] || echo "subjectAltName = $2" >> "$1"
}

csr() { openssl req -new -key "$1" -subj "$2" -out "$3" 2>/dev/null; }  # key subject out

issue() {  # stem subject ca.crt ca.key extfile [days]: a new key stem.key and stem.crt signed by ca
  keygen "$1.key"
  csr "$1.key" "$2" "$1.csr"
  openssl x509 -req -in "$1.csr" -CA "$3" -CAkey "$4" -CAcreateserial -days "${6:-825}" \
    -extfile "$5" -out "$1.crt" 2>/dev/null
  pin_of cert "$1.crt" > "$1.pin"
}

selfsigned() {  # stem subject extfile: a new key stem.key and a self-signed stem.crt
  keygen "$1.key"
  csr "$1.key" "$2" "$1.csr"
  openssl x509 -req -in "$1.csr" -signkey "$1.key" -days 825 -extfile "$3" -out "$1.crt" 2>/dev/null
  pin_of cert "$1.crt" > "$1.pin"
}

chain() {  # stem cert...: stem.chain.pem, element 0 first; stem.key/.crt/.pin when element 0 is not stem's own
  local stem=$1 leaf=$2
  shift
  cat "$@" > "$stem.chain.pem"
  if [ "$leaf" != "$stem.crt" ]; then
    cp "$leaf" "$stem.crt"
    cp "${leaf%.crt}.key" "$stem.key"
    pin_of cert "$stem.crt" > "$stem.pin"
  fi
  chmod 600 "$stem.key"
}

ok() {  # what openssl verify must accept: leaf [untrusted...]   (trust anchor: the genuine root)
  local leaf=$1
  shift
  local u=()
  [ $# -eq 0 ] || { cat "$@" > untrusted.pem; u=(-untrusted untrusted.pem); }
  openssl verify -CAfile "$g/root.crt" "${u[@]}" -purpose sslserver "$leaf" > verify.out 2>&1 ||
    { echo "make-hostile-pki.sh: expected $leaf to verify:" >&2; cat verify.out >&2; exit 1; }
}

refused() {  # what openssl verify must refuse, and with which error: code leaf [untrusted...]
  local code=$1 leaf=$2
  shift 2
  local u=()
  [ $# -eq 0 ] || { cat "$@" > untrusted.pem; u=(-untrusted untrusted.pem); }
  if openssl verify -CAfile "$g/root.crt" "${u[@]}" -purpose sslserver "$leaf" > verify.out 2>&1; then
    echo "make-hostile-pki.sh: $leaf verified but must not" >&2; exit 1
  fi
  grep -q "error $code " verify.out ||
    { echo "make-hostile-pki.sh: $leaf: expected verify error $code:" >&2; cat verify.out >&2; exit 1; }
}

not_signed_by() {  # cert issuer-cert: the issuer's key did not sign cert
  if openssl verify -partial_chain -CAfile "$2" "$1" > verify.out 2>&1; then
    echo "make-hostile-pki.sh: $1 is signed by $2's key, must not be" >&2; exit 1
  fi
}

same_key() {  # a b: the two certificates carry the same public key
  [ "$(pin_of cert "$1")" = "$(pin_of cert "$2")" ] ||
    { echo "make-hostile-pki.sh: $1 and $2 carry other keys" >&2; exit 1; }
}

has_ext() {  # cert text: the certificate's text form contains text
  openssl x509 -in "$1" -noout -text | grep -F -- "$2" > /dev/null ||
    { echo "make-hostile-pki.sh: $1 lacks '$2'" >&2; exit 1; }
}

pin_of cert "$g/issuing.crt" > issuing.pin
pin_of cert "$g/root.crt" > root.pin
pin_of cert "$g/leaf-p256.crt" > leaf-p256.pin
ca_ext ca.ext
leaf_ext leaf.ext "DNS:$name"

# 1. A self-signed leaf for the name; the genuine leaf and issuing CA appended. Its issuer name is
#    its own subject, O=dotpin tests/CN=dns.dotpin.test: exactly the genuine leaf's subject.
leaf_ext ss.ext "DNS:$name" none
selfsigned ss-leaf "/O=dotpin tests/CN=$name" ss.ext
chain selfsigned-plus-leaf ss-leaf.crt "$g/leaf-p256.crt" "$g/issuing.crt"
refused 18 ss-leaf.crt "$g/leaf-p256.crt" "$g/issuing.crt"   # self-signed leaf
not_signed_by ss-leaf.crt "$g/leaf-p256.crt"

# 2. A rogue self-signed CA issues a leaf for the name; the genuine issuing CA rides along.
selfsigned rogue-ca "/O=dotpin tests/CN=rogue CA" ca.ext
issue rogue-leaf "/O=dotpin tests/CN=$name" rogue-ca.crt rogue-ca.key leaf.ext
chain rogue-plus-issuing rogue-leaf.crt "$g/issuing.crt" rogue-ca.crt
refused 19 rogue-leaf.crt "$g/issuing.crt" rogue-ca.crt       # self-signed in chain
not_signed_by rogue-leaf.crt "$g/issuing.crt"

# 3. The misissued (CA-valid) impostor with the genuine leaf appended.
cp "$g/impostor.crt" impostor.crt
cp "$g/impostor.key" impostor.key
chain misissued-plus-leaf impostor.crt "$g/leaf-p256.crt" "$g/issuing.crt"
ok impostor.crt "$g/leaf-p256.crt" "$g/issuing.crt"           # PKIX alone accepts it
not_signed_by impostor.crt "$g/leaf-p256.crt"

# 4. A fake CA with the genuine issuing CA's subject and subjectKeyIdentifier but another key; its
#    leaf names the genuine CA as issuer (name and AKID) and is sent with the genuine CA and root.
ski=$(openssl x509 -in "$g/issuing.crt" -noout -ext subjectKeyIdentifier | sed -n 2p | tr -d ' ')
ca_ext forged.ext "" "$ski"
selfsigned forged-ca "$issuing_subject" forged.ext
has_ext forged-ca.crt "$ski"
leaf_ext forged-leaf.ext "DNS:$name" "keyid:always"
issue forged-leaf "/O=dotpin tests/CN=$name" forged-ca.crt forged-ca.key forged-leaf.ext
has_ext forged-leaf.crt "$ski"                               # AKID = the genuine SKI
[ "$(openssl x509 -in forged-leaf.crt -noout -issuer | sed 's/^issuer=//')" = \
  "$(openssl x509 -in "$g/issuing.crt" -noout -subject | sed 's/^subject=//')" ]   # issuer name = genuine subject
chain forged-issuer forged-leaf.crt "$g/issuing.crt" "$g/root.crt"
refused 7 forged-leaf.crt "$g/issuing.crt"                     # certificate signature failure
not_signed_by forged-leaf.crt "$g/issuing.crt"

# 5. The genuine issuing CA's public key in a CA:TRUE certificate that the rogue CA signed, with the
#    genuine subject (so the pin on the issuing key matches its SPKI); the leaf before it claims that
#    issuer name and key identifier but was signed by the rogue key, which element 1's key never was.
openssl x509 -in "$g/issuing.crt" -pubkey -noout > issuing.pub
csr rogue-ca.key "$issuing_subject" clone.csr
openssl x509 -req -in clone.csr -force_pubkey issuing.pub -CA rogue-ca.crt -CAkey rogue-ca.key \
  -CAcreateserial -days 825 -extfile ca.ext -out spki-clone.crt 2>/dev/null
same_key spki-clone.crt "$g/issuing.crt"
pin_of cert spki-clone.crt > spki-clone.pin
ca_ext rogue-as-issuing.ext "" "$ski"
openssl x509 -req -in clone.csr -signkey rogue-ca.key -days 825 -extfile rogue-as-issuing.ext \
  -out rogue-as-issuing.crt 2>/dev/null                        # only to sign with: never presented
issue clone-leaf "/O=dotpin tests/CN=$name" rogue-as-issuing.crt rogue-ca.key forged-leaf.ext
chain genuine-spki-by-impostor clone-leaf.crt spki-clone.crt
not_signed_by clone-leaf.crt spki-clone.crt
not_signed_by clone-leaf.crt "$g/issuing.crt"
refused 7 clone-leaf.crt "$g/issuing.crt"

# 6. A second genuine intermediate under the root; its leaf with the pinned issuing CA appended.
issue other-issuing "/O=dotpin tests/CN=dotpin other issuing CA" "$g/root.crt" "$g/root.key" ca.ext 3000
issue other-leaf "/O=dotpin tests/CN=$name" other-issuing.crt other-issuing.key leaf.ext
chain other-intermediate other-leaf.crt "$g/issuing.crt" other-issuing.crt
ok other-leaf.crt "$g/issuing.crt" other-issuing.crt        # PKIX-valid through other-issuing
not_signed_by other-leaf.crt "$g/issuing.crt"

# 7. An intermediate whose validity ended in 2020 and a leaf from it that is valid now.
#    (OpenSSL 3.0's x509 has no -not_before/-not_after; the ca command sets explicit dates.)
keygen expired-ca.key
csr expired-ca.key "/O=dotpin tests/CN=dotpin expired issuing CA" expired-ca.csr
"$(dirname "$self")/sign-dated.sh" "$g/root.crt" "$g/root.key" expired-ca.csr ca.ext 20190101000000Z 20200101000000Z \
  expired-ca.crt
pin_of cert expired-ca.crt > expired-ca.pin
issue expired-ca-leaf "/O=dotpin tests/CN=$name" expired-ca.crt expired-ca.key leaf.ext
chain expired-intermediate expired-ca-leaf.crt expired-ca.crt
refused 10 expired-ca-leaf.crt expired-ca.crt                  # certificate has expired
openssl verify -no_check_time -CAfile "$g/root.crt" -untrusted expired-ca.crt expired-ca-leaf.crt \
  > /dev/null                                                     # only the date is wrong

# 8. A CA:FALSE certificate under the issuing CA whose key signs a leaf anyway.
cat > non-ca.ext <<'X'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:notaca.dotpin.test
X
issue non-ca "/O=dotpin tests/CN=dotpin not a CA" "$g/issuing.crt" "$g/issuing.key" non-ca.ext
ok non-ca.crt "$g/issuing.crt"
issue non-ca-leaf "/O=dotpin tests/CN=$name" non-ca.crt non-ca.key leaf.ext
chain non-ca-issuer non-ca-leaf.crt non-ca.crt "$g/issuing.crt"
refused 79 non-ca-leaf.crt non-ca.crt "$g/issuing.crt"         # invalid CA certificate

# 9. pathlen:0 under the root, a sub-CA under it anyway, a leaf under the sub-CA.
ca_ext pathlen0.ext ", pathlen:0"
issue pathlen0 "/O=dotpin tests/CN=dotpin pathlen 0 CA" "$g/root.crt" "$g/root.key" pathlen0.ext 3000
has_ext pathlen0.crt "pathlen:0"
openssl verify -CAfile "$g/root.crt" pathlen0.crt > /dev/null
issue pathlen-sub "/O=dotpin tests/CN=dotpin pathlen sub CA" pathlen0.crt pathlen0.key ca.ext 3000
issue pathlen-leaf "/O=dotpin tests/CN=$name" pathlen-sub.crt pathlen-sub.key leaf.ext
chain pathlen-exceeded pathlen-leaf.crt pathlen-sub.crt pathlen0.crt
refused 25 pathlen-leaf.crt pathlen-sub.crt pathlen0.crt       # path length constraint exceeded

# 10. Wrong names on otherwise genuine certificates (genuine issuing CA, own keys).
name_case() {  # stem SAN (empty: none)
  leaf_ext "$1.ext" "$2"
  issue "$1" "/O=dotpin tests/CN=$name" "$g/issuing.crt" "$g/issuing.key" "$1.ext"
  chain "$1" "$1.crt" "$g/issuing.crt"
  ok "$1.crt" "$g/issuing.crt"
}
name_case partial-wildcard "DNS:d*.dotpin.test"
has_ext partial-wildcard.crt "DNS:d*.dotpin.test"
name_case uri-san "URI:https://$name/"
has_ext uri-san.crt "URI:https://$name/"
if openssl x509 -in uri-san.crt -noout -text | grep "DNS:" > /dev/null; then echo "uri-san has a DNS SAN" >&2; exit 1; fi
name_case cn-only ""
if openssl x509 -in cn-only.crt -noout -text | grep "Subject Alternative Name" > /dev/null; then
  echo "cn-only has a SAN" >&2; exit 1
fi
name_case star-test "DNS:*.test"
has_ext star-test.crt "DNS:*.test"

# 11. Genuine chains that must keep passing.
cp "$g/leaf-p256.crt" leaf-p256.crt
cp "$g/leaf-p256.key" leaf-p256.key
chain root-sent leaf-p256.crt "$g/issuing.crt" "$g/root.crt"
chain out-of-order leaf-p256.crt "$g/root.crt" "$g/issuing.crt"
leaf_ext unrelated.ext "DNS:unrelated.example" none
selfsigned unrelated "/O=somebody else/CN=unrelated.example" unrelated.ext
chain extra-unrelated leaf-p256.crt unrelated.crt "$g/issuing.crt"
for s in root-sent out-of-order extra-unrelated; do
  ok leaf-p256.crt "$s.chain.pem"
  [ "$(cat "$s.pin")" = "$(cat leaf-p256.pin)" ]
done
name_case wildcard-ok "DNS:*.dotpin.test"
openssl x509 -in wildcard-ok.crt -noout -checkhost "$name" | grep "does match" > /dev/null

# 12. Signature algorithms for the path verifier's unit tests: a self-signed CA of each kind and a
#     leaf it signed (sig-KIND-ca.crt, sig-KIND-leaf.crt). KIND: rsa-pkcs1 (RSA-2048, SHA-256),
#     rsa-pss (RSA-2048, PSS/SHA-256, salt 32), ed25519, p384 (ECDSA, SHA-384), rsa-sha1 (refused:
#     SHA-1), rsa1024 (refused: key too small), rsa-bige (refused: a public exponent over 32 bits).
#     And ip-san: a leaf with IP:198.18.0.53 and a DNS SAN.
sig_case() {  # kind keyalg-args sign-args...
  local kind=$1 keyargs=$2; shift 2
  # shellcheck disable=SC2086
  openssl genpkey $keyargs -out "sig-$kind-ca.key" 2>/dev/null
  ca_ext "sig-$kind-ca.ext"
  openssl req -x509 -new -key "sig-$kind-ca.key" -subj "/O=dotpin tests/CN=sig $kind CA" -days 3650 "$@" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" -out "sig-$kind-ca.crt" 2>/dev/null
  keygen "sig-$kind-leaf.key"
  csr "sig-$kind-leaf.key" "/O=dotpin tests/CN=$name" "sig-$kind-leaf.csr"
  leaf_ext "sig-$kind-leaf.ext" "DNS:$name"
  openssl x509 -req -in "sig-$kind-leaf.csr" -CA "sig-$kind-ca.crt" -CAkey "sig-$kind-ca.key" -CAcreateserial \
    -days 825 -extfile "sig-$kind-leaf.ext" "$@" -out "sig-$kind-leaf.crt" 2>/dev/null
  pin_of cert "sig-$kind-ca.crt" > "sig-$kind-ca.pin"
}
sig_case rsa-pkcs1 "-algorithm RSA -pkeyopt rsa_keygen_bits:2048" -sha256
sig_case rsa-pss "-algorithm RSA -pkeyopt rsa_keygen_bits:2048" -sha256 -sigopt rsa_padding_mode:pss \
  -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256
sig_case ed25519 "-algorithm ED25519"
sig_case p384 "-algorithm EC -pkeyopt ec_paramgen_curve:P-384" -sha384
sig_case rsa-sha1 "-algorithm RSA -pkeyopt rsa_keygen_bits:2048" -sha1
sig_case rsa1024 "-algorithm RSA -pkeyopt rsa_keygen_bits:1024" -sha256
sig_case rsa-bige "-algorithm RSA -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_keygen_pubexp:4294967311" -sha256
openssl x509 -in sig-rsa-pss-leaf.crt -noout -text | grep -q "rsassaPss"
openssl x509 -in sig-ed25519-leaf.crt -noout -text | grep -q "ED25519"
openssl x509 -in sig-p384-leaf.crt -noout -text | grep -q "ecdsa-with-SHA384"
openssl x509 -in sig-rsa-sha1-leaf.crt -noout -text | grep -q "sha1WithRSAEncryption"
name_case ip-san "IP:198.18.0.53, DNS:$name"
has_ext ip-san.crt "IP Address:198.18.0.53"

# DANE upstreams (test_dotpind_dane.py): servers for dns.dane.test, a name in the signed test zone.
#   dane-genuine      from the genuine issuing CA (DANE-EE 3 1 1 of its key; DANE-TA 2 1 1 of issuing)
#   dane-next         the same name and CA, another key: the server's next key in a DANE rollover
#   dane-other-ca     the same name from other-issuing: PKIX-valid, but not under the DANE-TA record
#   dane-append       self-signed for the name, with dane-genuine and issuing appended
#   dane-bogus, dane-insecure   from issuing, for dns.bogus.test / dns.insecure.test (the zones whose
#                     TLSA answers do not validate / are not signed)
dane_name=dns.dane.test
leaf_ext dane.ext "DNS:$dane_name"
issue dane-genuine "/O=dotpin tests/CN=$dane_name" "$g/issuing.crt" "$g/issuing.key" dane.ext
chain dane-genuine dane-genuine.crt "$g/issuing.crt"
ok dane-genuine.crt "$g/issuing.crt"
issue dane-next "/O=dotpin tests/CN=$dane_name" "$g/issuing.crt" "$g/issuing.key" dane.ext
chain dane-next dane-next.crt "$g/issuing.crt"
ok dane-next.crt "$g/issuing.crt"
issue dane-other-ca-leaf "/O=dotpin tests/CN=$dane_name" other-issuing.crt other-issuing.key dane.ext
chain dane-other-ca dane-other-ca-leaf.crt other-issuing.crt
ok dane-other-ca.crt other-issuing.crt
leaf_ext dane-ss.ext "DNS:$dane_name" none
selfsigned dane-ss-leaf "/O=dotpin tests/CN=$dane_name" dane-ss.ext
chain dane-append dane-ss-leaf.crt dane-genuine.crt "$g/issuing.crt"
for z in bogus insecure; do
  leaf_ext "dane-$z.ext" "DNS:dns.$z.test"
  issue "dane-$z" "/O=dotpin tests/CN=dns.$z.test" "$g/issuing.crt" "$g/issuing.key" "dane-$z.ext"
  chain "dane-$z" "dane-$z.crt" "$g/issuing.crt"
  ok "dane-$z.crt" "$g/issuing.crt"
done

rm -rf ./*.csr ./*.ext ./*.srl untrusted.pem verify.out issuing.pub rogue-as-issuing.crt ca-db
chmod 600 ./*.key
echo "$sum" > .done
