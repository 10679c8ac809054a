#!/usr/bin/env bash
# The GPU rows of benchmarks/charlm.py: the models of GPU_MODELS trained side by side on one
# GPU, each for SECONDS of its own wall-clock time (sharing the GPU can only slow each one
# down), scored on the three held-out plays. The models of GPU_SAVE (none by default; this
# session used GPU_SAVE=gpu-lstm1-512) also save themselves as chapter 9's model.
#
#   bash benchmarks/gpu.sh [SECONDS] [RESULTS_DIR] [PYTHON]   # defaults: 300 benchmarks/results python3
#
# Each model writes its rows to RESULTS_DIR/charlm_<model>.json and its log beside it; merge
# them into the committed file with
#   .venv/bin/python benchmarks/charlm.py --merge RESULTS_DIR/charlm_gpu-*.json
set -u
SECONDS_PER_MODEL=${1:-300}
DIR=${2:-benchmarks/results}
PYTHON=${3:-python3}
MODELS=${GPU_MODELS:-gpu-lstm2-1024 gpu-lstm3-1024 gpu-lstm1-512}
SAVE=${GPU_SAVE:-}
export RNNLAB_SCALE=full PYTHONUNBUFFERED=1
mkdir -p "$DIR"
for model in $MODELS; do
    extra=""
    if [[ " $SAVE " == *" $model "* ]]; then extra="--save"; fi
    RNNLAB_BENCH_COMMAND="bash benchmarks/gpu.sh $SECONDS_PER_MODEL (model $model)" \
        "$PYTHON" benchmarks/charlm.py --models "$model" --seconds "$SECONDS_PER_MODEL" \
        --evals 5 $extra --results "$DIR/charlm_$model.json" > "$DIR/charlm_$model.log" 2>&1 &
done
wait
tail -n 12 "$DIR"/charlm_*.log
