"""The run directory: atomic files, the RunDir lifecycle, summary selection rules, the table."""

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from xgen_cli.errors import XgenError
from xgen_cli.runs import (
    METRIC_KEYS,
    RunDir,
    append_jsonl,
    atomic_write_json,
    atomic_write_text,
    build_summary,
    format_language_table,
    load_run,
    read_jsonl,
    write_jsonl,
)


def row(step, lang, sp_rouge, stage="main", split="validation", **extra):
    r = {"step": step, "stage": stage, "split": split, "lang": lang, "n": 250, "sp_rouge": sp_rouge,
         "lid_target": 80.0, "lid_en": 10.0, "ascii": 5.0, "distinct": 99.0, "empty": 0.0}
    r.update(extra)
    return r


# ---- files

def test_atomic_write_json_roundtrip_and_no_temp_files(tmp_path):
    path = tmp_path / "sub" / "run.json"
    atomic_write_json(path, {"b": 1, "a": "русский"})
    atomic_write_json(path, {"b": 2, "a": "ไทย"})
    text = path.read_text(encoding="utf-8")
    assert "ไทย" in text and text.index('"b"') < text.index('"a"')  # no \u escapes, order kept
    assert json.loads(text) == {"b": 2, "a": "ไทย"}
    assert [p.name for p in path.parent.iterdir()] == ["run.json"]


