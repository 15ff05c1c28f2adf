#!/usr/bin/env bash
# The whole test suite: builds the solution and runs every test project, then prints one
# "N passed, N failed" line over all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

dotnet build Converge.sln -c Release -nologo -v q -clp:NoSummary

# The suite must leave the machine exactly as it found it: compare a fingerprint taken before and after.
fingerprint() {
  md5sum /etc/passwd /etc/group /etc/shadow /etc/gshadow /etc/motd /var/lib/dpkg/status 2>/dev/null || true
  for p in /var/lib/converge /run/converge.lock /etc/converge /srv/converge-demo /tmp/converge-golden; do
    if [ -e "$p" ]; then echo "exists: $p"; fi
  done
  # Hosts with a private network namespace must leave no link, address or named netns on the machine.
  ip -o link show 2>/dev/null | cut -d: -f2 | sort || true
  ip -o addr show 2>/dev/null | awk '{print $2, $4}' | sort || true
  ip netns list 2>/dev/null || true
  cut -d' ' -f2,3 /proc/self/mounts | sort
  ls -d /tmp/converge-* 2>/dev/null || true   # every test temp dir starts with converge- and must be gone
  ls -d /sys/fs/cgroup/converge-host-* /sys/fs/cgroup/unified/converge-host-* 2>/dev/null || true   # systemd hosts' cgroups
  true
}

log=$(mktemp)
before=$(mktemp)
trap 'rm -f "$log" "$before"' EXIT
fingerprint > "$before"
status=0
dotnet test Converge.sln -c Release --no-build -nologo -v q 2>&1 | tee "$log" || status=$?
if ! diff -u "$before" <(fingerprint); then
  echo "tests: the suite changed the machine (see the diff above)"
  status=1
fi

# VSTest prints one "Passed! - Failed: F, Passed: P, Skipped: S, Total: T" line per test project.
awk -F'[:,]' '/(Passed|Failed)! +- +Failed:/ { f += $2; p += $4; s += $6 }
  END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s; if (p == 0) exit 1 }' "$log" || status=1
exit "$status"
