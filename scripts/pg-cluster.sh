#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for feedsift's tests (tests/it/support/postgres.rs starts one
# per test process): initdb in a directory, a postmaster on a free 127.0.0.1 port and on a
# unix socket in that directory, trust authentication, superuser `feedsift`.
#
# Usage:
#   scripts/pg-cluster.sh start DIR  make DIR if needed, initdb in DIR/data (once), start the
#                                    postmaster, wait until it accepts connections (30 s at
#                                    most), print its URL: postgres://feedsift@127.0.0.1:PORT/postgres;
#                                    with DIR/server.crt and DIR/server.key there at the first
#                                    start, the server also offers TLS with that pair
#   scripts/pg-cluster.sh stop DIR   stop that postmaster (SIGINT: fast shutdown; SIGKILL after
#                                    10 s); removes nothing but processes (the caller removes DIR)
#   scripts/pg-cluster.sh url DIR    print the URL of the cluster running in DIR
#   scripts/pg-cluster.sh bindir     print the directory of the PostgreSQL server binaries used
#
# PostgreSQL refuses to run as root: as root, the cluster runs as FEEDSIFT_PG_USER (default
# `nobody`, through setpriv or runuser) and DIR is chowned to that user, so DIR's parents must
# be traversable by it (/tmp is). The socket path DIR/.s.PGSQL.PORT must stay under 108 bytes:
# keep DIR short. Binaries: `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin,
# else PATH. Files in DIR: data/ (the cluster), port, pid, initdb.log, server.log.
# Exit status: 0 done, 1 failure, 2 usage, 3 no PostgreSQL server binaries here.
set -euo pipefail

user_name=feedsift
start_timeout=30 # seconds until the server accepts connections
stop_timeout=10  # seconds of fast shutdown before SIGKILL

die() {
  echo "pg-cluster: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start DIR | stop DIR | url DIR | bindir" >&2
  exit 2
}

# A directory with the server binaries this script runs.
is_server_bindir() {
  [ -n "$1" ] && [ -x "$1/initdb" ] && [ -x "$1/postgres" ] && [ -x "$1/pg_isready" ]
}

find_bindir() {
  local d found
  if command -v pg_config >/dev/null 2>&1; then
    d=$(pg_config --bindir 2>/dev/null || true)
    if is_server_bindir "$d"; then
      echo "$d"
      return 0
    fi
  fi
  while IFS= read -r d; do
    if is_server_bindir "$d"; then
      echo "$d"
      return 0
    fi
  done < <(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V -r)
  if found=$(command -v initdb 2>/dev/null); then
    d=$(dirname "$(readlink -f "$found")")
    if is_server_bindir "$d"; then
      echo "$d"
      return 0
    fi
  fi
  echo "pg-cluster: no PostgreSQL server binaries (initdb, postgres, pg_isready) found through" \
    "pg_config --bindir, /usr/lib/postgresql/*/bin or PATH; install them:" \
    "apt-get install postgresql" >&2
  return 3
}

# as_user: the command prefix that runs the server's programs as a non-root user.
as_user=()
run_uid=""
run_gid=""
setup_user() {
  if [ "$(id -u)" != 0 ]; then
    return 0
  fi
  local name=${FEEDSIFT_PG_USER:-nobody}
  run_uid=$(id -u "$name" 2>/dev/null) || die "running as root, and there is no user '$name' to run PostgreSQL as (set FEEDSIFT_PG_USER)"
  run_gid=$(id -g "$name")
  [ "$run_uid" != 0 ] || die "FEEDSIFT_PG_USER=$name is root: PostgreSQL refuses to run as root"
  if command -v setpriv >/dev/null 2>&1; then
    as_user=(setpriv "--reuid=$run_uid" "--regid=$run_gid" --clear-groups)
  elif command -v runuser >/dev/null 2>&1; then
    as_user=(runuser -u "$name" --)
  else
    die "running as root, and neither setpriv nor runuser (util-linux) is here to drop to '$name'"
  fi
}

