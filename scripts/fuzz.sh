#!/usr/bin/env bash
# Fuzzes one entry point with libFuzzer, the engine instrumented for coverage and built
# with AddressSanitizer (fuzz/README.md):
#
#   scripts/fuzz.sh TARGET SECONDS [libFuzzer options...]
#   scripts/fuzz.sh all SECONDS          (each target SECONDS in turn)
#
# TARGET: model, config, rig, gltf, obj, audio, stream. The working corpus is
# .fuzz/corpus/TARGET, seeded from fuzz/corpus/TARGET (and the repository's model and rig
# files); crashes are written to .fuzz/artifacts/ and fail the run. Prints the number of
# executions per target. Build: KMTALK_FUZZ=1 swift build with -sanitize=fuzzer,address
# into .build-fuzz (a few minutes the first time).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh TARGET SECONDS}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS}
shift 2
all=(model config rig gltf obj audio stream)
if [ "$target" = all ]; then
  for t in "${all[@]}"; do "$0" "$t" "$seconds" "$@"; done
  exit 0
fi
case " ${all[*]} " in *" $target "*) ;; *) echo "unknown target $target (${all[*]})" >&2; exit 2 ;; esac

KMTALK_FUZZ=1 swift build --scratch-path .build-fuzz --product kmtalk-fuzz \
  -Xswiftc -sanitize=fuzzer,address 2>&1 | grep -E "error|Compiling|Build" | grep -v "warning" | tail -3 >&2
binary=.build-fuzz/debug/kmtalk-fuzz

corpus=.fuzz/corpus/$target
mkdir -p "$corpus" .fuzz/artifacts
cp -n fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
case $target in
  model) cp -n models/kmtalk-tiny-random.safetensors Tests/KMTalkEngineTests/Fixtures/learned-direct.safetensors \
           Tests/KMTalkEngineTests/Fixtures/kmtalk-tiny.safetensors "$corpus"/ ;;
  audio) cp -n examples/audio/hello.wav "$corpus"/ ;;
esac
dict=()
case $target in
  model|config|rig) dict=(-dict=fuzz/dict/safetensors.dict) ;;
  gltf|obj|audio) dict=(-dict=fuzz/dict/$target.dict) ;;
esac

log=.fuzz/$target.log
set +e
KMTALK_FUZZ_TARGET=$target ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 LSAN_OPTIONS=suppressions=fuzz/lsan.supp:print_suppressions=0 \
  "$binary" "$corpus" "${dict[@]}" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 \
  -max_len=262144 -artifact_prefix=.fuzz/artifacts/"$target"- -print_final_stats=1 "$@" > "$log" 2>&1
status=$?
set -e
runs=$(grep -Eo "stat::number_of_executed_units: *[0-9]+" "$log" | grep -Eo "[0-9]+$" || echo 0)
printf '%-7s %10s executions in %s s, corpus %s files, exit %s\n' "$target" "$runs" "$seconds" "$(ls "$corpus" | wc -l)" "$status"
if [ $status -ne 0 ]; then
  grep -E "ERROR|SUMMARY|Fatal|==[0-9]+==" "$log" | head -20 >&2
  echo "see $log and .fuzz/artifacts/" >&2
  exit 1
fi
