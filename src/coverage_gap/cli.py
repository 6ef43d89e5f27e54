"""Command line of coverage_gap: run, report, deck, demo, fetch, claim and diff.

Thin by design: parse arguments, load the configuration, call the pipeline and the
writers, print a short summary. Errors of coverage_gap are printed without a traceback,
with a distinct exit status per kind (see :data:`EXIT_CODES`).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__
from .errors import ConfigError, CoverageGapError, FetchError, InputError, OutputError

if TYPE_CHECKING:  # heavy modules are imported lazily: `--version` and `--help` stay fast
    from .changes import VintageChange
    from .claims import ClaimCheck
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
    engine: str | None = None,
    scheduler: str | None = None,
) -> int:
    from .config import load_config
    from .pipeline import run
    from .report import OutputFolder, write_report, write_run_outputs
    from .vintages import report_extras

    config = _with_engine(load_config(config_path), engine, scheduler)
    if config.engine.kind == "dask":
        if report:
            raise ConfigError(
                "coverage-gap report draws every household: it runs in memory; [engine] kind = "
                '"dask" is for coverage-gap run (or set kind = "memory")'
            )
        return _run_dask(config, out)
    # The output folder is checked and locked before anything is computed.
    with OutputFolder(out, inputs=config.input_paths()) as folder:
        history = report and bool(config.vintages or config.claim)
        results = run(config, progress=progress, keep_evidence=history)
        check = change = None
        if report:
            check, change = report_extras(config, results, progress=progress)
            paths = write_report(
                results, folder, lang=lang, progress=progress, claim_check=check, change=change
            )
        else:
            paths = write_run_outputs(results, folder)
        folder.commit()
    _print_summary(results, out, paths, report=report)
    if report:
        _print_history(check, change, lang or config.report.lang)
    return 0


def _deck(
    config_path: Path, out: Path, *, lang: str | None, template: Path | None, progress: bool
) -> int:
    from .config import load_config
    from .deck import check_deck_target, load_template, write_deck
    from .pipeline import run
    from .vintages import report_extras

    config = load_config(config_path)
    # target and template are checked before anything is computed
    check_deck_target(
        out, inputs=[*config.input_paths(), *([template] if template is not None else [])]
    )
    if template is not None:
        load_template(template)
    lang = lang or config.report.lang
    command = f"coverage-gap deck {config_path} --out {out} --lang {lang}"
    if template is not None:
        command += f" --template {template}"
    history = bool(config.vintages or config.claim)
    results = run(config, progress=progress, keep_evidence=history)
    check, change = report_extras(config, results, progress=progress)
    write_deck(
        results,
        out,
        lang=lang,
        template=template,
        command=command,
        claim_check=check,
        change=change,
    )
    print(_summary(results))
    print(f"  wrote {out}")
    return EXIT_OK


def _with_engine(config: Any, engine: str | None, scheduler: str | None) -> Any:
    """Return the configuration with the command line's --engine and --scheduler applied."""
    from dataclasses import replace

    from .config import EngineConfig

    kind = engine or config.engine.kind
    if kind == "memory":
        if scheduler is not None:
            raise ConfigError("--scheduler needs the dask engine (--engine dask)")
        return config if config.engine.kind == "memory" else replace(config, engine=EngineConfig())
    settings = replace(config.engine, kind=kind)
    if scheduler is not None:
        settings = replace(settings, scheduler=scheduler)
    return replace(config, engine=settings)


def _run_dask(config: Any, out: Path) -> int:
    """``run`` on a dask cluster: the same outputs, households.parquet as a folder."""
    from .engine.dask import run_dask, write_partitioned_outputs
    from .report import OutputFolder

    with contextlib.suppress(ImportError):  # run_dask says how to install it
        import distributed  # noqa: F401  (sets its loggers to INFO on import)

        # dask logs every worker's start and stop at INFO: follow the command's loudness.
        logging.getLogger("distributed").setLevel(logging.getLogger().level)

    with OutputFolder(out, inputs=config.input_paths()) as folder:
        results = run_dask(config, households_out=folder.staging / "households.parquet")
        paths = write_partitioned_outputs(results, folder)
        folder.commit()
    _print_summary(results, out, paths, report=False)
    return 0


