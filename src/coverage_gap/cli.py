"""Command line of coverage_gap: run, report, demo and fetch.

Thin by design: parse arguments, load the configuration, call the pipeline and the
writers, print a short summary. Errors of coverage_gap are printed without a traceback,
with a distinct exit status per kind (see :data:`EXIT_CODES`).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .errors import ConfigError, CoverageGapError, FetchError, InputError, OutputError

if TYPE_CHECKING:  # heavy modules are imported lazily: `--version` and `--help` stay fast
    from .pipeline import Results

#: Exit statuses: 0 done; 2 the command line was wrong (argparse); 3 the configuration;
#: 4 an input file; 5 an output could not be written; 6 a download failed; 1 anything
#: else (a bug: please report it with the traceback).
EXIT_OK, EXIT_USAGE, EXIT_CONFIG, EXIT_INPUT, EXIT_OUTPUT, EXIT_FETCH, EXIT_OTHER = (
    0,
    2,
    3,
    4,
    5,
    6,
    1,
)
EXIT_CODES: dict[type[CoverageGapError], int] = {
    ConfigError: EXIT_CONFIG,
    InputError: EXIT_INPUT,
    OutputError: EXIT_OUTPUT,
    FetchError: EXIT_FETCH,
}


def exit_code(error: CoverageGapError) -> int:
    """Exit status for an error of coverage_gap (see :data:`EXIT_CODES`).

    Examples
    --------
    >>> exit_code(ConfigError("x")), exit_code(InputError("y"))
    (3, 4)
    """
    for kind, code in EXIT_CODES.items():
        if isinstance(error, kind):
            return code
    return EXIT_OTHER


def _summary(results: Results) -> str:
    import pandas as pd

    region = results.municipalities.loc["region"]
    rec = results.reconciliation
    unit = results.provenance.denominator
    lines = [
        f"{region['municipality_name']}: {int(region['underserved_households']):,} of "
        f"{int(region['households']):,} {unit} under-served "
        f"({region['underserved_share']:.1%}, 95 % CI {region['share_ci_low']:.1%}–"
        f"{region['share_ci_high']:.1%})",
    ]
    with_data, total = results.coverage
    if with_data < total:
        lines.append(
            f"  PARTIAL: only {with_data} of {total} municipalities have {unit} in the data; "
            "the figure covers only those"
        )
    lines.append(f"  {results.provenance.footer()}")
    for what, match in results.offer_matches:
        lines.append(f"  {what} offers, {match.describe()}")
    decides = region["missing_upload_households"]
    if not pd.isna(decides) and decides > 0:
        other = (
            "download_only"
            if results.provenance.standard.missing_upload == "unserved"
            else "unserved"
        )
        lines.append(
            f"  {int(decides):,} {unit} would change status with missing_upload = "
            f'"{other}" (offers without an upload figure)'
        )
    lines.append(
        f"  read {int(rec.loc['total', 'addresses']):,} addresses: "
        f"{int(rec.loc['inside', 'addresses']):,} inside, {int(rec.loc['nearest', 'addresses']):,} "
        f"nearest within tolerance, {int(rec.loc['outside_selection', 'addresses']):,} outside "
        f"the selected municipalities, {int(rec.loc['unassigned', 'addresses']):,} unassigned, "
        f"{int(rec.loc['invalid', 'addresses']):,} invalid"
    )
    return "\n".join(lines)


def _run(
    config_path: Path,
    out: Path,
    *,
    report: bool = False,
    lang: str | None = None,
    progress: bool = True,
) -> int:
    from .config import load_config
    from .pipeline import run
    from .report import OutputFolder, write_report, write_run_outputs

    config = load_config(config_path)
    # The output folder is checked and locked before anything is computed.
    with OutputFolder(out, inputs=config.input_paths()) as folder:
        results = run(config, progress=progress)
        if report:
            paths = write_report(results, folder, lang=lang, progress=progress)
        else:
            paths = write_run_outputs(results, folder)
        folder.commit()
    _print_summary(results, out, paths, report=report)
    return 0


def _demo(out: Path, *, scale: float, lang: str | None, progress: bool) -> int:
    from .config import load_config
    from .datasets import write_demo_inputs
    from .pipeline import run
    from .report import OutputFolder, write_report

    with OutputFolder(out) as folder:
        # the generated inputs belong to the output set, like the results
        config = write_demo_inputs(folder.staging / "inputs", scale=scale)
        folder.adopt("inputs")
        results = run(load_config(config))
        paths = write_report(results, folder, lang=lang, progress=progress)
        folder.commit()
    print(f"synthetic demo data written to {out / 'inputs'}")
    _print_summary(results, out, paths, report=True)
    return 0


def _print_summary(results: Results, out: Path, paths: dict[str, Path], *, report: bool) -> None:
    print(_summary(results))
    for path in paths.values():
        if path.parent == out.absolute():
            print(f"  wrote {path}")
    if report:
        print(f"  wrote {out / 'figures'}/ and {out / 'fact_sheets'}/")


def _scale(text: str) -> float:
    """Parse --scale: a positive, finite fraction of the realistic number of households."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (value > 0 and value <= 10):
        raise argparse.ArgumentTypeError(f"give a fraction above 0 and at most 10, not {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    loudness = common.add_mutually_exclusive_group()
    loudness.add_argument(
        "-v", "--verbose", action="store_true", default=None, help="log each stage"
    )
    loudness.add_argument(
        "-q", "--quiet", action="store_true", default=None, help="only errors, no progress"
    )
    parser = argparse.ArgumentParser(
        prog="coverage-gap",
        description="Coverage-gap analysis: who is under-served by fixed broadband and "
        "mobile, per municipality, under an explicit service standard.",
        epilog="Exit status: 0 done, 2 wrong command line, 3 configuration error, 4 input "
        "error, 5 output error, 6 download error, 1 unexpected (a bug).",
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"coverage_gap {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p_run = sub.add_parser(
        "run", parents=[common], help="run the analysis described by a TOML file"
    )
    p_report = sub.add_parser(
        "report",
        parents=[common],
        help="run and write the full report (figures, workbook, fact sheets)",
    )
    for p in (p_run, p_report):
        p.add_argument("config", type=Path, help="the run configuration (TOML)")
        p.add_argument("--out", type=Path, required=True, help="output directory")
    p_demo = sub.add_parser(
        "demo",
        parents=[common],
        help="generate the synthetic Region Sjælland and write its full report",
    )
    p_demo.add_argument("--out", type=Path, required=True, help="output directory")
    p_demo.add_argument(
        "--scale",
        type=_scale,
        default=1.0,
        help="fraction of the realistic number of households (default 1)",
    )
    p_fetch = sub.add_parser(
        "fetch", parents=[common], help="download official public files into a cache"
    )
    p_fetch.add_argument("sources", nargs="*", help="names (see --list) or http(s) addresses")
    p_fetch.add_argument("--list", action="store_true", help="list the known sources")
    p_fetch.add_argument(
        "--cache",
        type=Path,
        default=Path("data/cache"),
        help="cache directory (default data/cache)",
    )
    p_fetch.add_argument("--sha256", help="expected checksum (one source only)")
    for p in (p_report, p_demo):
        p.add_argument(
            "--lang",
            choices=["da", "en"],
            default=None,
            help="language of figures (default: [report] lang of the configuration, else en)",
        )
    for p in (p_report, p_demo, p_fetch):
        p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _fetch(args: argparse.Namespace, *, progress: bool) -> int:
    from .fetch import SOURCES, fetch

    if args.list:
        for name, source in SOURCES.items():
            print(f"{name}\n  {source.description}\n  {source.url}")
        return EXIT_OK
    if not args.sources:
        raise FetchError("name at least one source (coverage-gap fetch --list shows them)")
    if args.sha256 and len(args.sources) > 1:
        raise FetchError("--sha256 checks one source: give only one")
    for name in args.sources:
        path = fetch(name, args.cache, sha256=args.sha256, progress=progress)
        print(f"  {name}: {path}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``coverage-gap`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR if args.quiet else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        force=True,  # the command owns the process's logging
    )
    # A progress bar only where someone watches it (stderr a terminal) and not asked off.
    progress = not (getattr(args, "no_progress", False) or args.quiet)
    try:
        if args.command == "run":
            return _run(args.config, args.out, progress=progress)
        if args.command == "fetch":
            return _fetch(args, progress=progress)
        if args.command == "report":
            return _run(args.config, args.out, report=True, lang=args.lang, progress=progress)
        return _demo(args.out, scale=args.scale, lang=args.lang, progress=progress)
    except CoverageGapError as exc:
        print(f"coverage-gap: error: {exc}", file=sys.stderr)
        return exit_code(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
