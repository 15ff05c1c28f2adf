#!/usr/bin/env bash
# Converge file-management benchmark: converge apply vs cf-agent, puppet apply,
# ansible-playbook and a plain read-and-compare script, on the same workload
# (see README.md). Prints a table and writes bench/results/<date>-<host>.{md,csv}
# (with -2, -3 ... when that name is taken).
#
# Usage: bench/run.sh [--quick] [--tools a,b,...] [--n 1000,10000] [--repeat K]
#   --quick        converge only (same as --tools converge)
#   --tools LIST   any of: baseline,converge,cfengine,puppet,ansible (default: all)
#   --n LIST       file counts for baseline, converge, cfengine and puppet (default 1000,10000)
#   --repeat K     run the no-op scenario K times (default 1)
# Environment:
#   CONVERGE=/path/to/converge  use this binary instead of publishing to bench/out
#   ANSIBLE_N=100               file count for ansible (it is slow; only this one N)
#   RUN_TIMEOUT=600             seconds before one run is killed and recorded as a timeout
#   SLOW_S=60                   a run longer than this is flagged "slow" in the notes
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$BENCH_DIR")
ALL_TOOLS=baseline,converge,cfengine,puppet,ansible

TOOLS=$ALL_TOOLS
NS=1000,10000
REPEAT=1
ANSIBLE_N=${ANSIBLE_N:-100}
RUN_TIMEOUT=${RUN_TIMEOUT:-600}
SLOW_S=${SLOW_S:-60}

WORK=""              # temp dir for every tool's tree and state; removed on exit
POLICY_RC_CREATED="" # set when we wrote /usr/sbin/policy-rc.d and must remove it
FAILED=0             # set when any tree did not match the desired state
RUN_NO=0             # numbers the per-run logs
CMD=()               # argv of the timed run, set by setup_<tool>
PREVIEW_CMD=()       # argv of a --noop preview run, where the tool has one we time
ROWS=()              # CSV rows: tool,n,scenario,wall_s,cpu_s,peak_rss_mb,exit,touched,check,load1,note

die() { echo "run.sh: $*" >&2; exit 1; }

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --quick) TOOLS=converge ;;
      --tools) TOOLS=${2:?--tools needs a list}; shift ;;
      --n) NS=${2:?--n needs a list}; shift ;;
      --repeat) REPEAT=${2:?--repeat needs a number}; shift ;;
      -h|--help) usage; exit 0 ;;
      *) usage >&2; exit 64 ;;
    esac
    shift
  done
  local t
  for t in ${TOOLS//,/ }; do
    case ",$ALL_TOOLS," in *",$t,"*) ;; *) die "unknown tool '$t' (want some of $ALL_TOOLS)" ;; esac
  done
}

