#!/usr/bin/env python3
"""Measure the campaign planner's plans against the exact optimum, solved as a MILP.

Run:

    pip install -r bench/requirements-planner.txt     # PuLP, with its bundled CBC solver
    python3 bench/planner_milp.py --instances X.jsonl --plans Y.jsonl \
        [--time-limit 120] [--json-out summary.json]

Inputs (JSON Lines, one object per line, matched by "name"):

* --instances: one planning problem per line:
  {"name", "goal": "reach"|"engagement", "budget" (integer micros), "min_creators",
   "max_creators" (0 = no limit), "max_share" (0 = no limit), "max_celebrities" (null = no limit),
   "quotas": [{"niche", "min", "max" (0 = no limit)}], "required": [ids], "excluded": [ids],
   "candidates": [{"id", "cost" (integer micros), "engagements", "celebrity", "niches",
                   "followers", "members": [int], "weight"}]}
* --plans: what the planner produced for each instance:
  {"name", "value", "upper_bound", "guarantee", "algorithm", "seconds", "candidates"}

The MILP. One binary x_i per candidate i that may be chosen at all: not excluded, cost within the
budget, and cost <= floor(budget * max_share + 0.001) when max_share > 0 (the planner's own rule, in f64,
so a creator may cost exactly the share). Every instance has the constraints

    sum_i cost_i x_i <= budget                       (knapsack; checked again in exact integers)
    x_i = 1                     for i in required    (a required one that cannot be chosen: infeasible)
    min_creators <= sum_i x_i  [<= max_creators when > 0]
    sum_{i celebrity} x_i <= max_celebrities          (when not null)
    min_q <= sum_{i : niche_q in niches_i} x_i  [<= max_q when > 0]   for each quota q

and one of two objectives:

* engagement:  maximise sum_i engagements_i x_i.
* reach:       maximise sum_u y_u + sum_i weight_i x_i, with one y_u in [0, 1] per member id u and
               y_u <= sum_{i : u in members_i} x_i, so that y_u = 1 exactly when u is covered.
               As written the model is aggregated without changing its optimum: members covered
               by the same set S of candidates share one y_S in [0, 1] with objective coefficient
               |members with that set|, and a set with one candidate i folds into i's coefficient
               (y_S = x_i at any optimum). The y need not be declared integer: for binary x the
               best y_S is min(1, sum x_i), which is 0 or 1.

Keeping the budget exact: the knapsack row is written in units of the budget, as
sum_i (cost_i / budget) x_i <= 1 + 1e-9. The relative slack of 1e-9 keeps a set that costs exactly
the budget clear of rounding (PuLP writes 13 significant digits; CBC has tolerances of its own), so
the model never loses a feasible set. It never gains one either: the chosen set is read back
(x_i > 0.5), its cost summed in exact integers and its value recomputed exactly from the input
(distinct members + weights, or engagements); a set over the budget, by the slack or by CBC's
tolerance, is cut off alone (sum_{i in S} x_i - sum_{i not in S} x_i <= |S| - 1) and the model
solved again. The reported optimum is the exact value of a set that truly fits the budget.

CBC runs with its log off (kept in a temporary file and parsed for its version and final bound),
a relative gap of 0 and the given wall-clock time limit per solve. An instance that hits the limit
is reported as "not proven": its "optimum" is then the best set found (a lower bound on the true
optimum), so a violated upper bound or a ratio below the guarantee found against it is still a
real failure, while some failures may go unseen.

Output: a table per instance (name, candidates, goal, algorithm, optimum, plan value, ratio
plan/optimum, guarantee, planner's upper bound, whether bound >= optimum, planner ms, solver ms)
and a summary. "solver ms" is the wall time of building the model and running CBC (a process of
its own, started through an MPS file, so a few ms of overhead even on tiny instances).

Exit status: 0 when every check passes; 1 when a planner's upper bound is below the optimum by more
than 1e-6 * max(1, optimum), when a plan's ratio is below its stated guarantee, or when a plan
claims more than the optimum (impossible for a feasible plan); 2 for bad input, a solver error
or no plan at all within the time limit (when no check failed).
"""

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time

