#!/usr/bin/env sh
# Prints an unbound.conf for a DoT test upstream on 127.0.0.1:PORT that runs in the foreground from
# DIR, logs every query it receives (so tests can prove what reached it) and answers a static zone:
#   www.dotpin.test. A ADDRESS (default 198.18.0.10, the benchmarking range)
# Usage: unbound-dot-conf.sh DIR PORT KEY CHAIN [ADDRESS]   (used by tests and scripts/demo.sh)
set -eu
dir=$1 port=$2 key=$3 chain=$4 a=${5:-198.18.0.10}
cat <<CONF
server:
  interface: 127.0.0.1@$port
  tls-port: $port
  tls-service-key: "$key"
  tls-service-pem: "$chain"
  do-daemonize: no
  chroot: ""
  username: ""
  directory: "$dir"
  pidfile: "$dir/unbound.pid"
  logfile: "$dir/unbound.log"
  use-syslog: no
  verbosity: 1
  log-queries: yes
  module-config: "iterator"
  do-ip6: no
  local-zone: "dotpin.test." static
  local-data: "www.dotpin.test. 300 IN A $a"
remote-control:
  control-enable: no
CONF