wants() { case ",$TOOLS," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

cleanup() {
  [ -n "$WORK" ] && rm -rf "$WORK"
  restore_policy_rc
}

# --- packages ------------------------------------------------------------

# Installing cfengine3 on a machine with an init system would start cf-serverd
# and cf-execd, which then run policy on their own and disturb the timings.
# A policy-rc.d that answers 101 ("action forbidden") keeps every daemon down
# during the install; we remove it again so the machine is as it was.
block_daemon_starts() {
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# temporary, written by converge bench/run.sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    POLICY_RC_CREATED=1
  fi
}

restore_policy_rc() {
  if [ -n "$POLICY_RC_CREATED" ]; then
    rm -f /usr/sbin/policy-rc.d
    POLICY_RC_CREATED=""
  fi
}

ensure_packages() {
  local need=() missing=() p
  [ -x /usr/bin/time ] || need+=(time)
  command -v python3 >/dev/null || need+=(python3)
  wants cfengine && need+=(cfengine3)
  wants puppet && need+=(puppet)
  wants ansible && need+=(ansible)
  for p in "${need[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}); run as root to install them"
  echo "installing: ${missing[*]}" >&2
  block_daemon_starts
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  restore_policy_rc
  # The package still enables its units for the next boot; on a systemd host
  # keep them off so no agent converges this machine behind our back.
  if [[ " ${missing[*]} " == *" cfengine3 "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now cfengine3.service cf-serverd.service cf-execd.service \
      cf-monitord.service >/dev/null 2>&1 || true
  fi
}

warn_if_daemons() {
  local d
  for d in cf-serverd cf-execd cf-monitord puppet; do
    if pgrep -x "$d" >/dev/null 2>&1; then
      echo "warning: $d is running and may disturb the timings" >&2
    fi
  done
}

# --- converge binary -------------------------------------------------------

# Sets CONVERGE to a runnable binary, or to "" when there is none.
find_converge() {
  if [ -n "${CONVERGE:-}" ]; then
    [ -x "$CONVERGE" ] || { echo "converge: not built ($CONVERGE is not an executable)" >&2; CONVERGE=""; }
    return 0
  fi
  if command -v dotnet >/dev/null 2>&1 && [ -d "$REPO_DIR/src/Converge.Cli" ]; then
    echo "publishing converge to bench/out (log: bench/out/publish.log)" >&2
    mkdir -p "$BENCH_DIR/out"
    if ! dotnet publish "$REPO_DIR/src/Converge.Cli" -c Release -r linux-x64 --self-contained \
        -p:PublishSingleFile=true -o "$BENCH_DIR/out" >"$BENCH_DIR/out/publish.log" 2>&1; then
      echo "converge: publish failed, see bench/out/publish.log" >&2
    fi
  fi
  CONVERGE="$BENCH_DIR/out/converge"
  [ -x "$CONVERGE" ] || { echo "converge: not built" >&2; CONVERGE=""; }
}

# --- measuring -------------------------------------------------------------

gen() { "$PY" "$BENCH_DIR/gen.py" "$@"; }

# One line per entry under ROOT: inode, ctime and name. Entries whose line is
# new after a run were created or modified (content, mode) by that run; this
# counts what a tool touched without trusting the tool's own report.
fingerprint() { [ -d "$1" ] && find "$1" -printf '%i %C@ %P\n' | LC_ALL=C sort; true; }

# measure TOOL N SCENARIO ROOT EXPECTED_EXIT -- CMD...
# (scenario "preview" is a --noop run on a drifted tree: the drift must remain)
# Runs CMD under /usr/bin/time (wall seconds, user+system CPU seconds of the
# whole process tree, peak RSS of the largest single process),
# checks the tree with the plain comparer and appends a row. Returns 1 when
# the tree is wrong, so the caller skips the remaining scenarios.
measure() {
  local tool=$1 n=$2 scenario=$3 root=$4 want_exit=$5; shift 6
  RUN_NO=$((RUN_NO + 1))
  local log="$WORK/logs/$RUN_NO-$tool-$n-$scenario.log" tf="$WORK/time.out"
  local before="$WORK/fp.before" after="$WORK/fp.after"
  local load rc wall user sys cpu kb mb touched check note=""
  fingerprint "$root" >"$before"
  load=$(cut -d' ' -f1 /proc/loadavg)
  rc=0
  /usr/bin/time -f '%e %U %S %M' -o "$tf" timeout "$RUN_TIMEOUT" "$@" >"$log" 2>&1 || rc=$?
  # time writes "Command exited with non-zero status N" before its format line.
  read -r wall user sys kb < <(tail -n1 "$tf")
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  mb=$(awk -v k="$kb" 'BEGIN { printf "%.0f", k / 1024 }')
  fingerprint "$root" >"$after"
  touched=$(LC_ALL=C comm -13 "$before" "$after" | wc -l)
  [ "$rc" -eq 124 ] && note="timeout after ${RUN_TIMEOUT}s"
  [ -n "$want_exit" ] && [ "$rc" != "$want_exit" ] && note="${note:+$note; }exit $rc (expected $want_exit)"
  awk -v w="$wall" -v s="$SLOW_S" 'BEGIN { exit !(w > s) }' && note="${note:+$note; }slow (> ${SLOW_S}s)"
  if [ "$touched" -ne 0 ] && { [ "$scenario" = noop ] || [ "$scenario" = preview ]; }; then
    note="${note:+$note; }changed $touched entries on a $scenario run"
    echo "!!! $tool N=$n $scenario: changed $touched entries; a $scenario run must change nothing" >&2
  fi
  local expect=()
  [ "$scenario" = preview ] && expect=(--expect-drift)
  if gen --check "${expect[@]}" --n "$n" --root "$root" 2>>"$log"; then
    check=ok
  else
    check=MISMATCH
    FAILED=1
    {
      echo "!!! $tool N=$n $scenario: the tree does not match the desired state"
      grep -A20 '^MISMATCH' "$log" | head -21
      echo "!!! full log: $log (kept: bench/results/tmp/)"
    } >&2
    mkdir -p "$BENCH_DIR/results/tmp" && cp "$log" "$BENCH_DIR/results/tmp/"
  fi
  ROWS+=("$tool,$n,$scenario,$wall,$cpu,$mb,$rc,$touched,$check,$load,$note")
  printf '%-9s %6s %-8s %8s s %8s cpu-s %6s MB  exit %-3s touched %-6s %s %s\n' \
    "$tool" "$n" "$scenario" "$wall" "$cpu" "$mb" "$rc" "$touched" "$check" "$note" >&2
  [ "$check" = ok ]
}

# Runs the three scenarios for one tool: first apply into an empty directory,
# no-op re-run, one drifted file. CMD holds the timed command (argv); the
# expected exit codes are for (first, noop, drift). When PREVIEW_CMD is set
# (converge's --noop), it also runs on the drifted tree before the repair.
scenarios() {
  local tool=$1 n=$2 dir=$3 e_first=$4 e_noop=$5 e_drift=$6 k
  local root="$dir/root"
  measure "$tool" "$n" first "$root" "$e_first" -- "${CMD[@]}" || return 0
  for ((k = 1; k <= REPEAT; k++)); do
    measure "$tool" "$n" noop "$root" "$e_noop" -- "${CMD[@]}" || return 0
  done
  gen --drift --n "$n" --root "$root" >/dev/null
  if [ ${#PREVIEW_CMD[@]} -gt 0 ]; then
    measure "$tool" "$n" preview "$root" "$e_drift" -- "${PREVIEW_CMD[@]}" || return 0
  fi
  measure "$tool" "$n" drift "$root" "$e_drift" -- "${CMD[@]}" || return 0
}

# --- tools -----------------------------------------------------------------
# Each setup_X DIR N writes the tool's input and private state dirs under DIR
# (outside the timing) and sets CMD, the argv of one timed run. The timed
# command is exec'd directly (no wrapper shell), so start-up is the tool's own.

setup_converge() {
  mkdir -p "$1/state"
  gen --tool converge --n "$2" --root "$1/root" --out "$1" >/dev/null
  CMD=("$CONVERGE" apply "$1/site.yaml" --state-dir "$1/state")
  # --noop exits 2 when changes are pending, and must touch nothing.
  PREVIEW_CMD=("$CONVERGE" apply --noop "$1/site.yaml" --state-dir "$1/state")
}

# cf-agent keeps its databases, keys and locks in a work dir; -w points it at
# ours, which needs bin/ (where it looks for cf-promises) and a key pair.
# -K ignores locks so back-to-back runs are not skipped as "too soon";
# -I logs each repair, like the other tools' default output.
setup_cfengine() {
  mkdir -p "$1/work"
  ln -s "$(dirname "$(command -v cf-promises)")" "$1/work/bin"
  CFENGINE_TEST_OVERRIDE_WORKDIR="$1/work" cf-key >/dev/null
  gen --tool cfengine --n "$2" --root "$1/root" --out "$1" >/dev/null
  CMD=(cf-agent -K -I -w "$1/work" -f "$1/promises.cf")
}

# Every puppet dir goes under DIR, so nothing is written to /etc or /var.
# --detailed-exitcodes gives 0 = no changes, 2 = changes, like converge.
setup_puppet() {
  local p=$1
  mkdir -p "$p"/{etc,var,code,log,run,modules}
  gen --tool puppet --n "$2" --root "$p/root" --out "$p" >/dev/null
  CMD=(puppet apply --detailed-exitcodes --confdir "$p/etc" --vardir "$p/var" --codedir "$p/code"
    --logdir "$p/log" --rundir "$p/run" --ssldir "$p/var/ssl" --publicdir "$p/var/public"
    --modulepath "$p/modules" --logdest console --color false "$p/site.pp")
}

# ANSIBLE_HOME and the temp dirs keep ~/.ansible untouched; the interpreter is
# named so ansible does not probe for one (and warn) on every run.
setup_ansible() {
  mkdir -p "$1/home" "$1/tmp"
  gen --tool ansible --n "$2" --root "$1/root" --out "$1" >/dev/null
  CMD=(env ANSIBLE_HOME="$1/home" ANSIBLE_LOCAL_TEMP="$1/tmp" ANSIBLE_REMOTE_TEMP="$1/tmp"
    ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0
    ansible-playbook -i localhost, "$1/playbook.yml")
}

# The floor: a plain writer, and the very checker the script verifies with,
# timed on its own (read every file, compare content and mode).
bench_baseline() {
  local n=$1 dir=$2 k
  measure baseline "$n" write "$dir/root" 0 -- "$PY" "$BENCH_DIR/gen.py" --write --n "$n" --root "$dir/root" || return 0
  for ((k = 1; k <= REPEAT; k++)); do
    measure baseline "$n" compare "$dir/root" 0 -- "$PY" "$BENCH_DIR/gen.py" --check --n "$n" --root "$dir/root" || return 0
  done
}

bench_tool() {
  local tool=$1 n=$2 dir="$WORK/$1-$2"
  mkdir -p "$dir"
  PREVIEW_CMD=()
  case "$tool" in
    baseline) bench_baseline "$n" "$dir" ;;
    converge) setup_converge "$dir" "$n"; scenarios converge "$n" "$dir" 2 0 2 ;;
    cfengine) setup_cfengine "$dir" "$n"; scenarios cfengine "$n" "$dir" 0 0 0 ;;
    puppet) setup_puppet "$dir" "$n"; scenarios puppet "$n" "$dir" 2 0 2 ;;
    ansible) setup_ansible "$dir" "$n"; scenarios ansible "$n" "$dir" 0 0 0 ;;
  esac
  rm -rf "$dir"
}

