#!/usr/bin/env python3
"""Writes the capacity report (docs/capacity.md) from one frame-omni-bencher run.

Reads the JSON results scripts/bench.sh keeps in target/bench (the pallet's benchmarks and
frame-benchmarking's sr25519 baseline, same run, same machine), fits each benchmark's time,
reads and writes linearly in its components as scripts/bench.sh has the benchmark CLI do for the
weights (`--output-analysis max`: per coefficient, the larger of the least-squares and the
median-slopes fit, neither below zero) and its proof size by median slopes (the CLI's default
for proofs), and prices database accesses with the dev runtime's ParityDB weights.
Every number in the report comes from these fits; nothing is typed in but the runtime's limits
below and the goals.
"""
import json
import os
import sys

# The dev runtime's limits (runtime/src/configs/mod.rs) and frame-support's ParityDbWeight.
BLOCK_REF_TIME_PS = 2_000_000_000_000  # two seconds of compute per block
NORMAL_RATIO = 0.75  # of which normal extrinsics may use
READ_PS = 8_000_000  # ParityDbWeight: 8 µs per read
WRITE_PS = 50_000_000  # 50 µs per write
MAX_COMMITTEE = 1_024
MAX_EVIDENCE = 16 * 1024
PS_PER_NS = 1_000


def solve(rows, values):
    """Least squares: values ≈ rows · x (rows include a leading 1), by the normal equations."""
    k = len(rows[0])
    a = [[sum(r[i] * r[j] for r in rows) for j in range(k)] for i in range(k)]
    b = [sum(r[i] * v for r, v in zip(rows, values)) for i in range(k)]
    # Gaussian elimination with partial pivoting.
    for c in range(k):
        p = max(range(c, k), key=lambda r: abs(a[r][c]))
        if abs(a[p][c]) < 1e-12:
            continue
        a[c], a[p], b[c], b[p] = a[p], a[c], b[p], b[c]
        for r in range(k):
            if r != c and a[r][c]:
                f = a[r][c] / a[c][c]
                a[r] = [x - f * y for x, y in zip(a[r], a[c])]
                b[r] -= f * b[c]
    return [b[i] / a[i][i] if abs(a[i][i]) > 1e-12 else 0.0 for i in range(k)]


