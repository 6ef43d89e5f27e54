"""Command-line conventions: exit statuses, -v/-q anywhere, fetch --list, python -m."""

from __future__ import annotations

import subprocess
import sys

import pytest

from coverage_gap.cli import EXIT_CONFIG, EXIT_FETCH, EXIT_INPUT, EXIT_USAGE, main


def test_help_is_plain_text(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "``" not in out and "Exit status" in out


def test_usage_errors_exit_with_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["run"])
    assert info.value.code == EXIT_USAGE


def test_verbose_and_quiet_after_the_command(world_files, tmp_path, capsys):
    assert main(["run", str(world_files), "--out", str(tmp_path / "a"), "-v"]) == 0
    assert "INFO coverage_gap.pipeline: read households" in capsys.readouterr().err
    assert main(["run", str(world_files), "--out", str(tmp_path / "b"), "-q"]) == 0
    assert "WARNING" not in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run", str(world_files), "--out", str(tmp_path / "c"), "-v", "-q"])


def test_distinct_exit_statuses(world_files, tmp_path, capsys):
    assert main(["run", str(tmp_path / "nothing.toml"), "--out", str(tmp_path / "o")]) == (
        EXIT_CONFIG
    )
    (world_files.parent / "fixed.csv").write_text("address_id,down_mbps,up_mbps\n")
    assert main(["run", str(world_files), "--out", str(tmp_path / "o")]) == EXIT_INPUT


def test_fetch_list_and_unknown_names(capsys):
    assert main(["fetch", "--list"]) == 0
    out = capsys.readouterr().out
    assert "bbk2026-private" in out and "dagi-kommuner" in out
    assert main(["fetch", "bbk2025"]) == EXIT_FETCH
    err = capsys.readouterr().err
    assert "unknown source 'bbk2025'" in err and "Traceback" not in err


def test_python_m_coverage_gap_version():
    done = subprocess.run(
        [sys.executable, "-m", "coverage_gap", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.startswith("coverage_gap ")


def test_moved_names_say_where_they_went():
    import coverage_gap as cg

    with pytest.raises(AttributeError, match=r"coverage_gap\.danish\.read_bbk"):
        _ = cg.read_bbk
    assert cg.danish.read_bbk.__module__ == "coverage_gap.danish.readers"
    assert len(cg.__all__) <= 25
