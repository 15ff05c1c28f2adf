#!/usr/bin/env bash
# The whole test suite: builds the solution and runs every test project, then prints one
# "N passed, N failed" line over all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

dotnet build Converge.sln -c Release -nologo -v q -clp:NoSummary

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test Converge.sln -c Release --no-build -nologo -v q 2>&1 | tee "$log" || status=$?

# VSTest prints one "Passed! - Failed: F, Passed: P, Skipped: S, Total: T" line per test project.
awk -F'[:,]' '/(Passed|Failed)! +- +Failed:/ { f += $2; p += $4; s += $6 }
  END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s; if (p == 0) exit 1 }' "$log" || status=1
exit "$status"