def median_slopes(points, k):
    """The benchmark CLI's `median-slopes` analysis: for each component, the median of the
    slopes between measurements that differ only in it, then the median offset; bases and
    slopes below zero count as zero. `points` are (component values, value)."""
    models = []
    for i in range(k):
        counted = {}
        for xs, _ in points:
            key = tuple(0 if j == i else v for j, v in enumerate(xs))
            counted[key] = counted.get(key, 0) + 1
        # The CLI takes the most frequent setting of the other components (the last on ties,
        # in sorted order).
        others = max(reversed(sorted(counted)), key=lambda key: counted[key])
        values = [
            (xs[i], y)
            for xs, y in points
            if all(j == i or v == others[j] for j, v in enumerate(xs))
        ]
        slopes = sorted(
            (y1 - y2) / (x1 - x2)
            for n, (x1, y1) in enumerate(values)
            for x2, y2 in values[n + 1 :]
            if x1 != x2
        )
        slope = slopes[len(slopes) // 2] if slopes else 0.0
        offsets = sorted(y - slope * x for x, y in values)
        models.append((offsets[len(offsets) // 2], slope, others))
    base = models[0][0] - sum(
        models[j][1] * v for j, v in enumerate(models[0][2]) if j != 0
    ) if k else 0.0
    return [max(base, 0.0)] + [max(m[1], 0.0) for m in models]


def fit(points, k, analysis):
    """Base and slopes of `points` by the CLI's analysis `max` or `median-slopes`."""
    if k == 0:
        # Both analyses take the median measurement of a benchmark without components.
        values = sorted(y for _, y in points)
        return [values[len(values) // 2]]
    medians = median_slopes(points, k)
    if analysis == "median-slopes":
        return medians
    # Least squares after dropping each setting's lowest and highest quarter (`min-squares`).
    by_setting = {}
    for xs, y in points:
        by_setting.setdefault(tuple(xs), []).append(y)
    rows, values = [], []
    for xs, ys in sorted(by_setting.items()):
        ys.sort()
        q = len(ys) // 4
        for y in ys[q : len(ys) - q]:
            rows.append([1] + list(xs))
            values.append(y)
    squares = solve(rows, values)
    if squares[0] < -0.0001:
        # As the CLI: a negative intercept becomes the smallest measurement, and the slopes are
        # fitted to what lies above it, through the origin.
        low = min(values)
        squares = [low] + solve([r[1:] for r in rows], [v - low for v in values])
    squares = [max(x, 0.0) for x in squares]
    return [max(a, b) for a, b in zip(medians, squares)]


class Fit:
    """One benchmark: base and per-component slopes of time (ns), reads, writes, proof bytes."""

    def __init__(self, result):
        self.name = result["benchmark"]
        time = result["time_results"]
        db = result["db_results"]
        self.components = [c for c, _ in time[0]["components"]] if time else []
        self.fits = {}
        k = len(self.components)
        for metric, source in [("time", time), ("reads", db), ("writes", db), ("proof", db)]:
            key = {"time": "extrinsic_time", "proof": "proof_size"}.get(metric, metric)
            points = [([v for _, v in r["components"]], r[key]) for r in source]
            analysis = "median-slopes" if metric == "proof" else "max"
            self.fits[metric] = fit(points, k, analysis) if points else [0.0] * (k + 1)
        # The generated weights' base is at least the fastest measurement.
        if time:
            self.fits["time"][0] = max(self.fits["time"][0], min(r["extrinsic_time"] for r in time))
        self.range = {
            c: (min(r["components"][i][1] for r in time), max(r["components"][i][1] for r in time))
            for i, c in enumerate(self.components)
        }

    def at(self, metric, **values):
        x = self.fits[metric]
        total = x[0]
        for i, c in enumerate(self.components):
            total += x[i + 1] * values.get(c, self.range[c][1])
        return max(total, 0.0)

    def slope(self, metric, component):
        return self.fits[metric][1 + self.components.index(component)]

    def weight_ps(self, **values):
        """Ref-time as the generated weights charge it: compute plus priced reads and writes."""
        return (
            self.at("time", **values) * PS_PER_NS
            + self.at("reads", **values) * READ_PS
            + self.at("writes", **values) * WRITE_PS
        )

    def weight_slope_ps(self, component):
        return (
            self.slope("time", component) * PS_PER_NS
            + self.slope("reads", component) * READ_PS
            + self.slope("writes", component) * WRITE_PS
        )


def load(path):
    with open(path) as f:
        return {r["benchmark"]: Fit(r) for r in json.load(f)}


def ms(ps):
    return f"{ps / 1e9:,.2f} ms"


def us(ps):
    return f"{ps / 1e6:,.1f} µs"


def ratios(pallet, verify_ps, block):
    """The report's measures against their goals, and what the per-block table needs."""
    cert = pallet["submit_certificate"]
    equivocations = pallet["certificate_equivocations"]

    def decision(n):
        return max(pallet["submit_statement"].weight_ps(n=n), pallet["submit_decision"].weight_ps(n=n))

    def certificate(s, q, decided=True):
        """As the pallet charges it: signers, proven equivocations, the decision's gathering."""
        return (cert.weight_ps(s=s) + equivocations.weight_slope_ps("q") * q
                + (decision(s) if decided else 0))
    per_signer_compute = cert.slope("time", "s") * PS_PER_NS
    per_signer_weight = cert.weight_slope_ps("s")
    auth = pallet["authorize_statement"]
    vote = pallet["submit_vote"]
    statement_compute = (auth.at("time", e=0) + vote.at("time")) * PS_PER_NS
    statement_weight = auth.weight_ps(e=0) + vote.weight_ps()
    draw = pallet["draw_committee"]
    opening = pallet["commit_round"].weight_ps() + draw.weight_ps(n=1000)
    settle = pallet["close_round"].weight_ps(n=1000)
    prune = pallet["prune_round"].weight_ps(n=1000)
    rows = [
        ("per-signer cost of a certificate ÷ one sr25519 verification, compute",
         per_signer_compute / verify_ps, "≤ 1.1"),
        ("per-signer cost of a certificate ÷ one sr25519 verification, weight (with its seat "
         "read, statement and tally writes)", per_signer_weight / verify_ps, "≤ 1.1"),
        ("one fee-less statement (authorise + dispatch of a vote) ÷ one verification, compute",
         statement_compute / verify_ps, "≤ 1.5"),
        ("one fee-less statement (authorise + dispatch of a vote) ÷ one verification, weight",
         statement_weight / verify_ps, "≤ 1.5"),
        ("drawing a 1,000-slot committee (MaxAgents 100,000), share of a block",
         draw.weight_ps(n=1000) / block, "≤ 5 %"),
        ("opening a 1,000-slot round (commit + draw), share of a block", opening / block, "≤ 5 %"),
        ("settling (closing) a 1,000-slot round, every seat banned, share of a block",
         settle / block, "≤ 5 %"),
        ("pruning a 1,000-slot round (closing it first), share of a block", prune / block,
         "≤ 5 %"),
    ]
    return rows, certificate, statement_weight


def load_run(results):
    """One run's benchmarks, its sr25519 verification time (ps) and its description."""
    pallet = load(os.path.join(results, "pallet.json"))
    # The registry's benchmarks (pallet_pickets), with the machines' (runs from before the
    # split have them all in pallet.json).
    pickets = os.path.join(results, "pickets.json")
    if os.path.exists(pickets):
        pallet.update(load(pickets))
    baseline = load(os.path.join(results, "baseline.json"))
    with open(os.path.join(results, "run.txt")) as f:
        run = [line.rstrip() for line in f]
    return pallet, baseline["sr25519_verification"].slope("time", "i") * PS_PER_NS, run


def shown(value, goal):
    if goal.endswith("%"):
        return f"{value * 100:.2f} %", value * 100 <= float(goal.split()[1])
    return f"{value:.2f}", value <= float(goal.split()[1])


def main():
    results = sys.argv[1]
    pallet, verify_ps, run = load_run(results)
    previous = os.path.join(results, "previous")
    before = load_run(previous) if os.path.exists(os.path.join(previous, "pallet.json")) else None
    block = BLOCK_REF_TIME_PS
    normal = block * NORMAL_RATIO
    out = []
    w = out.append
    w("# Capacity report")
    w("")
    w("Generated by `scripts/bench.sh` from one run of `frame-omni-bencher v1 benchmark pallet`")
    w("over the dev runtime's wasm (built with `runtime-benchmarks`), on one machine: the")
    w("pallet's benchmarks and frame-benchmarking's own `sr25519_verification` baseline in the")
    w("same run. Times are the fits the generated weights use (per coefficient the larger of")
    w("the least-squares and median-slopes fits); a call's *weight* adds its")
    w(f"database reads ({READ_PS // 1_000_000} µs) and writes ({WRITE_PS // 1_000_000} µs) at the")
    w("dev runtime's ParityDB weights, as the generated `weights.rs` charges them.")
    w("")
    for line in run:
        w(f"- {line}")
    w(f"- block: {ms(block)} of ref-time, {ms(normal)} for normal extrinsics; "
      f"committees up to {MAX_COMMITTEE} slots, evidence up to {MAX_EVIDENCE} bytes")
    w(f"- one sr25519 verification (baseline slope): **{us(verify_ps)}**")
    w("")

    rows, certificate, statement_weight = ratios(pallet, verify_ps, block)
    cert = pallet["submit_certificate"]
    equivocations = pallet["certificate_equivocations"]
    auth = pallet["authorize_statement"]
    vote = pallet["submit_vote"]
    w("## Ratios and their goals")
    w("")
    w("| measure | measured | goal | met |")
    w("|---|---:|---|---|")
    for what, value, goal in rows:
        text, met = shown(value, goal)
        w(f"| {what} | {text} | {goal} | {'yes' if met else 'no'} |")
    w("")

    if before:
        old_pallet, old_verify_ps, old_run = before
        old_rows, _, _ = ratios(old_pallet, old_verify_ps, block)
        w("## Before and after")
        w("")
        w("Against the previous run (kept by `scripts/bench.sh` in `target/bench/previous`; same")
        w("analysis): " + "; ".join(old_run) + ".")
        w("")
        w("| measure | before | after |")
        w("|---|---:|---:|")
        for (what, old, goal), (_, new, _) in zip(old_rows, rows):
            w(f"| {what} | {shown(old, goal)[0]} | {shown(new, goal)[0]} |")
        w(f"| one sr25519 verification (the baseline; the same code both times) | "
          f"{us(old_verify_ps)} | {us(verify_ps)} |")
        old_cert = old_pallet["submit_certificate"]
        w(f"| a certificate's time per signer | {us(old_cert.slope('time', 's') * PS_PER_NS)} | "
          f"{us(cert.slope('time', 's') * PS_PER_NS)} |")
        for name in sorted(set(pallet) & set(old_pallet)):
            old_w, new_w = old_pallet[name].weight_ps(), pallet[name].weight_ps()
            if abs(new_w - old_w) > 0.1 * max(old_w, new_w):
                w(f"| `{name}` weight at its largest components | {ms(old_w)} | {ms(new_w)} |")
        w("")

    # Why the goals that are missed are missed, from the same fits.
    close = pallet["close_round"]
    w("## Where the missed goals go")
    w("")
    w(f"- **A certificate's signer** costs {us(cert.slope('time', 's') * PS_PER_NS)} of compute, "
      f"{us(cert.slope('time', 's') * PS_PER_NS - verify_ps)} more than its verification, and "
      f"{cert.slope('reads', 's'):.1f} reads and {cert.slope('writes', 's'):.1f} writes: the "
      "seat (its key and slots), the agent (a suspended agent may not sign) and the seat's "
      "earlier statement (a duplicate or an equivocation), and the signer's statement (in "
      "the benchmark every seat signs: those past the deciding one are verified, not "
      "recorded). Each "
      "first read of a key walks the state trie; the machine, the family, its rules and the "
      "tally are read once per certificate. Below ~1.1 would need the seats, agents and "
      "statements of a certificate in a few storage values instead of one per seat.")
    w(f"- **A fee-less vote** is {us(auth.at('time', e=0) * PS_PER_NS)} to authorise and "
      f"{us(vote.at('time') * PS_PER_NS)} to dispatch ({auth.at('reads', e=0):.0f} and "
      f"{vote.at('reads'):.0f} reads): the round, the seat, the agent and the seat's earlier "
      "statement are read in both (the pool's check is repeated in the block, where the state "
      "may have changed), the machine and the tally in the dispatch, and two events written. "
      "One verification is the smallest part of it.")
    w(f"- **Closing a round that bans every seat** costs {close.slope('reads', 'n'):.0f} reads "
      f"and {close.slope('writes', 'n'):.0f} writes per banned seat (its misses, the agent, "
      "the offence and its penalty, the exit queue): the worst case is every seat of a "
      "1,000-slot round silent at once. Pruning adds the removal of every seat and statement.")
    w("")

    # What fits in one block.
    w("## What fits in one block (normal class)")
    w("")
    w("| call | weight | per block | proof size (PoV) |")
    w("|---|---:|---:|---:|")
    fits = [
        ("a fee-less vote (authorise + dispatch)", statement_weight,
         auth.at("proof", e=0) + vote.at("proof")),
        ("a 100-slot decision (certificate, 100 signers)", certificate(100, 0),
         cert.at("proof", s=100)),
        ("a 1,000-slot decision (certificate, 1,000 signers)", certificate(1000, 0),
         cert.at("proof", s=1000)),
        ("the deciding statement of a 1,000-slot round", pallet["submit_statement"].weight_ps(n=1000),
         pallet["submit_statement"].at("proof", n=1000)),
        ("a red overturning 1,000 greens (16 KiB evidence)",
         pallet["submit_red"].weight_ps(n=1000, e=MAX_EVIDENCE),
         pallet["submit_red"].at("proof", n=1000, e=MAX_EVIDENCE)),
        ("the largest certificate (1,024 signers, all proven equivocating)",
         certificate(MAX_COMMITTEE, MAX_COMMITTEE),
         equivocations.at("proof", q=MAX_COMMITTEE)),
    ]
    for what, weight, proof in fits:
        w(f"| {what} | {ms(weight)} | {int(normal // weight) if weight else '—'} | "
          f"{proof / 1024:,.1f} KiB |")
    w("")

    exact = pallet["exact_rule"]
    w("## Exact thresholds")
    w("")
    w(f"The exact decision rule (safe, strong and complete thresholds) of a committee of")
    w(f"N = 10,000 slots takes **{ms(exact.at('time', n=10_000) * PS_PER_NS)}** in the runtime")
    w("(the `exact_rule` benchmark's fit at the top of its range, N up to 10,000). Machines")
    w("pay it once, at creation.")
    w("")

    w("## Every benchmark")
    w("")
    w("Base and slope per unit of each component; the weight and the proof size (measured, median")
    w("slopes) are at the components' largest benchmarked values.")
    w("")
    w("| benchmark | components | base time | slopes (time) | reads | writes | weight at max | proof size (PoV) at max |")
    w("|---|---|---:|---|---:|---:|---:|---:|")
    for name in sorted(pallet):
        f = pallet[name]
        comps = ", ".join(f"{c} ∈ [{lo}, {hi}]" for c, (lo, hi) in f.range.items()) or "—"
        slopes = ", ".join(f"{c}: {us(f.slope('time', c) * PS_PER_NS)}" for c in f.components) or "—"
        w(f"| `{name}` | {comps} | {us(f.fits['time'][0] * PS_PER_NS)} | {slopes} | "
          f"{f.at('reads'):,.0f} | {f.at('writes'):,.0f} | {ms(f.weight_ps())} | "
          f"{f.at('proof') / 1024:,.1f} KiB |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