# --- report ----------------------------------------------------------------

versions() {
  echo "- converge: ${CONVERGE:-not built}"
  wants cfengine && echo "- cfengine: $(cf-agent --version 2>/dev/null | head -n1)"
  wants puppet && echo "- puppet: $(puppet --version 2>/dev/null)"
  # Even --version creates ~/.ansible/tmp unless pointed elsewhere.
  wants ansible && echo "- ansible: $(ANSIBLE_HOME="$WORK/ansible-home" ANSIBLE_LOCAL_TEMP="$WORK/ansible-tmp" \
    ansible-playbook --version 2>/dev/null | head -n1)"
  echo "- python3 (baseline): $("$PY" --version 2>&1)"
}

write_results() {
  local stamp host csv md
  stamp=$(date -u +%Y-%m-%d)
  host=$(hostname -s 2>/dev/null || hostname)
  mkdir -p "$BENCH_DIR/results"
  # A second run on the same day gets -2, -3 ... rather than overwriting a
  # recorded result.
  local base="$BENCH_DIR/results/$stamp-$host" k=1
  while [ -e "$base.md" ] || [ -e "$base.csv" ]; do
    k=$((k + 1))
    base="$BENCH_DIR/results/$stamp-$host-$k"
  done
  csv="$base.csv"
  md="$base.md"
  {
    echo "tool,n,scenario,wall_s,cpu_s,peak_rss_mb,exit,touched,check,load1,note"
    printf '%s\n' "${ROWS[@]}"
  } >"$csv"
  {
    echo "# Benchmark results, $stamp, $host"
    echo
    echo "- started: $STARTED; command: bench/run.sh $ARGS"
    echo "- machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
      "$(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
    versions
    echo
    echo "wall = elapsed seconds; cpu = user + system seconds of the whole process tree;"
    echo "peak RSS = largest single process (getrusage, via /usr/bin/time);"
    echo "touched = entries under the root whose inode or ctime changed; check = tree compared"
    echo "with the desired state after the run; load1 = 1-minute load average when the run started."
    echo
    echo "| tool | N | scenario | wall s | cpu s | peak RSS MB | exit | touched | check | load1 | note |"
    echo "|---|---:|---|---:|---:|---:|---:|---:|---|---:|---|"
    printf '%s\n' "${ROWS[@]}" | awk -F, -v OFS=' | ' '{ $1 = $1; print "| " $0 " |" }'
  } >"$md"
  echo "$md"
}