# A live process (not a zombie nobody reaped).
alive() {
  local state
  [ -r "/proc/$1/stat" ] || return 1
  state=$(sed -E 's/^.*\) (.).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# The pid of the postmaster running DIR's cluster, checked against its command line (so a
# recycled pid is never signalled).
postmaster_pid() {
  local dir=$1 f pid
  for f in "$dir/data/postmaster.pid" "$dir/pid"; do
    [ -r "$f" ] || continue
    read -r pid <"$f" || continue
    [[ $pid =~ ^[0-9]+$ ]] || continue
    alive "$pid" || continue
    if tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$dir/data"; then
      echo "$pid"
      return 0
    fi
  done
  return 1
}

# Server processes still working in DIR/data (backends outlive a SIGKILLed postmaster for a
# moment): postgres binaries whose working directory is the data directory.
leftovers() {
  local dir=$1 p exe
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/cwd" 2>/dev/null)" = "$dir/data" ] || continue
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    case ${exe##*/} in postgres | postmaster) echo "${p#/proc/}" ;; esac
  done
}

free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
    return
  fi
  local p i
  for i in $(seq 1 100); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return
    fi
  done
  die "no free port found on 127.0.0.1"
}

url_of() { echo "postgres://$user_name@127.0.0.1:$1/postgres"; }

log_tail() {
  echo "--- $1 (last lines) ---" >&2
  tail -n 25 "$1" >&2 2>/dev/null || true
}

cmd_start() {
  local dir=$1 bindir port pid attempt deadline ready
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd -P)
  # The socket is DIR/.s.PGSQL.PORT (and its .lock): sun_path holds 107 bytes and a NUL.
  local sock="$dir/.s.PGSQL.65535.lock"
  [ "${#sock}" -le 107 ] || die "DIR is too long for a unix socket path ($sock is ${#sock} bytes, 107 at most): use a short DIR such as /tmp/pgXXXX"
  bindir=$(find_bindir) || exit 3
  setup_user

  if pid=$(postmaster_pid "$dir") && [ -r "$dir/port" ]; then
    url_of "$(cat "$dir/port")"
    return 0
  fi

  if [ -n "$run_uid" ]; then
    chown "$run_uid:$run_gid" "$dir"
    "${as_user[@]}" test -w "$dir" -a -x "$dir" ||
      die "user uid $run_uid cannot write $dir (are its parent directories traversable?)"
  fi
  # The server's programs start in DIR: root's working directory may be closed to them.
  cd "$dir"

  if [ ! -f "$dir/data/PG_VERSION" ]; then
    # --no-sync: a throwaway cluster needs no fsync of the fresh files (the server still fsyncs).
    if ! "${as_user[@]}" "$bindir/initdb" -D "$dir/data" -U "$user_name" --auth=trust \
      --encoding=UTF8 --locale=C --no-sync --no-instructions >"$dir/initdb.log" 2>&1; then
      log_tail "$dir/initdb.log"
      die "initdb failed in $dir/data"
    fi
    local quoted=${dir//\'/\'\'}
    cat >>"$dir/data/postgresql.conf" <<EOF

# scripts/pg-cluster.sh: a throwaway cluster for the tests (port given on the command line)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$quoted'
shared_buffers = 32MB
max_connections = 200
EOF
    # DIR/server.crt and DIR/server.key, when the caller put them there: TLS on, with them.
    if [ -f "$dir/server.crt" ] && [ -f "$dir/server.key" ]; then
      install -m 644 "$dir/server.crt" "$dir/data/server.crt"
      install -m 600 "$dir/server.key" "$dir/data/server.key"
      [ -z "$run_uid" ] || chown "$run_uid:$run_gid" "$dir/data/server.crt" "$dir/data/server.key"
      echo "ssl = on" >>"$dir/data/postgresql.conf"
    fi
  fi

  for attempt in 1 2 3; do
    port=$(free_port)
    echo "$port" >"$dir/port"
    # Its own session: a Ctrl-C meant for the tests does not reach the server.
    "${as_user[@]}" setsid "$bindir/postgres" -D "$dir/data" -p "$port" \
      </dev/null >>"$dir/server.log" 2>&1 &
    pid=$!
    ready=""
    deadline=$((SECONDS + start_timeout))
    while [ "$SECONDS" -lt "$deadline" ]; do
      if "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U "$user_name" -d postgres -t 2; then
        ready=1
        break
      fi
      alive "$pid" || break
      sleep 0.1
    done
    if [ -n "$ready" ]; then
      pid=$(postmaster_pid "$dir") || die "the server answers on port $port, but $dir/data/postmaster.pid names no postmaster of $dir"
      echo "$pid" >"$dir/pid"
      url_of "$port"
      return 0
    fi
    if alive "$pid"; then
      kill -KILL "$pid" 2>/dev/null || true
      log_tail "$dir/server.log"
      die "PostgreSQL did not accept connections on 127.0.0.1:$port within ${start_timeout} s"
    fi
    wait "$pid" 2>/dev/null || true
    # Another process took the port between the probe and the bind: try another one.
    if tail -n 5 "$dir/server.log" | grep -q 'could not bind\|Address already in use'; then
      echo "pg-cluster: port $port was taken, retrying (attempt $attempt)" >&2
      continue
    fi
    break
  done
  log_tail "$dir/server.log"
  die "PostgreSQL exited during startup (log: $dir/server.log)"
}

cmd_stop() {
  local dir pid deadline p
  dir=$(cd "$1" 2>/dev/null && pwd -P) || return 0 # no DIR: nothing runs there
  if pid=$(postmaster_pid "$dir"); then
    kill -INT "$pid" 2>/dev/null || true
    deadline=$((SECONDS + stop_timeout))
    while alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
    if alive "$pid"; then
      echo "pg-cluster: no fast shutdown within ${stop_timeout} s: SIGKILL to $pid" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  # After a SIGKILL (or a postmaster killed by someone else), backends may be left over.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    p=$(leftovers "$dir")
    [ -n "$p" ] || return 0
    # shellcheck disable=SC2086 # one pid a word
    kill -KILL $p 2>/dev/null || true
    sleep 0.1
  done
  die "processes of $dir survive SIGKILL: $(leftovers "$dir" | tr '\n' ' ')"
}

cmd_url() {
  local dir
  dir=$(cd "$1" 2>/dev/null && pwd -P) || die "no directory $1"
  postmaster_pid "$dir" >/dev/null || die "no cluster is running in $dir"
  [ -r "$dir/port" ] || die "no $dir/port"
  url_of "$(cat "$dir/port")"
}

case "${1:-}" in
start) [ $# -eq 2 ] || usage; cmd_start "$2" ;;
stop) [ $# -eq 2 ] || usage; cmd_stop "$2" ;;
url) [ $# -eq 2 ] || usage; cmd_url "$2" ;;
bindir) [ $# -eq 1 ] || usage; find_bindir ;;
*) usage ;;
esac
