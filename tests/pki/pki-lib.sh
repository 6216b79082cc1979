#!/usr/bin/env bash
# Shared by make-test-pki.sh and make-hostile-pki.sh (sourced): the reference pin of a certificate
# or public key PEM, computed the RFC 7469 way with openssl.
pin_of() {  # cert|key FILE -> base64 pin-sha256
  local kind=$1 file=$2
  if [ "$kind" = cert ]; then
    openssl x509 -in "$file" -pubkey -noout
  else
    cat "$file"
  fi | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64
}
