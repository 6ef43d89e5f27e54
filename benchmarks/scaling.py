"""How the cost of ``coverage-gap run`` grows with the addresses and the operator rasters.

    python benchmarks/scaling.py [--repeat 3] [--dir DIR]

Times ``coverage-gap run`` as a user runs it (whole process: interpreter start, imports,
reading, all outputs written), measured from outside with ``/usr/bin/time``:

- for 100 k, 400 k, 1 M and 4 M addresses with four operator rasters;
- for 1, 2, 4 and 8 operator rasters at 400 k addresses (rasters 5-8 are generated on
  first use, 3 MB each, without touching the first four; see
  ``generate.operator_rasters``).

Each point is run ``--repeat`` times, interleaved (a slow spell of a shared machine
hits every point alike); the table gives the median wall time, the median CPU time
(user + system of the process, steadier than wall time when other work shares the
cores) and the largest peak RSS. Written to ``docs/scaling.csv`` and drawn on log-log
axes in ``docs/scaling.png``.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import DEFAULT_DIR, generate, operator_rasters  # noqa: E402
from run import write_config  # noqa: E402

DOCS = HERE.parent / "docs"
SIZES = (100_000, 400_000, 1_000_000, 4_000_000)
OPERATORS = (1, 2, 4, 8)
OPERATORS_AT = 400_000
FIELDS = ("series", "addresses", "operators", "wall_s", "cpu_s", "peak_rss_mb", "runs", "load")


def config_with(data: Path, operators: int) -> Path:
    """Write the benchmark's configuration with the first ``operators`` rasters."""
    text = write_config(data).read_text(encoding="utf-8")
    head, _, tail = text.partition("[[mobile]]")
    standard = tail[tail.index("[standard]") :]
    mobile = "".join(
        f'[[mobile]]\npath = "{path.name}"\n' for path in operator_rasters(data, operators)
    )
    path = data / f"benchmark_{operators}op.toml"
    path.write_text(head + mobile + standard, encoding="utf-8")
    return path


