#!/usr/bin/env bash
# The whole test suite: builds the solution and runs every test project.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Converge.sln -c Release -nologo -v q
dotnet test Converge.sln -c Release --no-build -nologo -v q
