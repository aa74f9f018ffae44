#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan+LeakSanitizer) and runs each
# for a bounded time. Usage: run_fuzzers.sh SOURCE_DIR FUZZ_BUILD_DIR [SECONDS]
set -euo pipefail
src=$1
out=$2
secs=${3:-${JITSCOPE_FUZZ_SECONDS:-60}}
if ! command -v clang++ >/dev/null; then
  echo "SKIP: clang++ not installed (scripts/install-deps installs it)"
  exit 77
fi
if ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "SKIP: libFuzzer runtime missing (package libclang-rt-14-dev)"
  exit 77
fi
cmake -S "$src" -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DJITSCOPE_FUZZ=ON \
  -DJITSCOPE_FUZZ_ONLY=ON >"$out.configure.log" 2>&1 || { cat "$out.configure.log"; exit 1; }
ninja -C "$out" -j2 fuzz_compile fuzz_run fuzz_descriptor fuzz_symfile
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
cp "$src"/tests/fuzz/seeds/* "$seeds"/ 2>/dev/null || true
find "$src/tests/lua" -name '*.lua' -size -16k -exec cp {} "$seeds"/ \; 2>/dev/null || true
status=0
empty=$(mktemp -d)
trap 'rm -rf "$seeds" "$empty"' EXIT
# The readers' fuzzers start from their own structure (no Lua seeds) and get
# half the time each: they are fast and shallow.
for f in fuzz_compile fuzz_run fuzz_descriptor fuzz_symfile; do
  corpus=$seeds
  t=$secs
  case $f in fuzz_descriptor|fuzz_symfile) corpus=$empty; t=$(( (secs + 1) / 2 ));; esac
  echo "== $f for ${t}s"
  work=$(mktemp -d)
  if ! (cd "$work" && ASAN_OPTIONS=detect_leaks=1 "$out/bin/$f" -max_total_time="$t" -timeout=10 \
          -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 "$corpus" 2>&1 | tail -25); then
    status=1
  fi
  if compgen -G "$work/crash-*" >/dev/null || compgen -G "$work/leak-*" >/dev/null ||
     compgen -G "$work/timeout-*" >/dev/null || compgen -G "$work/oom-*" >/dev/null; then
    echo "FAIL: $f found failing inputs (kept in $out/artifacts):"; ls "$work"; status=1
    mkdir -p "$out/artifacts"; cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$out/artifacts"/ 2>/dev/null || true
  fi
  rm -rf "$work"
done
exit $status
