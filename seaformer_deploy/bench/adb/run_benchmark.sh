#!/system/bin/sh
# seaformer-deploy device-side runner: ONE independent launch of TFLite/LiteRT benchmark_model.
#
# Usage: sh run_benchmark.sh CPU_MASK BINARY [benchmark_model flags...]
#   CPU_MASK  hex CPU affinity mask for taskset (e.g. 80 or f0), or "none" to run unpinned
#   BINARY    path of the benchmark_model executable (chmod +x, under /data/local/tmp)
#
# Prints marker lines that the host (seaformer_deploy/bench/adb/launches.py) parses:
#   SEAFORMER_BEGIN
#   SEAFORMER_PINNED=1 MASK=<mask>       or   SEAFORMER_PINNED=0 REASON=<why>
#   ... benchmark_model output, stderr merged into stdout ...
#   SEAFORMER_EXIT=<code>
# and exits with benchmark_model's exit code (128+N when signal N killed it).
#
# POSIX sh only: it must run under Android's mksh with toybox tools, and under dash.

if [ "$#" -lt 2 ]; then
    echo "usage: $0 CPU_MASK BINARY [benchmark_model flags...]" >&2
    exit 64
fi
mask=$1
binary=$2
shift 2

echo "SEAFORMER_BEGIN"

if [ ! -f "$binary" ] || [ ! -x "$binary" ]; then
    echo "SEAFORMER_ERROR=$binary is missing or not executable"
    echo "SEAFORMER_EXIT=126"
    exit 126
fi

# Probe the mask with a no-op first: a mask naming only offline cores makes taskset fail before
# the benchmark starts, and an unpinned run is still worth having when it is labelled as such.
pinned=0
reason="no mask requested"
if [ "$mask" != "none" ]; then
    if ! command -v taskset >/dev/null 2>&1; then
        reason="taskset not available"
    elif taskset "$mask" true >/dev/null 2>&1; then
        pinned=1
    else
        reason="taskset rejected mask $mask"
    fi
fi

if [ "$pinned" = 1 ]; then
    echo "SEAFORMER_PINNED=1 MASK=$mask"
    taskset "$mask" "$binary" "$@" 2>&1
    code=$?
else
    echo "SEAFORMER_PINNED=0 REASON=$reason"
    "$binary" "$@" 2>&1
    code=$?
fi

echo "SEAFORMER_EXIT=$code"
exit "$code"