def test_failing_serializer_keeps_old_file(tmp_path):
    path = tmp_path / "summary.json"
    atomic_write_json(path, {"ok": True})
    with pytest.raises(TypeError):
        atomic_write_json(path, {"bad": object()})
    assert json.loads(path.read_text()) == {"ok": True}
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_failing_write_removes_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "x.txt"
    atomic_write_text(path, "old")

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        atomic_write_text(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_append_jsonl_whole_lines(tmp_path):
    path = tmp_path / "deep" / "metrics.jsonl"
    rows = [{"i": i, "text": "line\nbreak", "lang": "日本語"} for i in range(5)]
    for r in rows:
        append_jsonl(path, r)
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == 6
    assert read_jsonl(path) == rows


def test_append_after_torn_line_starts_a_new_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    append_jsonl(path, {"i": 0})
    with open(path, "a") as f:
        f.write('{"i": 1, "trunc')  # a crash mid-append
    append_jsonl(path, {"i": 2})
    with pytest.raises(XgenError, match="line 2 "):
        read_jsonl(path)


def test_read_jsonl_skips_blank_lines_and_names_bad_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2}\n   \n{"a": \n')
    with pytest.raises(XgenError) as err:
        read_jsonl(path)
    message = str(err.value)
    assert str(path) in message and "line 5" in message and "fix or delete that line" in message
    assert "\n" not in message
    path.write_text('{"a": 1}\n\n{"a": 2}\n[1, 2]\n')
    with pytest.raises(XgenError, match="line 4 is a JSON list"):
        read_jsonl(path)
    path.write_text('{"a": 1}\n\n{"a": 2}\n')
    assert read_jsonl(path) == [{"a": 1}, {"a": 2}]


def test_write_jsonl_replaces_whole_file(tmp_path):
    path = tmp_path / "p.jsonl"
    write_jsonl(path, [{"id": "1"}, {"id": "2"}])
    write_jsonl(path, [{"id": "3"}])
    assert read_jsonl(path) == [{"id": "3"}]


# ---- RunDir

def test_run_dir_lifecycle(tmp_path):
    run = RunDir(tmp_path / "run")
    assert run.status() == "missing"
    run.start(["train", "method=prompt"], {"model": "tiny", "method": "prompt", "seed": 0})
    info = json.loads(run.run_json.read_text())
    assert info["status"] == "running" and info["finished"] is None
    assert info["argv"] == ["train", "method=prompt"] and info["identity"]["method"] == "prompt"
    assert info["started"].endswith("+00:00") and info["xgen_version"]
    assert info["git_sha"] is None or len(info["git_sha"]) == 40
    assert run.status() == "running" and run.read_metrics() == []

    for step, score in [(500, 10.0), (1000, 12.0)]:
        for lang in ("en", "ru"):
            run.log_metrics(row(step, lang, score, loss=2.0))
    with pytest.raises(ValueError, match="sp_rouge"):
        run.log_metrics({"step": 1, "stage": "main", "split": "validation", "lang": "en", "n": 1})
    assert len(run.read_metrics()) == 4

    preds = [{"id": "a", "prediction": "привет", "reference": "мир"}]
    path = run.write_predictions(500, "ru", preds)
    assert path == run.path / "predictions" / "step=500" / "ru.jsonl" and read_jsonl(path) == preds
    test_path = run.write_predictions(500, "ru", preds, split="test")
    assert test_path == run.path / "predictions" / "split=test" / "step=500" / "ru.jsonl"
    with pytest.raises(ValueError):
        run.predictions_file(500, "../ru")

    summary = build_summary(run.read_metrics(), info["identity"])
    run.finish(summary)
    assert run.status() == "done"
    info = json.loads(run.run_json.read_text())
    assert info["status"] == "done" and info["finished"] >= info["started"]
    loaded_summary, rows, loaded_info = load_run(run.path)
    assert loaded_summary == summary and len(rows) == 4 and loaded_info == info

    with pytest.raises(XgenError, match="already holds a finished run"):
        RunDir(run.path).start(["train"], {})


def test_run_dir_fail(tmp_path):
    run = RunDir(tmp_path / "run")
    run.start(["train"], {"seed": 0})
    run.fail("CUDA out of memory")
    info = json.loads(run.run_json.read_text())
    assert info["status"] == "failed" and info["error"] == "CUDA out of memory" and info["finished"]
    assert run.status() == "failed" and not run.summary_json.exists()
    summary, rows, _ = load_run(run.path)
    assert summary is None and rows == []
    run.start(["train"], {"seed": 0})  # a failed run may be restarted in place
    assert run.status() == "running"


def _pid_of_a_finished_process() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_a_run_of_a_slurm_job_that_slurm_restarted_is_not_live(tmp_path, monkeypatch):
    # A node died; SLURM requeued the job on another node: the first start's run.json still says
    # running with a fresh heartbeat, but SLURM starts a job again only after the last start ended.
    fresh = datetime.datetime.now(datetime.UTC).isoformat()
    run = RunDir(tmp_path / "run")
    run.path.mkdir()
    atomic_write_json(run.run_json, {"status": "running", "pid": 1, "host": "dead-node", "heartbeat": fresh,
                                     "slurm_job_id": "77", "slurm_restart_count": 0})
    monkeypatch.setenv("SLURM_JOB_ID", "77")
    monkeypatch.setenv("SLURM_RESTART_COUNT", "0")
    assert run.status() == "running"  # another task of the same start
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    assert run.status() == "crashed"
    monkeypatch.setenv("SLURM_JOB_ID", "78")
    assert run.status() == "running"  # another job's run: its heartbeat decides


def test_status_tells_crashed_from_running(tmp_path):
    import socket

    from xgen_cli.runs import run_dir

    run = RunDir(tmp_path / "run")
    run.start(["train"], {})
    info = json.loads(run.run_json.read_text())
    assert info["pid"] == os.getpid() and info["host"] == socket.gethostname() and info["attempt"] == 1
    assert run.status() == "running"  # this process, alive, heartbeat fresh

    other = RunDir(tmp_path / "other")
    other.path.mkdir()
    stale = (datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=run_dir.STALE_S + 5)).isoformat()
    fresh = datetime.datetime.now(datetime.UTC).isoformat()
    cases = [
        ({"pid": _pid_of_a_finished_process(), "host": socket.gethostname(), "heartbeat": fresh}, "crashed"),
        ({"pid": 1, "host": "another-node", "heartbeat": fresh}, "running"),  # can't see its pid: trust the beat
        ({"pid": 1, "host": "another-node", "heartbeat": stale}, "crashed"),
        ({"pid": os.getpid(), "host": socket.gethostname(), "heartbeat": stale}, "crashed"),
        ({}, "crashed"),  # written by an xgen without liveness fields
    ]
    for fields, expected in cases:
        atomic_write_json(other.run_json, {"status": "running", **fields})
        assert other.status() == expected, fields
    atomic_write_json(other.run_json, {"status": "done"})  # killed between summary.json and run.json
    assert other.status() == "crashed"

    with pytest.raises(XgenError, match=r"is in use by a live run \(pid \d+ on "):
        RunDir(run.path).start(["train"], {})
    run.interrupt("SIGTERM at step 37", "checkpoints/step=37.ckpt")
    info = json.loads(run.run_json.read_text())
    assert run.status() == "interrupted" and info["reason"] == "SIGTERM at step 37"
    assert info["checkpoint"] == "checkpoints/step=37.ckpt" and info["finished"]
    assert RunDir(run.path).start(["train", "again"], {}) == 2  # the lock went with interrupt()
    info = json.loads(run.run_json.read_text())
    assert info["attempts"] == [{**{k: v for k, v in info["attempts"][0].items() if k in (
        "attempt_started", "finished", "pid", "host")}, "attempt": 1, "reason": "SIGTERM at step 37",
        "status": "interrupted"}]