def _demo(out: Path, *, scale: float, lang: str | None, progress: bool) -> int:
    from .config import load_config
    from .datasets import write_demo_inputs
    from .pipeline import run
    from .report import OutputFolder, write_report
    from .vintages import report_extras

    with OutputFolder(out) as folder:
        # the generated inputs belong to the output set, like the results
        config = load_config(write_demo_inputs(folder.staging / "inputs", scale=scale))
        folder.adopt("inputs")
        results = run(config, keep_evidence=True)
        check, change = report_extras(config, results, progress=progress)
        command = f"coverage-gap demo --out {out}" + (f" --scale {scale:g}" if scale != 1 else "")
        command += f" --lang {lang or results.config.report.lang}"
        paths = write_report(
            results,
            folder,
            lang=lang,
            progress=progress,
            deck=True,
            deck_command=command,
            claim_check=check,
            change=change,
        )
        folder.commit()
    print(f"synthetic demo data written to {out / 'inputs'}")
    _print_summary(results, out, paths, report=True)
    _print_history(check, change, lang or config.report.lang)
    return 0


def _change_line(change: VintageChange) -> str:
    region = change.municipalities.loc["region"]
    unit = region["denominator"]
    return (
        f"{region['municipality_name']}, {region['old_data_year']} -> {region['new_data_year']}: "
        f"{int(region['old_underserved_households']):,} under-served {unit} - "
        f"{int(region['became_served_households']):,} became served + "
        f"{int(region['became_underserved_households']):,} became under-served + "
        f"{int(region['added_underserved_households']):,} added - "
        f"{int(region['removed_underserved_households']):,} removed = "
        f"{int(region['new_underserved_households']):,}"
    )


def _print_history(check: ClaimCheck | None, change: VintageChange | None, lang: str) -> None:
    if check is not None:
        print(f"  {check.verdict(lang)}")
    if change is not None:
        print(f"  {_change_line(change)}")


def _claim(args: argparse.Namespace, *, progress: bool) -> int:
    """``coverage-gap claim``: the claim judged under the grid, on every data year."""
    from .config import ClaimConfig, load_config
    from .report import OutputFolder, runs_manifest_bytes, write_claim_files
    from .vintages import check_runs, run_vintages

    config = load_config(args.config)
    settings = config.claim or ClaimConfig()
    if args.share is None and settings.share is None:
        print(
            "coverage-gap claim: error: give --share (e.g. 0.2) or [claim] share", file=sys.stderr
        )
        return EXIT_USAGE
    claim = settings.claim(args.share, args.tolerance)
    lang = args.lang or config.report.lang
    with OutputFolder(args.out, inputs=config.input_paths()) as folder:
        runs = run_vintages(config, progress=progress)
        check = check_runs(runs, claim, settings.grid)
        paths = write_claim_files(check, folder, lang=lang)
        extra = {"language": lang, "claim": check.to_dict(), "grid": settings.grid.to_dict()}
        paths["manifest"] = folder.write_bytes(
            "manifest.json", runs_manifest_bytes(runs, folder, extra)
        )
        folder.commit()
    print(check.verdict(lang))
    for path in paths.values():
        if path.parent == args.out.absolute():
            print(f"  wrote {path}")
    return EXIT_OK


