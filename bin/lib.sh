# Shared by bin/setup, bin/services, bin/demo and bin/test. Sourced, not run.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${STACKDESK_STATE_ROOT:-/var/lib/stackdesk}
VENV=$ROOT/.venv
PY=$VENV/bin/python

say() { printf '\033[1m[stackdesk %s]\033[0m %s\n' "$(date +%H:%M:%S)" "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The state folder holds secrets (db-password, the portal's keys and env): nobody else may list
# or read it. Mode 0711, not 0700: devcloud runs its own MariaDB and RabbitMQ (when the machine
# has none) as the mysql and rabbitmq users under $STATE/devcloud, and they must pass through.
make_state() { as_root mkdir -p "$STATE" && as_root chmod 0711 "$STATE"; }

# apt_install PKG...: install the Debian packages that are missing (one apt-get run).
apt_install() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  if [ ! -f "$STATE/.apt-updated" ] || [ -n "$(find "$STATE/.apt-updated" -mmin +360 2>/dev/null)" ]; then
    as_root apt-get update -qq && make_state && as_root touch "$STATE/.apt-updated"
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {  # port seconds
  local i
  for i in $(seq $(( $2 * 4 ))); do port_open "$1" && return 0; sleep 0.25; done
  say "nothing answers on 127.0.0.1:$1 after $2 s"; return 1
}
