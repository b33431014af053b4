#!/usr/bin/env bash
# The latency job of .github/workflows/latency.yml, runnable by hand too.
#
#   latency.sh DEVICE OUTPUT_DIR
#
# Run from a folder holding the pull request's checkout in candidate/ (installed with `make install`) and, for
# the interleaved A/B mode, the base branch's checkout in base/ (installed too). Every recipe of
# $LATENCY_RECIPES is exported by both checkouts and benchmarked interleaved (A B A B ...) on DEVICE. With
# $LATENCY_BASELINES_DIR set (a folder of the candidate checkout), the candidate's reports are compared with the
# stored baselines of the device instead. The markdown goes to $GITHUB_STEP_SUMMARY (or OUTPUT_DIR/summary.md).
# Exit code: seaformer-report's (0 no change or improvement, 1 regression, 2 bad input, 3 inconclusive).
set -euo pipefail

device=$1
out=$2
recipes=${LATENCY_RECIPES:?set LATENCY_RECIPES to the export recipes to measure}
baselines=${LATENCY_BASELINES_DIR:-}
summary=${GITHUB_STEP_SUMMARY:-$out/summary.md}
mkdir -p "$out"
if [ -z "$baselines" ] && [ ! -d base ]; then
    echo "::error::no base/ checkout and no LATENCY_BASELINES_DIR: nothing to compare the models with"
    exit 2
fi

export_model() {  # checkout recipe folder -> prints the exported model's path
    "$1/.venv/bin/seaformer-export" --recipe "$1/$2" --output-dir "$3" --json |
        "$1/.venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["model"])'
}

for recipe in $recipes; do
    name=$(basename "$recipe" .json)
    candidate_model=$(export_model candidate "$recipe" "$out/models/candidate/$name")
    if [ -n "$baselines" ]; then
        candidate/.venv/bin/seaformer-bench --model "$candidate_model" --device "$device" --repeats 10 \
            --allow-unstable --output-dir "$out/ab/current"
    elif [ -f "base/$recipe" ]; then
        base_model=$(export_model base "$recipe" "$out/models/base/$name")
        # The verdict of all pairs is taken below; one model's exit code must not stop the others.
        candidate/.venv/bin/seaformer-bench --model "$candidate_model" --baseline "$base_model" \
            --device "$device" --output-dir "$out/ab" || true
    else
        echo "::notice::$recipe is new in this pull request: no base-branch model to compare with"
    fi
done

if [ -n "$baselines" ]; then
    set -- --baselines-dir "candidate/$baselines" "$out/ab/current"
else
    set -- "$out/ab/baseline" "$out/ab/current"
fi
status=0
candidate/.venv/bin/seaformer-report compare "$@" --markdown "$summary" --html "$out/latency.html" --json \
    > "$out/comparison.json" || status=$?
if [ "$status" -eq 3 ]; then
    echo "::warning::latency comparison inconclusive (see the job summary for the reasons)"
fi
exit "$status"