def test_only_one_process_takes_a_run_folder(tmp_path):
    run = RunDir(tmp_path / "run")
    run.start(["train"], {})
    code = (f"from xgen_cli.runs.run_dir import RunDir; RunDir({str(run.path)!r})._take_lock()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "is in use by another xgen process" in out.stderr
    run.fail("stop")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_start_clears_temp_files_a_killed_writer_left(tmp_path):
    run = RunDir(tmp_path / "run")
    run.start(["train"], {})
    run.fail("killed")
    leftovers = [run.path / ".summary.json.x1.tmp", run.checkpoints / ".step=4.ckpt.x2.tmp",
                 run.predictions / "step=2" / ".ru.jsonl.x3.tmp"]
    for path in leftovers:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"partial")
    run.start(["train"], {})
    assert not any(p.exists() for p in leftovers)
    assert run.checkpoints.is_dir()


def test_rewind_drops_rows_after_the_checkpoint_of_that_stage_only(tmp_path):
    run = RunDir(tmp_path / "run")
    rows = [row(2, "en", 1.0), row(2, "ru", 1.0), row(4, "en", 2.0), row(4, "ru", 2.0),
            row(6, "en", 3.0), row(6, "en", 9.0, stage="intermediate")]
    for r in rows:
        run.log_metrics(r)
    with open(run.metrics_jsonl, "a") as f:
        f.write('{"step": 6, "stage": "main", "spl')  # torn by a kill
    before = run.metrics_jsonl.read_text().splitlines()
    assert run.rewind("main", 4) == 2
    assert run.metrics_jsonl.read_text().splitlines() == before[:4] + [before[5]]  # kept lines byte for byte
    assert run.rewind("main", 4) == 0
    assert run.rewind("main", None) == 4 and run.read_metrics() == [rows[5]]
    assert [p.name for p in run.path.iterdir()] == ["metrics.jsonl"]
    assert RunDir(tmp_path / "none").rewind("main", None) == 0


def test_check_target_names_what_is_wrong(tmp_path):
    assert RunDir(tmp_path / "new" / "deeper").check_target() is False
    assert not (tmp_path / "new").exists()  # the write probe undoes the folders it made
    (tmp_path / "file").write_text("")
    with pytest.raises(XgenError, match=r"cannot write the run folder .*/file/run \(Not a directory\)"):
        RunDir(tmp_path / "file" / "run").check_target()
    with pytest.raises(XgenError, match="is a file, not a folder"):
        RunDir(tmp_path / "file").check_target()
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "notes.txt").write_text("mine")
    with pytest.raises(XgenError, match="holds files but no xgen run: choose an empty or new hydra.run.dir"):
        RunDir(tmp_path / "project").check_target()
    (tmp_path / "hydra-only" / ".hydra").mkdir(parents=True)  # killed before run.json: a new run
    (tmp_path / "hydra-only" / "train.log").write_text("")
    assert RunDir(tmp_path / "hydra-only").check_target() is False


def test_git_sha_is_the_checkouts_head_and_none_elsewhere(monkeypatch):
    from xgen_cli.runs import run_dir

    source_root = Path(run_dir.__file__).resolve().parents[2]
    head = subprocess.run(["git", "-C", str(source_root), "rev-parse", "HEAD"], capture_output=True, text=True)
    if head.returncode == 0:  # a checkout (CI clones one): its HEAD
        assert run_dir._git_sha() == head.stdout.strip()

    def elsewhere(args, **kwargs):  # installed inside another repository: that one's toplevel and commit
        return subprocess.CompletedProcess(args, 0, stdout=f"/somewhere/else\n{'a' * 40}\n", stderr="")

    monkeypatch.setattr(run_dir.subprocess, "run", elsewhere)
    assert run_dir._git_sha() is None

    def no_git(args, **kwargs):
        raise FileNotFoundError("git")

    monkeypatch.setattr(run_dir.subprocess, "run", no_git)
    assert run_dir._git_sha() is None


def test_load_run_on_wrong_dir(tmp_path):
    with pytest.raises(XgenError, match="not an xgen run directory"):
        load_run(tmp_path)


# ---- build_summary

