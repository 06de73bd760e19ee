#!/usr/bin/env bash
# Makes a Docker engine available for the container tests and leaves the host as it found it.
#   scripts/docker-engine.sh start    use the running engine, or start dockerd (installing
#                                     Debian's docker.io if needed) and wait until it answers
#   scripts/docker-engine.sh stop     stop dockerd if "start" started it and no other caller
#                                     of "start" still runs
#   scripts/docker-engine.sh status   say whether an engine answers and who owns it
# Ownership is a pid file: only an engine this script started is ever stopped by it, and only
# when no other caller still holds it (two test runs in two worktrees may overlap). A holder is
# the calling process (JKVM_DOCKER_HOLDER, default the parent pid), so "start" and "stop" must
# come from the same shell, as scripts/test's trap does.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

state_dir="${JKVM_DOCKER_STATE_DIR:-/tmp/jkvm-docker-engine}"
pid_file="$state_dir/dockerd.pid"
log_file="$state_dir/dockerd.log"
holders="$state_dir/holders"
holder="${JKVM_DOCKER_HOLDER:-$PPID}"
start_timeout_s="${JKVM_DOCKER_START_TIMEOUT:-60}"
stop_timeout_s=30

engine_answers() {
  command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1
}

owned_pid() { # prints the pid of the dockerd we started, if it is still alive
  [ -f "$pid_file" ] || return 1
  local pid; pid="$(cat "$pid_file")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; else return 1; fi
}

# Serialises start/stop between concurrent callers; released when this script exits.
lock() {
  mkdir -p "$holders"
  exec 9>"$state_dir/lock"
  flock 9
}

prune_dead_holders() {
  local h
  for h in "$holders"/*; do
    [ -e "$h" ] || continue
    kill -0 "$(basename "$h")" 2>/dev/null || rm -f "$h"
  done
}

start() {
  lock
  prune_dead_holders
  touch "$holders/$holder"
  if engine_answers; then
    echo "docker-engine: using the engine already running" >&2
    return 0
  fi
  if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
    apt_ensure docker.io
  fi
  if [ "$(id -u)" != 0 ]; then
    echo "error: no Docker engine answers and starting dockerd needs root; start Docker (systemctl start docker) or run as root" >&2
    exit 2
  fi
  mkdir -p "$state_dir"
  # setsid: the engine must outlive this script and not receive the caller's Ctrl-C;
  # 9>&-: it must not inherit the lock, or the next caller would wait for it forever.
  setsid dockerd >"$log_file" 2>&1 </dev/null 9>&- &
  echo $! >"$pid_file"
  local waited=0
  until engine_answers; do
    if ! owned_pid >/dev/null; then
      echo "error: dockerd exited while starting; its log ($log_file) ends with:" >&2
      tail -n 15 "$log_file" >&2
      rm -f "$pid_file"
      exit 1
    fi
    if [ "$waited" -ge "$start_timeout_s" ]; then
      echo "error: dockerd did not answer within ${start_timeout_s}s; see $log_file (raise JKVM_DOCKER_START_TIMEOUT if the host is slow)" >&2
      stop_engine
      exit 1
    fi
    sleep 1
    waited=$((waited + 1))
  done
  echo "docker-engine: started dockerd (pid $(cat "$pid_file"), log $log_file)" >&2
}

stop() {
  lock
  rm -f "$holders/$holder"
  prune_dead_holders
  if [ -n "$(ls -A "$holders")" ]; then
    echo "docker-engine: left running for its other users ($(ls "$holders" | tr '\n' ' '))" >&2
    return 0
  fi
  stop_engine
}

stop_engine() {
  local pid
  if ! pid="$(owned_pid)"; then
    rm -f "$pid_file"
    return 0
  fi
  kill -TERM "$pid"
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$waited" -ge "$stop_timeout_s" ]; then
      echo "docker-engine: dockerd (pid $pid) ignored SIGTERM for ${stop_timeout_s}s; sending SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 1
    waited=$((waited + 1))
  done
  rm -f "$pid_file"
  echo "docker-engine: stopped the dockerd this script started (pid $pid)" >&2
}

status() {
  local pid
  if pid="$(owned_pid)"; then
    echo "running: dockerd pid $pid, started by this script"
  elif engine_answers; then
    echo "running: an engine this script did not start"
  else
    echo "stopped"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "error: unknown command '${1:-}'; usage: $0 start|stop|status" >&2; exit 2 ;;
esac
