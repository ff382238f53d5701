#!/usr/bin/env bash
# Campaign planner benchmarks, side by side with their baselines:
#   1. quality: 125 generated instances (20-200 candidates, overlapping exact audiences), the
#      planner's value against the exact optimum from a MILP solver (PuLP + CBC), and its time
#      against the solver's;
#   2. scale: 100,000 candidates with HyperLogLog audience sketches, a budget for ~300 creators;
#      time and marginal-gain evaluations beside plain greedy's;
#   3. nethept: the NetHEPT network (15,233 nodes, audiences = neighbours), the planner beside
#      plain greedy and the top-by-followers baseline.
# Usage: bench/planner.sh [quality|scale|nethept ...]   (all three by default)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${PLANNER_BENCH_OUT:-$(mktemp -d)}"
data="${RESONANCE_TEST_DATA:-$(pwd)/../shared/data}"
parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(quality scale nethept)

bench() { cargo bench --quiet -p resonance-core --bench planner -- "$@"; }

for part in "${parts[@]}"; do
  case "$part" in
    quality)
      python3 -c 'import pulp' 2>/dev/null || pip install --quiet -r bench/requirements-planner.txt
      bench quality --out "$out"
      python3 bench/planner_milp.py --instances "$out/instances.jsonl" --plans "$out/plans.jsonl" \
        --json-out "$out/quality-summary.json"
      ;;
    scale)
      bench scale --candidates 100000 --creators 300
      bench scale --candidates 20000 --creators 60 --plain
      ;;
    nethept)
      bench nethept --data "$data/nethept-im/NetHEPT.txt"
      ;;
    *) echo "unknown part: $part" >&2; exit 2 ;;
  esac
done
