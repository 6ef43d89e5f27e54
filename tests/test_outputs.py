"""The output folder as one unit: checked before computing, written as a whole, locked,
never over an input, OS errors as clear messages, byte-identical reruns."""

from __future__ import annotations

import errno
import hashlib
import json
import os

import pytest

from coverage_gap import report
from coverage_gap.cli import main
from coverage_gap.report import OutputError, OutputFolder, check_output_dir

DEMAND = """
[demand]
base_year = 2026
horizon = 2028
gb_per_unit_month = 10
"""


def _files(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def _no_run(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the pipeline ran before the output folder was checked")

    monkeypatch.setattr("coverage_gap.pipeline.run", refuse)


def test_out_that_is_a_file_fails_before_computing(world_files, tmp_path, capsys, monkeypatch):
    _no_run(monkeypatch)
    target = tmp_path / "result.txt"
    target.write_text("not a folder")
    assert main(["run", str(world_files), "--out", str(target)]) == 5
    err = capsys.readouterr().err
    assert "result.txt is an existing file" in err and "Traceback" not in err
    assert main(["run", str(world_files), "--out", str(target / "sub")]) == 5
    assert "is a file, not a folder" in capsys.readouterr().err


def test_out_holding_the_inputs_is_refused_naming_the_file(world_files, capsys, monkeypatch):
    _no_run(monkeypatch)
    before = _files(world_files.parent)
    assert main(["run", str(world_files), "--out", str(world_files.parent)]) == 5
    err = capsys.readouterr().err
    assert "households.csv" in err or "municipalities.gpkg" in err
    assert "which this run reads" in err
    assert _files(world_files.parent) == before


def test_a_folder_with_other_files_is_not_replaced(world_files, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my notes")
    assert main(["run", str(world_files), "--out", str(out)]) == 5
    assert "notes.txt" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "my notes"


def test_rerun_replaces_the_whole_set(world_files, tmp_path):
    out = tmp_path / "out"
    text = world_files.read_text()
    world_files.write_text(text + DEMAND)
    assert main(["run", str(world_files), "--out", str(out)]) == 0
    assert (out / "demand.csv").exists()
    world_files.write_text(text)
    assert main(["run", str(world_files), "--out", str(out)]) == 0
    assert not (out / "demand.csv").exists() and not (out / "demand_da.csv").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    files = _files(out)
    assert set(manifest["outputs"]) == set(files) - {"manifest.json"}
    for name, digest in manifest["outputs"].items():
        assert hashlib.sha256(files[name]).hexdigest() == digest
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".out.")]


def test_a_second_writer_is_refused(world_files, tmp_path, capsys):
    out = tmp_path / "out"
    with OutputFolder(out):
        assert main(["run", str(world_files), "--out", str(out)]) == 5
        err = capsys.readouterr().err
        assert f"process {os.getpid()}" in err and "is writing" in err
    assert main(["run", str(world_files), "--out", str(out)]) == 0  # the lock is gone


def test_what_a_killed_run_left_is_cleaned_up(world_files, tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(world_files), "--out", str(out)]) == 0
    first = _files(out)
    stale = tmp_path / ".out.part-999999"
    stale.mkdir()
    (stale / "municipalities.csv").write_text("half")
    (tmp_path / ".out.lock").write_text("999999")  # its lock is no longer held
    assert main(["run", str(world_files), "--out", str(out)]) == 0
    assert _files(out) == first
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".out")) == []


def test_killed_between_the_two_renames_keeps_the_old_outputs(world_files, tmp_path):
    out = tmp_path / "out"
    assert main(["run", str(world_files), "--out", str(out)]) == 0
    first = _files(out)
    os.rename(out, tmp_path / ".out.old-999999")
    with OutputFolder(out):  # entering restores it, then cleans up
        assert _files(out) == first


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES, errno.EROFS, errno.EMFILE])
def test_os_errors_while_writing_leave_the_folder_as_it_was(
    world_files, tmp_path, capsys, monkeypatch, code
):
    out = tmp_path / "out"
    assert main(["run", str(world_files), "--out", str(out)]) == 0
    before = _files(out)
    calls = {"n": 0}
    original = report._write_file

    def failing(path, data):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(code, os.strerror(code), str(path))
        original(path, data)

    monkeypatch.setattr(report, "_write_file", failing)
    assert main(["run", str(world_files), "--out", str(out)]) == 5
    err = capsys.readouterr().err
    assert os.strerror(code) in err and errno.errorcode[code] in err
    assert str(out) in err and "left as it was" in err and "Traceback" not in err
    assert _files(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def test_input_checksums_are_taken_before_writing(world_files, tmp_path):
    out = tmp_path / "out"
    source = world_files.parent / "fixed.csv"
    expected = hashlib.sha256(source.read_bytes()).hexdigest()
    assert main(["run", str(world_files), "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    (fixed,) = [i for i in manifest["inputs"] if i["path"].endswith("fixed.csv")]
    assert fixed["sha256"] == expected


def test_check_output_dir_accepts_new_empty_and_earlier_run_folders(world_files, tmp_path):
    assert check_output_dir(tmp_path / "new" / "deeper").name == "deeper"
    (tmp_path / "empty").mkdir()
    assert check_output_dir(tmp_path / "empty").name == "empty"
    assert main(["run", str(world_files), "--out", str(tmp_path / "earlier")]) == 0
    assert check_output_dir(tmp_path / "earlier").name == "earlier"
    with pytest.raises(OutputError, match="no coverage_gap run wrote"):
        (tmp_path / "earlier" / "extra.xlsx").write_text("x")
        check_output_dir(tmp_path / "earlier")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_out_without_permission_fails_before_computing(world_files, tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    try:
        assert main(["run", str(world_files), "--out", str(locked / "out")]) == 5
        assert "no permission" in capsys.readouterr().err
    finally:
        locked.chmod(0o700)


def test_demo_twice_gives_byte_identical_files(tmp_path):
    """`make demo` twice: the second run replaces the folder with the same bytes."""
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--scale", "0.01", "--no-progress"]
    assert main(args) == 0
    first = _files(out)
    assert "inputs/municipalities.gpkg" in first and "fact_sheets.pdf" in first
    manifest = json.loads(first["manifest.json"])
    assert manifest["inputs"][0]["path"] == "inputs/households.parquet"
    assert "inputs/demo.toml" in manifest["outputs"]
    assert "deck.pptx" in manifest["outputs"]  # the deck belongs to the output set
    assert main(args) == 0
    second = _files(out)
    assert set(second) == set(first)
    assert [name for name in first if first[name] != second[name]] == []
