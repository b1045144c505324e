#!/usr/bin/env bash
# Trains every model of the real-speech recipe (docs/results.md) from one pack
# (python -m kmtalk_train.pack), all at once: one process per model, on the GPU when there
# is one (they share it), else on the CPU (slow: give fewer minutes or run them one by one).
#
#   training/scripts/train_real.sh PACK OUT_DIR MINUTES [MODELS...]
#
# MODELS (default: all) name the runs below; each writes OUT_DIR/NAME.safetensors and
# OUT_DIR/NAME.log. Every run uses on-the-fly augmentation and the dynamic-range loss;
# the bilabial closure loss ($CLOSURE_WEIGHT, default 50; the labiodental contact loss,
# $LABIODENTAL_WEIGHT, is off by default: see docs/results.md); the capture takes are 15% of the steps
# ($CAPTURE_FRACTION), the fold runs leave their test take out. $RANGE_LOG_WEIGHT (default 0,
# an experiment: docs/results.md) adds the log-ratio dynamic-range loss, $CORRELATION_WEIGHT
# (default 0) the correlation loss (1 - Pearson r per moving channel); SHALLOW=1 adds the
# shallow path (conv features -> motion logits, `cmc.shallow`) to the runs from scratch;
# LOUDNESS=1 adds the loudness path (relative loudness -> CMC input and motion logits,
# `cmc.loudness`) to them.
# RECORDED_FRACTION=F (e.g. 0.33) draws that share of the non-capture steps from the pack's
# recorded prompts (pack --human-first) and the rest from synthetic speech; unset, every
# training utterance is drawn alike.
# CAPTURE_CHANNELS=NAMES (e.g. jawOpen) limits the capture's supervision to those ARKit
# channels; the others learn from the teacher alone. CAPTURE_TEACHER=NPZ (self_targets) then
# supervises the capture's other measured channels by the teacher on the take's own audio;
# a %s in it is replaced by the run's held-out take (one file per fold).
# EMA=DECAY (e.g. 0.998) exports an exponential moving average of the weights as NAME and
# the last trained weights as NAME.raw.safetensors (a paired comparison from one run).
# $STEPS, when set, also stops each run after that many steps (whichever of MINUTES and
# STEPS comes first; the schedule follows the one that is nearer), so a run on a busy machine
# still trains the same number of steps: give MINUTES generously then.
#   keys0, keys0-<TAKE>       the key-motion model from scratch on the pack + all five FACEGOOD
#                     takes (keys0 with 50 minutes is kmtalk-base v2, the shipped default), and
#                     the same without TAKE (zero-shot on TAKE)
#   keys              kmtalk-base fine-tuned the same way (kmtalk-base v1's recipe); $INIT names
#                     the model to start from (default models/kmtalk-base.safetensors; v1 started
#                     from v0: see models/README.md)
#   keys-<TAKE>       the same without TAKE (zero-shot on TAKE)
#   direct0, direct0-<TAKE>   the direct-regression baseline from scratch
set -euo pipefail
pack=$(realpath "$1"); out=$(realpath -m "$2"); minutes=$3; shift 3
here="$(cd "$(dirname "$0")/.." && pwd)"
python=${PYTHON:-python3}
takes=(1114_2_01 1114_2_02 1114_2_03 1114_2_04 1114_3_15)
runs=("$@")
if [ ${#runs[@]} -eq 0 ]; then
  runs=(keys)
  for t in "${takes[@]}"; do runs+=("keys-$t"); done
  runs+=(keys0 keys0-1114_2_01 keys0-1114_3_15 direct0 direct0-1114_2_01 direct0-1114_3_15)
fi
mkdir -p "$out"
common=(--capture-fraction "${CAPTURE_FRACTION:-0.15}" --augment --range-weight 50 --range-log-weight "${RANGE_LOG_WEIGHT:-0}" --correlation-weight "${CORRELATION_WEIGHT:-0}" --closure-weight "${CLOSURE_WEIGHT:-50}" --labiodental-weight "${LABIODENTAL_WEIGHT:-0}" --val-every 1000 --val-limit 150 --last)
for run in "${runs[@]}"; do
  name=${run%%-*}; take=""
  [ "$name" != "$run" ] && take=${run#*-}
  args=("$pack" --out "$out/$run.safetensors" --minutes "$minutes" "${common[@]}")
  [ -n "$take" ] && args+=(--exclude-take "$take")
  [ -n "${STEPS:-}" ] && args+=(--steps "$STEPS")
  [ -n "${EMA:-}" ] && args+=(--ema "$EMA")
  [ -n "${CAPTURE_CHANNELS:-}" ] && args+=(--capture-channels "$CAPTURE_CHANNELS")
  [ -n "${CAPTURE_TEACHER:-}" ] && args+=(--capture-teacher "$(printf "$CAPTURE_TEACHER" "${take:-all}")")
  [ -n "${RECORDED_FRACTION:-}" ] && args+=(--recorded-fraction "$RECORDED_FRACTION")
  case $name in
    keys) args+=(--init "${INIT:-$here/../models/kmtalk-base.safetensors}" --lr 5e-4 --batch-size 32) ;;
    keys0) args+=(--lr 1e-3 --batch-size 32); [ "${SHALLOW:-0}" = 1 ] && args+=(--shallow)
           [ "${LOUDNESS:-0}" = 1 ] && args+=(--loudness) ;;
    direct0) args+=(--no-keys --lr 1e-3 --batch-size 32); [ "${LOUDNESS:-0}" = 1 ] && args+=(--loudness) ;;
    *) echo "unknown run $run" >&2; exit 2 ;;
  esac
  (cd "$here" && OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1 PYTHONPATH="$here" \
     "$python" -m kmtalk_train.train "${args[@]}" > "$out/$run.log" 2>&1) &
done
wait
grep -h "wrote\|Error\|error" "$out"/*.log || true
