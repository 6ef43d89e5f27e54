"""Command line: ``coverage-gap run|report|deck|demo|fetch``.

Thin by design: parse arguments, load the configuration, call the pipeline and the
writers, print a short summary. Errors of coverage_gap are printed without a traceback
and exit with status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from . import __version__
from .config import load_config
from .errors import CoverageGapError

if TYPE_CHECKING:  # the pipeline is imported lazily: `--version` stays fast
    from .pipeline import Results


def _summary(results: Results) -> str:
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
    from .pipeline import run
    from .report import OutputFolder, input_paths, write_report, write_run_outputs

    config = load_config(config_path)
    # The output folder is checked and locked before anything is computed.
    with OutputFolder(out, inputs=input_paths(config)) as folder:
        results = run(config)
        if report:
            paths = write_report(results, folder, lang=lang, progress=progress)
        else:
            paths = write_run_outputs(results, folder)
        folder.commit()
    _print_summary(results, out, paths, report=report)
    return 0


def _deck(config_path: Path, out: Path, *, lang: str | None, template: Path | None) -> int:
    from .deck import check_deck_target, load_template, write_deck
    from .pipeline import run
    from .report import input_paths

    config = load_config(config_path)
    # target and template are checked before anything is computed
    check_deck_target(out, inputs=input_paths(config))
    if template is not None:
        load_template(template)
    lang = lang or config.report.lang
    command = f"coverage-gap deck {config_path} --out {out} --lang {lang}"
    if template is not None:
        command += f" --template {template}"
    results = run(config)
    write_deck(results, out, lang=lang, template=template, command=command)
    print(_summary(results))
    print(f"  wrote {out}")
    return 0


def _demo(out: Path, *, scale: float, lang: str | None, progress: bool) -> int:
    from .datasets import write_demo_inputs
    from .pipeline import run
    from .report import OutputFolder, write_report

    with OutputFolder(out) as folder:
        # the generated inputs belong to the output set, like the results
        config = write_demo_inputs(folder.staging / "inputs", scale=scale)
        folder.adopt("inputs")
        results = run(load_config(config))
        command = f"coverage-gap demo --out {out}" + (f" --scale {scale:g}" if scale != 1 else "")
        command += f" --lang {lang or results.config.report.lang}"
        paths = write_report(
            results, folder, lang=lang, progress=progress, deck=True, deck_command=command
        )
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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``coverage-gap`` command."""
    parser = argparse.ArgumentParser(prog="coverage-gap", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"coverage_gap {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True)
    p_run = sub.add_parser("run", help="run the analysis described by a TOML file")
    p_run.add_argument("config", type=Path)
    p_run.add_argument("--out", type=Path, required=True, help="output directory")
    p_report = sub.add_parser(
        "report", help="run and write the full report (figures, workbook, fact sheets)"
    )
    p_report.add_argument("config", type=Path)
    p_report.add_argument("--out", type=Path, required=True, help="output directory")
    p_deck = sub.add_parser("deck", help="run and write a presentation deck (PowerPoint)")
    p_deck.add_argument("config", type=Path)
    p_deck.add_argument("--out", type=Path, required=True, help="the .pptx file to write")
    p_deck.add_argument(
        "--lang",
        choices=["da", "en"],
        default=None,
        help="language of the deck (default: [report] lang of the configuration, else en)",
    )
    p_deck.add_argument(
        "--template", type=Path, default=None, help="an organisation's .pptx template"
    )
    p_demo = sub.add_parser(
        "demo",
        help="generate the synthetic Region Sjælland and write its full report and deck",
    )
    p_demo.add_argument("--out", type=Path, required=True, help="output directory")
    p_fetch = sub.add_parser("fetch", help="download official public files into a cache")
    p_fetch.add_argument("sources", nargs="+", help="names (see --list) or URLs")
    p_fetch.add_argument(
        "--cache",
        type=Path,
        default=Path("data/cache"),
        help="cache directory (default data/cache)",
    )
    p_fetch.add_argument("--sha256", help="expected checksum (one source only)")
    p_fetch.add_argument("--no-progress", action="store_true")
    for p in (p_report, p_demo):
        p.add_argument(
            "--lang",
            choices=["da", "en"],
            default=None,
            help="language of figures (default: [report] lang of the configuration, else en)",
        )
        p.add_argument("--no-progress", action="store_true", help="no progress line")
    p_demo.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="fraction of the realistic number of households (default 1)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "run":
            return _run(args.config, args.out)
        if args.command == "fetch":
            from .fetch import fetch

            for name in args.sources:
                path = fetch(name, args.cache, sha256=args.sha256, progress=not args.no_progress)
                print(f"  {name}: {path}")
            return 0
        if args.command == "deck":
            return _deck(args.config, args.out, lang=args.lang, template=args.template)
        if args.command == "report":
            return _run(
                args.config, args.out, report=True, lang=args.lang, progress=not args.no_progress
            )
        return _demo(args.out, scale=args.scale, lang=args.lang, progress=not args.no_progress)
    except CoverageGapError as exc:
        print(f"coverage-gap: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
