# Shared by the bench run.sh scripts (source it after setting BENCH_DIR and REPO_DIR).

# bench_converge NAME: sets CONVERGE to $CONVERGE when given, else publishes a self-contained
# single-file converge into bench/out (the build a release ships). NAME prefixes error messages.
bench_converge() {
  local name=$1
  if [ -z "${CONVERGE:-}" ]; then
    echo "publishing converge to bench/out (log: bench/out/publish.log)" >&2
    mkdir -p "$BENCH_DIR/out"
    dotnet publish "$REPO_DIR/src/Converge.Cli" -c Release -r linux-x64 --self-contained \
      -p:PublishSingleFile=true -o "$BENCH_DIR/out" >"$BENCH_DIR/out/publish.log" 2>&1 ||
      { echo "$name: publish failed, see bench/out/publish.log" >&2; exit 1; }
    CONVERGE="$BENCH_DIR/out/converge"
  fi
  [ -x "$CONVERGE" ] || { echo "$name: $CONVERGE is not an executable" >&2; exit 1; }
}

# bench_build NAME PROJECT LOG: builds a bench harness project quietly, its log in bench/out/LOG.
bench_build() {
  local name=$1 project=$2 log=$3
  echo "building $(basename "$(dirname "$project")") (log: bench/out/$log)" >&2
  mkdir -p "$BENCH_DIR/out"
  dotnet build "$project" -c Release -nologo -v q >"$BENCH_DIR/out/$log" 2>&1 ||
    { echo "$name: build failed, see bench/out/$log" >&2; exit 1; }
}
