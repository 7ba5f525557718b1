#!/usr/bin/env bash
# Start the local PostgreSQL and Redis the tests use, if they are not running (127.0.0.1 only).
# Works on a machine where scripts/install-system-deps.sh has just installed them: creates the Debian
# cluster if the package left none, gives 127.0.0.1 trust auth (the tests' documented setup: user postgres,
# no password) and starts both without systemd (containers and CI have none).
set -uo pipefail

pg_cluster() {  # "VERSION NAME" of the first cluster, or nothing
  pg_lsclusters --no-header 2>/dev/null | awk 'NR==1 {print $1, $2}'
}

ensure_pg_cluster() {
  if [ -z "$(pg_cluster)" ]; then
    local version
    version="$(ls /usr/lib/postgresql | sort -V | tail -n1)"
    echo "creating PostgreSQL cluster $version/main"
    pg_createcluster --port 5432 "$version" main >/dev/null
  fi
}

ensure_pg_trust() {  # loopback trust for the test user; only the lines this script owns are added
  local hba="/etc/postgresql/$1/$2/pg_hba.conf"
  grep -q "fiscalocr-test-trust" "$hba" 2>/dev/null && return 0
  grep -Eq '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba" 2>/dev/null && return 0
  echo "PostgreSQL: trust auth on 127.0.0.1 and ::1 (tests connect as postgres without a password)"
  local tmp
  tmp="$(mktemp)"
  { echo "host all all 127.0.0.1/32 trust  # fiscalocr-test-trust"
    echo "host all all ::1/128 trust       # fiscalocr-test-trust"
    cat "$hba"; } > "$tmp"
  cat "$tmp" > "$hba" && rm -f "$tmp"
  pg_ctlcluster --skip-systemctl-redirect "$1" "$2" reload >/dev/null 2>&1 || true
}

ensure_pg_port() {  # the package picks the next free port if 5432 was taken while it installed
  local port
  port="$(pg_conftool "$1" "$2" show port 2>/dev/null | awk -F= '{gsub(/[ \x27]/, "", $2); print $2}')"
  if [ -n "$port" ] && [ "$port" != "5432" ]; then
    echo "PostgreSQL $1/$2: port $port -> 5432"
    pg_ctlcluster --skip-systemctl-redirect "$1" "$2" stop >/dev/null 2>&1 || true
    pg_conftool "$1" "$2" set port 5432
  fi
}

if command -v pg_lsclusters >/dev/null 2>&1; then
  ensure_pg_cluster
  read -r pg_version pg_name <<<"$(pg_cluster)"
  ensure_pg_trust "$pg_version" "$pg_name"
  ensure_pg_port "$pg_version" "$pg_name"
  if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
    echo "starting PostgreSQL $pg_version/$pg_name"
    pg_ctlcluster --skip-systemctl-redirect "$pg_version" "$pg_name" start || true
    for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 -p 6379 ping