def run_once(config: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + sys) and peak RSS (MB) of one whole run."""
    with tempfile.TemporaryDirectory() as out, tempfile.NamedTemporaryFile("r") as stats:
        command = [sys.executable, "-m", "coverage_gap", "run", "-q", str(config), "--out", out]
        proc = subprocess.run(
            ["/usr/bin/time", "-o", stats.name, "-f", "%e %U %S %M", *command],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout + proc.stderr)
            raise SystemExit(f"coverage-gap run {config} failed ({proc.returncode})")
        wall, user, system, kb = Path(stats.name).read_text().split()[-4:]
    return float(wall), float(user) + float(system), int(kb) / 1024


def measure(points: list[tuple[str, int, int, Path]], repeat: int) -> list[dict]:
    """Run every point ``repeat`` times, interleaved; median wall and CPU, largest RSS.

    A configuration in both series (400 k, four rasters) is run once per round.
    """
    configs = list(dict.fromkeys((n, k, config) for _, n, k, config in points))
    runs: dict[tuple, list[tuple[float, float, float]]] = {c: [] for c in configs}
    loads: list[float] = []
    for r in range(repeat):
        for n, k, config in configs:
            loads.append(os.getloadavg()[0])
            wall, cpu, rss = run_once(config)
            runs[n, k, config].append((wall, cpu, rss))
            print(
                f"  round {r + 1}: n={n:>9,} rasters={k}: {wall:6.2f} s wall, "
                f"{cpu:6.2f} s CPU, {rss:6.0f} MB",
                flush=True,
            )
    load = f"{min(loads):.1f}-{max(loads):.1f}"
    rows = []
    for series, n, k, config in points:
        walls, cpus, rsss = zip(*runs[n, k, config], strict=True)
        rows.append(
            {
                "series": series,
                "addresses": n,
                "operators": k,
                "wall_s": round(statistics.median(walls), 2),
                "cpu_s": round(statistics.median(cpus), 2),
                "peak_rss_mb": round(max(rsss)),
                "runs": len(walls),
                "load": load,
            }
        )
    return rows


def plot(rows: list[dict], path: Path) -> Path:
    """Log-log plot: time and peak memory against addresses and against rasters."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), constrained_layout=True)
    for ax, series, key, label in (
        (axes[0], "addresses", "addresses", "addresses (4 operator rasters)"),
        (axes[1], "operators", "operators", f"operator rasters ({OPERATORS_AT:,} addresses)"),
    ):
        part = sorted((r for r in rows if r["series"] == series), key=lambda r: r[key])
        xs = [r[key] for r in part]
        ax.plot(xs, [r["wall_s"] for r in part], "o-", color="C0", label="wall time (median)")
        ax.plot(xs, [r["cpu_s"] for r in part], "s--", color="C1", label="CPU time (median)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("seconds, whole process")
        ax.set_ylim(0.5, 200)
        ticks = [0.5, 1, 2, 5, 10, 20, 50, 100, 200]
        ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
        ax.set_xticks(xs, [f"{x:,}" if x < 1000 else f"{x / 1e6:g} M" for x in xs])
        ax.minorticks_off()
        ax.grid(True, which="major", color="0.92")
        mem = ax.twinx()
        mem.plot(xs, [r["peak_rss_mb"] / 1024 for r in part], "^:", color="C2", label="peak RSS")
        # One fixed memory scale on both panels: a few MB of noise must not look steep.
        mem.set_yscale("log")
        mem.set_ylim(0.25, 4)
        mem.set_yticks([0.25, 0.5, 1, 1.5, 2, 4], ["0.25", "0.5", "1", "1.5", "2", "4"])
        mem.minorticks_off()
        mem.set_ylabel("peak RSS, GiB", color="C2")
        mem.tick_params(axis="y", colors="C2")
        if series == "addresses":
            # Proportional growth for reference, through the largest point.
            top = part[-1]
            ax.plot(
                xs,
                [top["cpu_s"] * x / top[key] for x in xs],
                color="0.6",
                lw=0.8,
                label="∝ addresses (through 4 M)",
            )
        lines = ax.get_legend_handles_labels()
        more = mem.get_legend_handles_labels()
        ax.legend(lines[0] + more[0], lines[1] + more[1], loc="lower right", fontsize=8)
    load, runs = rows[0]["load"], rows[0]["runs"]
    fig.suptitle(
        "coverage-gap run, files to all outputs (2 cores, shared: 1-min load "
        f"{load}; {'one run' if runs == 1 else f'medians of {runs} runs'} per point)",
        fontsize=10,
    )
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--operators", type=int, nargs="+", default=list(OPERATORS))
    parser.add_argument("--csv", type=Path, default=DOCS / "scaling.csv")
    parser.add_argument("--png", type=Path, default=DOCS / "scaling.png")
    args = parser.parse_args()

    t0 = time.perf_counter()
    points = []
    for n in args.sizes:
        data = generate(n, seed=args.seed, directory=args.dir)
        points.append(("addresses", n, 4, config_with(data, 4)))
    data = generate(OPERATORS_AT, seed=args.seed, directory=args.dir)
    for k in args.operators:
        points.append(("operators", OPERATORS_AT, k, config_with(data, k)))
    print(f"inputs ready in {time.perf_counter() - t0:.0f} s", flush=True)
    rows = measure(points, args.repeat)
    with args.csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    print("\n| series | addresses | rasters | wall s | CPU s | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['series']} | {r['addresses']:,} | {r['operators']} | {r['wall_s']:.2f} "
            f"| {r['cpu_s']:.2f} | {r['peak_rss_mb']} |"
        )
    print(f"wrote {args.csv} and {plot(rows, args.png)}")


if __name__ == "__main__":
    main()