import pulp

BOUND_TOL = 1e-6  # relative, for "upper bound below the optimum" and "plan above the optimum"
RATIO_TOL = 1e-9  # relative, for "plan below guarantee * optimum"
BUDGET_SLACK = 1e-9  # relative slack on the budget row; the exact integer check removes its excess
MAX_CUTS = 50  # budget re-solves before giving up (each one cuts off a single set)


class InputError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Input


def load_jsonl(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise InputError(f"{path}:{lineno}: not JSON: {e}") from None
    return rows


def exact_int(value, what):
    """Costs and budgets are integer micros; accept 12.0 but nothing fractional."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{what} must be an integer, got {value!r}")
    if isinstance(value, float):
        if not value.is_integer():
            raise InputError(f"{what} must be an integer number of micros, got {value!r}")
        value = int(value)
    return value


def check_instance(inst):
    name = inst.get("name")
    if not name:
        raise InputError(f"instance without a name: {str(inst)[:80]}")
    if inst.get("goal") not in ("reach", "engagement"):
        raise InputError(f"{name}: goal must be 'reach' or 'engagement', got {inst.get('goal')!r}")
    inst["budget"] = exact_int(inst.get("budget"), f"{name}: budget")
    ids = set()
    for c in inst.get("candidates", []):
        if c.get("id") in ids:
            raise InputError(f"{name}: candidate id {c.get('id')!r} appears twice")
        ids.add(c.get("id"))
        c["cost"] = exact_int(c.get("cost"), f"{name}: cost of {c.get('id')}")


# ---------------------------------------------------------------------------------------------
# Exact evaluation of a chosen set


def exact_cost(inst, chosen):
    return sum(inst["candidates"][i]["cost"] for i in chosen)


def exact_value(inst, chosen):
    cands = inst["candidates"]
    if inst["goal"] == "engagement":
        return math.fsum(float(cands[i].get("engagements") or 0.0) for i in chosen)
    covered = set()
    for i in chosen:
        covered.update(cands[i].get("members") or ())
    return len(covered) + math.fsum(float(cands[i].get("weight") or 0.0) for i in chosen)


# ---------------------------------------------------------------------------------------------
# The model


def eligible_candidates(inst):
    """Indices of candidates that may be chosen, or (None, reason) when the instance is
    infeasible before any solving (a required candidate that cannot be chosen)."""
    budget = inst["budget"]
    share = float(inst.get("max_share") or 0.0)
    # Same rule as the planner: the share limit in micros, from f64, rounded down.
    share_limit = math.floor(float(budget) * share + 1e-3) if share > 0 else budget
    excluded = set(inst.get("excluded") or ())
    required = set(inst.get("required") or ())
    ids = {c["id"] for c in inst["candidates"]}
    missing = required - ids
    if missing:
        return None, f"required id(s) not among the candidates: {sorted(missing)}"
    eligible = []
    for i, c in enumerate(inst["candidates"]):
        why = None
        if c["id"] in excluded:
            why = "excluded"
        elif c["cost"] > budget:
            why = "costs more than the budget"
        elif c["cost"] > share_limit:
            why = "costs more than max_share allows"
        if why is None:
            eligible.append(i)
        elif c["id"] in required:
            return None, f"required {c['id']} {why}"
    return eligible, None


def build_model(inst, eligible):
    """Returns (problem, {candidate index: x variable}, model size dict)."""
    cands = inst["candidates"]
    prob = pulp.LpProblem(f"plan_{inst['name']}", pulp.LpMaximize)
    required = set(inst.get("required") or ())
    x = {}
    for i in eligible:
        x[i] = pulp.LpVariable(f"x{i}", cat=pulp.LpBinary)
        if cands[i]["id"] in required:
            # A constraint, not lowBound=1: PuLP resets a binary's bounds to [0, 1].
            prob += x[i] == 1, f"required{i}"

    # Objective.
    coef = {i: 0.0 for i in eligible}
    objective = []
    groups = 0
    members = 0
    if inst["goal"] == "engagement":
        for i in eligible:
            coef[i] = float(cands[i].get("engagements") or 0.0)
    else:
        for i in eligible:
            coef[i] = float(cands[i].get("weight") or 0.0)
        covering = {}  # member id -> indices of eligible candidates that contain it
        for i in eligible:
            for u in set(cands[i].get("members") or ()):
                covering.setdefault(u, []).append(i)
        members = len(covering)
        by_set = {}  # frozenset of candidates -> number of members covered by exactly that set
        for owners in covering.values():
            key = frozenset(owners)
            by_set[key] = by_set.get(key, 0) + 1
        for owners, count in by_set.items():
            if len(owners) == 1:
                (i,) = owners
                coef[i] += count
                continue
            y = pulp.LpVariable(f"y{groups}", lowBound=0, upBound=1)
            groups += 1
            objective.append(count * y)
            prob += y <= pulp.lpSum(x[i] for i in sorted(owners)), f"cover{groups}"
    objective.append(pulp.lpSum(coef[i] * x[i] for i in eligible))
    prob += pulp.lpSum(objective)

    # Knapsack, in units of the budget, with a relative slack of BUDGET_SLACK: a set exactly at
    # the budget must not hinge on rounding (PuLP writes 13 significant digits, CBC works with
    # tolerances). What the slack lets in beyond the budget is cut off after the exact check.
    budget = inst["budget"]
    if budget > 0:
        prob += (
            pulp.lpSum((cands[i]["cost"] / budget) * x[i] for i in eligible) <= 1.0 + BUDGET_SLACK,
            "budget",
        )
    # (With a budget of 0 only free candidates are eligible, and there is nothing to add.)

    count = pulp.lpSum(x.values())
    if (inst.get("min_creators") or 0) > 0:
        prob += count >= inst["min_creators"], "min_creators"
    if (inst.get("max_creators") or 0) > 0:
        prob += count <= inst["max_creators"], "max_creators"
    if inst.get("max_celebrities") is not None:
        celebs = [x[i] for i in eligible if cands[i].get("celebrity")]
        prob += pulp.lpSum(celebs) <= inst["max_celebrities"], "max_celebrities"
    for q, quota in enumerate(inst.get("quotas") or ()):
        niche = quota["niche"]
        inside = pulp.lpSum(x[i] for i in eligible if niche in (cands[i].get("niches") or ()))
        if (quota.get("min") or 0) > 0:
            prob += inside >= quota["min"], f"quota{q}_min"
        if (quota.get("max") or 0) > 0:
            prob += inside <= quota["max"], f"quota{q}_max"

    size = {"binaries": len(x), "members": members, "member_groups": groups}
    return prob, x, size


# ---------------------------------------------------------------------------------------------
# Solving


CBC_VERSION = None


def parse_cbc_log(text):
    """The CBC version and, when the search stopped early, its best possible objective."""
    global CBC_VERSION
    m = re.search(r"Version:\s*(\S+)", text)
    if m and CBC_VERSION is None:
        CBC_VERSION = m.group(1)
    # For a problem passed with -max, CBC prints the bound as "Upper bound:".
    m = re.search(r"^(?:Upper|Lower) bound:\s*(-?[0-9.eE+-]+)", text, re.MULTILINE)
    return float(m.group(1)) if m else None


def run_cbc(prob, time_limit, careful=False):
    """One CBC run. careful: without presolve and integer preprocessing, to double-check an
    "infeasible" answer (CBC 2.10 can call a numerically borderline model infeasible after
    its preprocessing drops the only solutions it found)."""
    fd, log_path = tempfile.mkstemp(prefix="planner_milp_", suffix=".log")
    os.close(fd)
    try:
        solver = pulp.PULP_CBC_CMD(
            msg=False, timeLimit=time_limit, gapRel=0.0, logPath=log_path,
            presolve=False if careful else None, options=["preprocess off"] if careful else [],
        )
        prob.solve(solver)
        with open(log_path, encoding="utf-8", errors="replace") as f:
            bound = parse_cbc_log(f.read())
    finally:
        os.unlink(log_path)
    return bound


def solve_instance(inst, time_limit):
    """Solves one instance. Returns a dict with status ('optimal', 'not proven', 'infeasible',
    'no solution', 'error'), optimum, best_bound, chosen ids, seconds and model size."""
    start = time.perf_counter()
    result = {"status": None, "optimum": None, "best_bound": None, "chosen": None, "note": ""}
    eligible, reason = eligible_candidates(inst)
    if eligible is None:
        result.update(status="infeasible", note=reason, seconds=time.perf_counter() - start)
        return result
    prob, x, size = build_model(inst, eligible)
    result["model"] = size
    deadline = start + time_limit
    notes = []
    for attempt in range(MAX_CUTS + 1):
        remaining = max(1.0, deadline - time.perf_counter())
        bound = run_cbc(prob, remaining)
        if prob.status == pulp.LpStatusInfeasible:
            bound = run_cbc(prob, max(1.0, deadline - time.perf_counter()), careful=True)
            if prob.status == pulp.LpStatusInfeasible:
                notes.append("the MILP has no feasible plan")
                result.update(status="infeasible")
                break
            notes.append("CBC said infeasible, but found a plan without preprocessing")
        status, sol_status = prob.status, prob.sol_status
        if sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
            result.update(status="no solution")
            notes.append(f"CBC: {pulp.LpStatus[status]}, no plan found within the time limit")
            break
        chosen = sorted(i for i, v in x.items() if (v.value() or 0.0) > 0.5)
        if exact_cost(inst, chosen) > inst["budget"]:
            # Over budget only by solver tolerance: cut off exactly this set and solve again.
            prob += (
                pulp.lpSum(x[i] for i in chosen) - pulp.lpSum(v for i, v in x.items() if i not in chosen)
                <= len(chosen) - 1,
                f"nogood{attempt}",
            )
            continue
        value = exact_value(inst, chosen)
        solver_value = pulp.value(prob.objective) or 0.0
        if abs(solver_value - value) > 1e-6 * max(1.0, abs(value)):
            notes.append(f"solver objective {solver_value} vs exact {value}")
        if attempt:
            notes.append(f"{attempt} set(s) over budget within tolerance cut off")
        proven = sol_status == pulp.LpSolutionOptimal
        result.update(
            status="optimal" if proven else "not proven",
            optimum=value,
            best_bound=value if proven else bound,
            chosen=[inst["candidates"][i]["id"] for i in chosen],
            cost=exact_cost(inst, chosen),
        )
        break
    else:
        result.update(status="error")
        notes.append(f"still over budget after {MAX_CUTS} cuts")
    result["note"] = "; ".join(dict.fromkeys(notes))
    result["seconds"] = time.perf_counter() - start
    return result


# ---------------------------------------------------------------------------------------------
# Comparison


def compare(inst, plan, solved):
    """One table row: the plan against the optimum, with the three checks."""
    opt = solved["optimum"]
    value = plan.get("value")
    ub = plan.get("upper_bound")
    guarantee = plan.get("guarantee")
    row = {
        "name": inst["name"],
        "candidates": len(inst["candidates"]),
        "goal": inst["goal"],
        "algorithm": plan.get("algorithm"),
        "status": solved["status"],
        "optimum": opt,
        "solver_best_bound": solved.get("best_bound"),
        "value": value,
        "ratio": None,
        "guarantee": guarantee,
        "upper_bound": ub,
        "bound_ok": None,
        "below_guarantee": False,
        "above_optimum": False,
        "planner_ms": (plan.get("seconds") or 0.0) * 1000.0,
        "solver_ms": solved["seconds"] * 1000.0,
        "model": solved.get("model"),
        "note": solved.get("note", "").strip(),
    }
    if plan.get("candidates") is not None and plan["candidates"] != row["candidates"]:
        row["note"] += f" plan says {plan['candidates']} candidates"
    if opt is None:
        return row
    tol = BOUND_TOL * max(1.0, abs(opt))
    if value is not None:
        if opt > 1e-12:
            row["ratio"] = value / opt
        else:
            row["ratio"] = 1.0 if abs(value) <= tol else math.inf
        # Against a not-proven incumbent (<= the true optimum) these two stay sound:
        # value < guarantee * incumbent implies value < guarantee * optimum.
        if guarantee is not None and value < guarantee * opt - RATIO_TOL * max(1.0, abs(opt)):
            row["below_guarantee"] = True
        if solved["status"] == "optimal" and value > opt + tol:
            row["above_optimum"] = True
    best = solved.get("best_bound")
    if ub is not None:
        if ub < opt - tol:
            row["bound_ok"] = False  # below a plan that exists: violated, proven or not
        elif solved["status"] == "optimal" or (best is not None and ub >= best - tol):
            row["bound_ok"] = True
        # else: between the best plan found and CBC's bound, undecided ("?")
    if solved["status"] == "not proven" and best is not None and value is not None:
        low = value / best if best > 0 else None
        row["note"] += (f" optimum in [{fmt(opt)}, {fmt(best)}], so ratio in"
                        f" [{fmt(low, 4, True)}, {fmt(row['ratio'], 4, True)}]")
    row["note"] = row["note"].strip()
    return row


def fmt(v, digits=2, fixed=False):
    """A value for the table: whole numbers without decimals unless fixed."""
    if v is None:
        return "-"
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        v = float(v)
        if math.isinf(v):
            return "inf"
        if not fixed and v.is_integer() and abs(v) < 1e15:
            return f"{int(v):,}"
        return f"{v:,.{digits}f}"
    return str(v)


def print_table(rows):
    headers = ["name", "cands", "goal", "algorithm", "optimum", "plan", "ratio", "guar.",
               "upper bound", "ub>=opt", "planner ms", "solver ms", "status"]
    lines = []
    for r in rows:
        flag = ""
        if r["below_guarantee"]:
            flag += " BELOW GUARANTEE"
        if r["above_optimum"]:
            flag += " ABOVE OPTIMUM"
        lines.append([
            r["name"], str(r["candidates"]), r["goal"], r["algorithm"] or "-",
            fmt(r["optimum"]), fmt(r["value"]), fmt(r["ratio"], 4, True), fmt(r["guarantee"], 3, True),
            fmt(r["upper_bound"]),
            {None: "-" if r["upper_bound"] is None or r["optimum"] is None else "?",
             True: "yes", False: "NO"}[r["bound_ok"]],
            f"{r['planner_ms']:.2f}", f"{r['solver_ms']:.1f}",
            r["status"] + flag,
        ])
    widths = [max(len(h), *(len(l[k]) for l in lines)) if lines else len(h)
              for k, h in enumerate(headers)]
    left = {0, 2, 3, 12}

    def render(cells):
        return "  ".join(c.ljust(w) if k in left else c.rjust(w)
                         for k, (c, w) in enumerate(zip(cells, widths))).rstrip()

    print(render(headers))
    print(render(["-" * w for w in widths]))
    for l in lines:
        print(render(l))
    for r in rows:
        if r["note"]:
            print(f"  note {r['name']}: {r['note']}")


def summarize(rows):
    ratios = [r["ratio"] for r in rows if r["ratio"] is not None and math.isfinite(r["ratio"])]
    planner = [r["planner_ms"] for r in rows if r["optimum"] is not None]
    solver = [r["solver_ms"] for r in rows if r["optimum"] is not None]
    total_planner, total_solver = sum(planner), sum(solver)
    by_status = {}
    for r in rows:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    return {
        "instances": len(rows),
        "compared": len(ratios),
        "status_counts": by_status,
        "not_proven": by_status.get("not proven", 0),
        "mean_ratio": sum(ratios) / len(ratios) if ratios else None,
        "min_ratio": min(ratios) if ratios else None,
        "min_ratio_instance": min((r for r in rows if r["ratio"] is not None),
                                  key=lambda r: r["ratio"])["name"] if ratios else None,
        "below_guarantee": sum(r["below_guarantee"] for r in rows),
        "bound_violations": sum(r["bound_ok"] is False for r in rows),
        "above_optimum": sum(r["above_optimum"] for r in rows),
        "planner_ms_total": total_planner,
        "planner_ms_mean": total_planner / len(planner) if planner else None,
        "solver_ms_total": total_solver,
        "solver_ms_mean": total_solver / len(solver) if solver else None,
        "speed_ratio": total_solver / total_planner if total_planner > 0 else None,
        "pulp_version": pulp.__version__,
        "cbc_version": CBC_VERSION,
    }


def print_summary(s):
    print()
    print(f"instances:                  {s['instances']} ({s['compared']} compared; "
          + ", ".join(f"{k} {v}" for k, v in sorted(s["status_counts"].items())) + ")")
    print(f"mean ratio plan/optimum:    {fmt(s['mean_ratio'], 4, True)}")
    print(f"min ratio plan/optimum:     {fmt(s['min_ratio'], 4, True)}"
          + (f" ({s['min_ratio_instance']})" if s["min_ratio_instance"] else ""))
    print(f"ratio below guarantee:      {s['below_guarantee']}")
    print(f"upper bound below optimum:  {s['bound_violations']}  (must be 0)")
    print(f"plan value above optimum:   {s['above_optimum']}  (must be 0)")
    if s["planner_ms_mean"] is not None:
        print(f"planner ms mean / total:    {s['planner_ms_mean']:.3f} / {s['planner_ms_total']:.1f}")
        print(f"solver ms mean / total:     {s['solver_ms_mean']:.1f} / {s['solver_ms_total']:.1f}")
    if s["speed_ratio"] is not None:
        print(f"speed ratio solver/planner: {s['speed_ratio']:.1f}x")
    print(f"PuLP {s['pulp_version']}, CBC {s['cbc_version'] or '?'}")
    if s["not_proven"]:
        print(f"WARNING: {s['not_proven']} instance(s) not proven optimal within the time limit; "
              "their optimum is the best plan found")


def finite(obj):
    """JSON has no infinity: an infinite ratio (a plan worth something where the optimum is 0)
    is written as the string "inf"."""
    if isinstance(obj, float) and math.isinf(obj):
        return "inf" if obj > 0 else "-inf"
    if isinstance(obj, dict):
        return {k: finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [finite(v) for v in obj]
    return obj


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instances", required=True, help="instances JSONL")
    parser.add_argument("--plans", required=True, help="planner results JSONL")
    parser.add_argument("--time-limit", type=float, default=120.0,
                        help="CBC wall-clock seconds per instance (default 120)")
    parser.add_argument("--json-out", help="write the summary (and the rows) as JSON here")
    args = parser.parse_args(argv)

    try:
        instances = load_jsonl(args.instances)
        plans = load_jsonl(args.plans)
        for inst in instances:
            check_instance(inst)
        plan_by_name = {}
        for p in plans:
            if p.get("name") in plan_by_name:
                raise InputError(f"plan {p.get('name')!r} appears twice")
            plan_by_name[p.get("name")] = p
        names = [inst["name"] for inst in instances]
        if len(set(names)) != len(names):
            raise InputError("instance names are not unique")
        missing = [n for n in names if n not in plan_by_name]
        if missing:
            raise InputError(f"no plan for instance(s): {missing[:10]}")
        extra = sorted(set(plan_by_name) - set(names), key=str)
        if extra:
            print(f"warning: plans without an instance ignored: {extra[:10]}", file=sys.stderr)
    except (InputError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    rows = []
    errors = 0
    for inst in instances:
        try:
            solved = solve_instance(inst, args.time_limit)
        except pulp.PulpSolverError as e:
            solved = {"status": "error", "optimum": None, "seconds": 0.0, "note": str(e)}
        if solved["status"] in ("error", "no solution"):
            errors += 1
        rows.append(compare(inst, plan_by_name[inst["name"]], solved))
        print(f"solved {inst['name']}: {solved['status']} in {solved['seconds']:.2f} s",
              file=sys.stderr, flush=True)

    print_table(rows)
    summary = summarize(rows)
    print_summary(summary)
    if args.json_out:
        with open(args.json_out, "w", encoding="utf-8") as f:
            json.dump(finite({"summary": summary, "rows": rows}), f, indent=2, default=str)
            f.write("\n")

    if summary["bound_violations"] or summary["below_guarantee"] or summary["above_optimum"]:
        return 1
    if errors:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
