#!/usr/bin/env bash
# Fleet benchmark: `converge ssh` vs `ansible-playbook` (pipelining, forks=10) against the same fleet of
# throwaway sshd hosts, each behind a relay that adds latency each way (see bench/README.md, "Fleet over SSH").
# Writes bench/results/<date>-fleet.{md,csv} (-2, -3 ... when taken).
#
# Usage: bench/fleet/run.sh [--hosts N] [--resources 100,1000] [--ansible-resources 100] [--repeat K] [--delay-ms D]
#   --hosts N               fleet size (default 10; address blocks from 169.254.70.0, at most 64 hosts)
#   --resources LIST        file counts per host converge runs with (default 100,1000)
#   --ansible-resources L   file counts ansible runs with (default 100; each is minutes per 1,000 files)
#   --repeat K              timed no-op re-runs after each first apply (default 3)
#   --delay-ms D            latency added each way by the relay (default 25)
# Environment:
#   CONVERGE=/path/to/converge   a published self-contained single-file converge (it ships itself to the
#                                hosts) instead of publishing one to bench/out
# Needs root (throwaway hosts), dotnet and ansible-playbook on the machine; nothing on the machine changes.
set -euo pipefail

FLEET_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BENCH_DIR=$(dirname "$FLEET_DIR")
REPO_DIR=$(dirname "$BENCH_DIR")

case " $* " in *" -h "*|*" --help "*) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;; esac
[ "$(id -u)" -eq 0 ] || { echo "fleet/run.sh: throwaway hosts need root" >&2; exit 1; }
command -v ansible-playbook >/dev/null || { echo "fleet/run.sh: ansible-playbook is not installed" >&2; exit 1; }

# shellcheck source=../lib.sh
. "$BENCH_DIR/lib.sh"
bench_converge fleet/run.sh
bench_build fleet/run.sh "$FLEET_DIR/FleetBench.csproj" fleet-build.log

BENCH_ARGS="$*" exec dotnet "$FLEET_DIR/bin/Release/net10.0/FleetBench.dll" \
  --converge "$CONVERGE" --results "$BENCH_DIR/results" "$@"
