#!/usr/bin/env bash
# Makes the TLS material for the argusctl tests in DIR (default: here):
#   ca.pem            the cluster CA, which node and client certificates chain to
#   node.pem/.key     the node's certificate and key (signed by ca)
#   client.pem/.key   argusctl's certificate and key (signed by ca)
#   rogue-ca.pem      a CA nobody trusts
#   rogue.pem/.key    a client certificate signed by rogue-ca
#   server.pem/.key   an HTTPS server certificate (signed by ca) for
#                     127.0.0.1 and localhost
# CAF checks no host name, only the chain, so the subjects are plain names.
# The certificates last $DAYS days (default 2: enough for a test run).
set -euo pipefail
dir=${1:-.}
days=${DAYS:-2}
mkdir -p "$dir"
cd "$dir"

key() { # file
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" \
    2>/dev/null
}
ca() { # name
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -days "$days" -sha256 -subj "/CN=$1" \
    -out "$1.pem" 2>/dev/null
}
leaf() { # name ca [extensions]
  key "$1.key"
  openssl req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr" 2>/dev/null
  local ext=()
  if [[ -n "${3:-}" ]]; then
    printf '%s\n' "$3" >"$1.ext"
    ext=(-extfile "$1.ext")
  fi
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" \
    -CAcreateserial -days "$days" -sha256 "${ext[@]}" -out "$1.pem" \
    2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

ca ca
leaf node ca
leaf client ca
ca rogue-ca
leaf rogue rogue-ca
leaf server ca "subjectAltName=IP:127.0.0.1,DNS:localhost"
openssl verify -CAfile ca.pem node.pem client.pem server.pem >/dev/null