def _diff(args: argparse.Namespace, *, progress: bool) -> int:
    """``coverage-gap diff``: the change from an older configuration's year to a newer one's."""
    from .config import load_config
    from .pipeline import run
    from .report import (
        OutputFolder,
        change_manifest,
        runs_manifest_bytes,
        write_change_files,
    )
    from .vintages import change_between

    old_config, new_config = load_config(args.old), load_config(args.new)
    lang = args.lang or new_config.report.lang
    inputs = [*old_config.input_paths(), *new_config.input_paths()]
    with OutputFolder(args.out, inputs=inputs) as folder:
        old = run(old_config.vintage_configs()[0], progress=progress, keep_evidence=True)
        new = run(new_config.vintage_configs()[0], progress=progress)
        change = change_between(old, new)
        paths = write_change_files(change, folder, lang=lang)
        extra = {"language": lang, "change": change_manifest(change)}
        paths["manifest"] = folder.write_bytes(
            "manifest.json", runs_manifest_bytes([old, new], folder, extra)
        )
        folder.commit()
    print(_change_line(change))
    for problem in change.problems:
        print(f"  warning: {problem}")
    for path in paths.values():
        if path.parent == args.out.absolute():
            print(f"  wrote {path}")
    return EXIT_OK


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
    p_deck = sub.add_parser(
        "deck", parents=[common], help="run and write a presentation deck (PowerPoint)"
    )
    p_deck.add_argument("config", type=Path, help="the run configuration (TOML)")
    p_deck.add_argument("--out", type=Path, required=True, help="the .pptx file to write")
    p_deck.add_argument(
        "--template", type=Path, default=None, help="an organisation's .pptx template"
    )
    p_run.add_argument(
        "--engine",
        choices=["memory", "dask"],
        default=None,
        help="where to run: one process (memory) or a dask cluster for partitioned inputs "
        "larger than memory (default: [engine] kind of the configuration, else memory)",
    )
    p_run.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="address of a running dask scheduler (default: a local cluster)",
    )
    p_demo = sub.add_parser(
        "demo",
        parents=[common],
        help="generate the synthetic Region Sjælland and write its full report and deck",
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
    p_claim = sub.add_parser(
        "claim",
        parents=[common],
        help="check a claimed share under every definition and data year ([claim] grid)",
    )
    p_claim.add_argument("config", type=Path, help="the run configuration (TOML)")
    p_claim.add_argument(
        "--share", type=float, default=None, help="the claimed share, e.g. 0.2 ([claim] share)"
    )
    p_claim.add_argument(
        "--tolerance",
        type=float,
        default=None,
        help="how far the share may lie from the claim (default [claim] tolerance, else 0.02)",
    )
    p_claim.add_argument("--out", type=Path, required=True, help="output directory")
    p_diff = sub.add_parser(
        "diff",
        parents=[common],
        help="the change, address by address, from an older configuration's data to a newer",
    )
    p_diff.add_argument("old", type=Path, help="configuration of the older data year (TOML)")
    p_diff.add_argument("new", type=Path, help="configuration of the newer data year (TOML)")
    p_diff.add_argument("--out", type=Path, required=True, help="output directory")
    for p in (p_claim, p_diff):
        p.add_argument("--lang", choices=["da", "en"], default=None, help="language of the figures")
        p.add_argument("--no-progress", action="store_true", help="no progress bar")
    for p in (p_report, p_deck, p_demo):
        p.add_argument(
            "--lang",
            choices=["da", "en"],
            default=None,
            help="language of figures (default: [report] lang of the configuration, else en)",
        )
    for p in (p_report, p_deck, p_demo, p_fetch):
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


def _release_arrow_memory() -> None:
    """Let Arrow hand freed memory back to the system (the command owns the process).

    Arrow's default allocator (mimalloc) keeps freed pages for reuse, which at 4 M
    addresses holds 300 MB more at the run's peak for no gain in time. The variable
    ``ARROW_DEFAULT_MEMORY_POOL``, when set, still decides.
    """
    import os

    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())


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
            _release_arrow_memory()
            return _run(
                args.config,
                args.out,
                progress=progress,
                engine=args.engine,
                scheduler=args.scheduler,
            )
        if args.command == "fetch":
            return _fetch(args, progress=progress)
        if args.command == "deck":
            return _deck(
                args.config, args.out, lang=args.lang, template=args.template, progress=progress
            )
        if args.command == "report":
            return _run(args.config, args.out, report=True, lang=args.lang, progress=progress)
        if args.command == "claim":
            return _claim(args, progress=progress)
        if args.command == "diff":
            return _diff(args, progress=progress)
        return _demo(args.out, scale=args.scale, lang=args.lang, progress=progress)
    except CoverageGapError as exc:
        print(f"coverage-gap: error: {exc}", file=sys.stderr)
        return exit_code(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
