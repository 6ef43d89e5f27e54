"""Benchmark: the claim check and the year-over-year change on the demo at full scale.

    python benchmarks/claims.py [--scale 1.0] [--rounds 3]

Writes the synthetic Region Sjælland (about 405,000 households at scale 1) with its 2025
vintage into a temporary folder, runs both data years once (reading, joining, sampling:
``run(config, keep_evidence=True)``), then times, as best of ``--rounds``:

- ``check_claim`` on the default grid (5 fixed thresholds x 2 rules x 2 missing-upload
  rules, 1000/any once, x 2 denominators x 2 data years = 72 specifications), which only
  classifies and counts the gathered evidence;
- one specification by itself (``classify`` + ``summarize_gap``, on the evidence);
- ``compare_vintages`` (the id join of both years and the per-municipality table);
- for comparison, one full run of a data year (what a check would cost per specification
  if it re-read and re-joined).

The last line is machine-readable::

    households=<n> specifications=<k> claim_s=<t> per_spec_s=<t> change_s=<t> run_s=<t>
"""

from __future__ import annotations

import argparse
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    import coverage_gap as cg
    from coverage_gap.config import load_config
    from coverage_gap.datasets import write_demo_inputs
    from coverage_gap.pipeline import run
    from coverage_gap.vintages import as_vintage, change_between, run_vintages

    folder = tempfile.mkdtemp(prefix="claims_bench_")
    start = time.perf_counter()
    config = load_config(write_demo_inputs(folder, scale=args.scale))
    print(f"demo inputs written in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    runs = run_vintages(config)
    run_both = time.perf_counter() - start
    households = int(runs[0].municipalities.loc["region", "households"])
    print(f"both data years run (read, join, sample): {run_both:.1f} s, {households:,} households")
    vintages = [as_vintage(r) for r in runs]
    claim = config.claim.claim()

    def best(call):
        times = []
        for _ in range(args.rounds):
            t0 = time.perf_counter()
            value = call()
            times.append(time.perf_counter() - t0)
        return min(times), value

    claim_s, check = best(lambda: cg.claims.check_claim(vintages, claim, grid=config.claim.grid))
    standard = runs[0].provenance.standard
    evidence = runs[0].evidence
    per_spec_s, _ = best(
        lambda: cg.summarize_gap(
            cg.classify(evidence, standard), runs[0].boundaries, runs[0].provenance
        )
    )
    change_s, _ = best(lambda: change_between(runs[1], runs[0]))
    run_s, _ = best(lambda: run(config.vintage_configs()[0]))
    print(check.verdict())
    print(
        f"claim check, {check.total} specifications: {claim_s:.2f} s "
        f"({claim_s / check.total * 1000:.0f} ms each); one specification alone "
        f"{per_spec_s:.3f} s; change 2025 -> 2026 {change_s:.2f} s; one full run {run_s:.2f} s "
        f"(x {check.total} = {run_s * check.total:.0f} s if every specification re-read)"
    )
    print(
        f"households={households} specifications={check.total} claim_s={claim_s:.3f} "
        f"per_spec_s={per_spec_s:.3f} change_s={change_s:.3f} run_s={run_s:.3f}"
    )


if __name__ == "__main__":
    main()