print_table() {
  echo
  {
    echo "tool,N,scenario,wall_s,cpu_s,peak_RSS_MB,exit,touched,check,load1,note"
    printf '%s\n' "${ROWS[@]}"
  } | column -t -s, -o '  '
}

main() {
  ARGS="$*"
  STARTED=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
  parse_args "$@"
  trap cleanup EXIT
  trap 'exit 130' INT TERM # so the EXIT trap cleans up on ^C too
  ensure_packages
  PY=/usr/bin/python3
  [ -x "$PY" ] || PY=$(command -v python3)
  warn_if_daemons
  if wants converge; then find_converge; else CONVERGE=""; fi

  WORK=$(mktemp -d "${TMPDIR:-/tmp}/converge-bench.XXXXXX")
  mkdir -p "$WORK/logs"

  local tool n
  for tool in ${TOOLS//,/ }; do
    if [ "$tool" = converge ] && [ -z "$CONVERGE" ]; then
      echo "converge: not built, skipped"
      continue
    fi
    if [ "$tool" = ansible ]; then
      bench_tool ansible "$ANSIBLE_N"
      continue
    fi
    for n in ${NS//,/ }; do bench_tool "$tool" "$n"; done
  done

  [ ${#ROWS[@]} -gt 0 ] || die "nothing was measured"
  print_table
  echo
  echo "results: $(write_results)"
  if [ "$FAILED" -ne 0 ]; then
    echo "!!! FAILED: at least one tree did not match the desired state (see above)" >&2
    exit 1
  fi
}

main "$@"
