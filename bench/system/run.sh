#!/usr/bin/env bash
# System workload benchmark: converge apply vs puppet apply vs ansible-playbook on the same accounts,
# crontabs and packages, each tool in its own throwaway host (see bench/README.md, "System workload").
# Writes bench/results/<date>-system.{md,csv} (-2, -3 ... when taken).
#
# Usage: bench/system/run.sh [--tools converge,puppet,ansible] [--repeat K] [--users N] [--groups N] [--jobs N]
#   --repeat K     timed no-op re-runs per tool after the first apply (default 5)
# Environment:
#   CONVERGE=/path/to/converge   a published converge (its directory is mounted in the host) instead of
#                                publishing one to bench/out as bench/run.sh does
# Needs root (throwaway hosts), dotnet, puppet and ansible on the machine; nothing on the machine changes
# except the deb cache (cron and puppet-module-puppetlabs-cron-core, fetched once, never installed here).
set -euo pipefail

SYSTEM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_DIR=$(dirname "$SYSTEM_DIR")
REPO_DIR=$(dirname "$BENCH_DIR")

case " $* " in *" -h "*|*" --help "*) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "system/run.sh: throwaway hosts need root" >&2; exit 1; }

# shellcheck source=../lib.sh
. "$BENCH_DIR/lib.sh"
bench_converge system/run.sh
bench_build system/run.sh "$SYSTEM_DIR/SystemBench.csproj" system-build.log

BENCH_ARGS="$*" exec dotnet "$SYSTEM_DIR/bin/Release/net10.0/SystemBench.dll" \
  --converge "$(dirname "$CONVERGE")" --results "$BENCH_DIR/results" "$@"