ROWS = [
    row(500, "en", 30.0, loss=2.5), row(500, "ru", 20.0), row(500, "th", 15.0),
    row(1000, "en", 35.0, loss=2.1), row(1000, "ru", 18.0), row(1000, "th", 15.0),
    row(1500, "en", 33.0), row(1500, "ru", 19.0), row(1500, "th", 17.0),
    # other stages and splits must be ignored, even with better scores
    row(2000, "ru", 99.0, stage="pretrain"), row(1500, "ru", 99.0, split="test"),
]


def test_summary_selection_rules():
    s = build_summary(ROWS, {"method": "prompt"})
    assert s["status"] == "done" and s["identity"] == {"method": "prompt"}
    assert s["steps"] == [500, 1000, 1500] and s["langs"] == ["en", "ru", "th"]
    target = s["select"]["target"]
    assert {lang: e["step"] for lang, e in target.items()} == {"en": 1000, "ru": 500, "th": 1500}
    assert target["ru"]["sp_rouge"] == 20.0 and target["en"]["loss"] == 2.1
    assert "loss" not in target["ru"]
    assert set(METRIC_KEYS) <= set(target["ru"])
    assert {e["step"] for e in s["select"]["source"].values()} == {1000}
    assert s["select"]["source"]["ru"]["sp_rouge"] == 18.0
    assert {e["step"] for e in s["select"]["last"].values()} == {1500}
    assert s["notes"] == []
    json.dumps(s)


def test_summary_ties_go_to_earliest_and_later_rows_replace():
    s = build_summary(ROWS + [row(1500, "th", 15.0)], {})
    assert s["select"]["target"]["th"]["step"] == 500  # 15.0 at 500, 1000 and (re-logged) 1500


def test_summary_missing_source_language():
    rows = [r for r in ROWS if r["lang"] != "en"]
    s = build_summary(rows, {})
    assert s["select"]["source"] == {}
    assert any("source language en was not evaluated" in note for note in s["notes"])
    assert s["select"]["target"]["ru"]["step"] == 500


def test_summary_other_stage_and_language_gaps():
    s = build_summary(ROWS + [row(2000, "en", 1.0)], {}, stage="main")
    assert list(s["select"]["last"]) == ["en"]
    assert any(note.startswith("last: ru was not evaluated at step 2000") for note in s["notes"])
    s = build_summary(ROWS, {}, stage="pretrain")
    assert s["steps"] == [2000] and s["select"]["target"]["ru"]["sp_rouge"] == 99.0
    assert build_summary([], {})["notes"][0].startswith("no metrics rows")


# ---- table

def test_table_names_langs_and_selection():
    prompt = build_summary(ROWS, {"method": "prompt"})
    lead = build_summary([row(0, lang, 20.0) for lang in ("en", "ru", "th")], {"method": "lead"})
    no_en = build_summary([r for r in ROWS if r["lang"] != "en"], {})
    by_name = {"LEAD-64": lead, "PROMPT": prompt, "MODEL": None, "NO-EN": no_en}
    text = format_language_table(by_name)
    assert text.splitlines()[0].startswith("selection: target = best checkpoint per target language")
    for needle in ("LEAD-64", "PROMPT", "MODEL", "SP-RG", "LID_XX", "DISTINCT", " EN", " RU", " TH",
                   "35.0", "note: MODEL: no summary.json"):
        assert needle in text
    assert max(len(line) for line in text.splitlines()) <= 120

    source = format_language_table(by_name, selection="source", metrics=("sp_rouge", "step"))
    assert "honest zero-shot" in source and "STEP" in source and "LID_XX" not in source
    assert "note: NO-EN: the source language en was not evaluated" in source
    assert format_language_table(by_name, selection="last", langs=["ru"]).count(" RU") == len(METRIC_KEYS)
    with pytest.raises(XgenError, match="unknown selection"):
        format_language_table(by_name, selection="best")


def test_table_wraps_many_languages():
    langs = [f"l{i:02d}" for i in range(30)]
    s = build_summary([row(0, lang, 1.0) for lang in langs], {})
    text = format_language_table({"PROMPT": s}, metrics=("sp_rouge",))
    assert max(len(line) for line in text.splitlines()) <= 120
    assert text.count("PROMPT") >= 2 and "L29" in text
    wide = build_summary([row(100000, "en", 1.0), row(5000, "en", 0.5)], {})
    steps = format_language_table({"A": wide}, metrics=("step",)).splitlines()[-1]
    assert steps.split() == ["A", "100000"]


def test_runs_package_imports_stay_light():
    code = ("import sys, xgen_cli.runs; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'lightning', "
            "'hydra', 'omegaconf') or (m.startswith('xgen_cli.') and m.split('.')[1] not in "
            "('runs', 'errors'))]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
