"""One run's directory: where each file lives, and the run's lifecycle (start, log, finish/fail).

Layout (DESIGN.md "Run directory"):
    run.json                                  status, started/finished (UTC, ISO 8601), xgen_version,
                                              git_sha, argv, identity; pid, host, heartbeat and
                                              attempt of the latest attempt (and under SLURM its
                                              slurm_job_id, slurm_restart_count); "error" when failed,
                                              "reason" and "checkpoint" when interrupted;
                                              "attempts": how earlier attempts ended
    metrics.jsonl                             one evaluation row per (step, stage, split, lang)
    predictions/step=<N>/<lang>.jsonl         validation predictions {"id", "prediction", "reference"}
    predictions/split=<S>/step=<N>/<lang>.jsonl   any other split S (e.g. test); the `split=` folder
                                              cannot be mistaken for a `step=` folder, and the
                                              common case keeps DESIGN.md's short path
    checkpoints/                              full training state (xgen_cli/checkpoints.py)
    summary.json                              written atomically at the end; its presence means finished

Status (`RunDir.status()`):
    "done"        summary.json exists (whatever run.json says)
    "failed"      run.json says so: an error stopped the run ("error" says which)
    "interrupted" a stop signal (SIGTERM, SIGUSR1, SIGUSR2, Ctrl-C) stopped it after saving a checkpoint
    "running"     run.json says running and the process looks alive
    "crashed"     run.json says running but the process is gone: its pid no longer exists on this
                  host, SLURM restarted the job that wrote it (a requeued job, on any node, runs
                  only after its previous start ended), or its heartbeat (refreshed every
                  HEARTBEAT_S by a thread of the live run, whatever host it runs on) is older
                  than STALE_S; also run.json "done" without summary.json (killed between the two
                  writes by an older xgen)
    "missing"     no run.json
Every status but "done" can be continued: `xgen train` with the same config into the same folder
resumes from the latest checkpoint (xgen_cli/checkpoints.py); a live run is never joined (an
exclusive lock on the folder, held for the life of the process, guards against races).
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

from xgen_cli import __version__
from xgen_cli.errors import XgenError
from xgen_cli.runs.files import (
    append_jsonl,
    atomic_write_json,
    atomic_write_text,
    read_json,
    read_jsonl,
    remove_temp_files,
    write_jsonl,
)
from xgen_cli.runs.summary import METRIC_KEYS

# A metrics row: these keys always; "loss" where the teacher-forced loss was computed.
REQUIRED_ROW_KEYS = ("step", "stage", "split", "lang", "n") + METRIC_KEYS

# A live run rewrites run.json's heartbeat this often; one silent for STALE_S is taken for dead.
# Ten missed beats: a busy filesystem or a swapped-out process must not look crashed.
HEARTBEAT_S = 60.0
STALE_S = 600.0


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _age_s(stamp: str | None) -> float:
    if not stamp:
        return float("inf")
    try:
        then = datetime.datetime.fromisoformat(stamp)
    except ValueError:
        return float("inf")
    return (datetime.datetime.now(datetime.UTC) - then).total_seconds()


def _pid_exists(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _slurm_job() -> dict:
    """This process's SLURM job and how many times SLURM restarted it ({} outside SLURM)."""
    if "SLURM_JOB_ID" not in os.environ:
        return {}
    return {"slurm_job_id": os.environ["SLURM_JOB_ID"], "slurm_restart_count": int(os.environ.get("SLURM_RESTART_COUNT", 0))}


def is_rank_zero() -> bool:
    """False in the extra processes of a multi-process run (Lightning's DDP ranks, SLURM tasks):
    they share rank 0's folder, which alone writes the run's lifecycle files and holds its lock."""
    return all(os.environ.get(var, "0") == "0" for var in ("RANK", "LOCAL_RANK", "NODE_RANK", "SLURM_PROCID"))


def _git_sha() -> str | None:
    """HEAD of the xgen source checkout, or None (installed wheel, no git, not a checkout)."""
    source_root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(
            ["git", "-C", str(source_root), "rev-parse", "--show-toplevel", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    # An installed xgen inside some other git repository (a venv in the user's project) must not
    # report that repository's commit.
    if len(out) != 2 or Path(out[0]).resolve() != source_root:
        return None
    return out[1]


def _check_name(kind: str, value: str) -> None:
    # lang and split become path components; a separator would escape predictions/. A bug, not
    # user input: langs and splits come from the data module.
    if not value or "/" in value or os.sep in value or value in (".", ".."):
        raise ValueError(f"{kind} {value!r} cannot be used as a file name")


def _probe_writable(path: Path) -> None:
    """Create `path` (and parents) and a file in it, or raise XgenError; leaves nothing behind."""
    created = []
    probe = path
    while not probe.exists() and probe != probe.parent:
        created.append(probe)
        probe = probe.parent
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path, prefix=".write-probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        reason = e.strerror or type(e).__name__
        raise XgenError(f"cannot write the run folder {path} ({reason}): choose another hydra.run.dir") from None
    finally:
        for folder in created:  # deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()


class RunDir:
    """The files of one run. Cheap to construct: nothing is read or written until a method asks."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    # ---- where things live
    @property
    def run_json(self) -> Path:
        return self.path / "run.json"

    @property
    def metrics_jsonl(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def summary_json(self) -> Path:
        return self.path / "summary.json"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def predictions(self) -> Path:
        return self.path / "predictions"

    def predictions_file(self, step: int, lang: str, split: str = "validation") -> Path:
        _check_name("lang", lang)
        _check_name("split", split)
        base = self.predictions if split == "validation" else self.predictions / f"split={split}"
        return base / f"step={int(step)}" / f"{lang}.jsonl"

    # ---- lifecycle
    def check_target(self) -> bool:
        """Whether a run may start here, before anything is written: False for a new folder, True
        for an unfinished run to continue; XgenError for a finished or live run, a folder that is
        not a run's, or one that cannot be written."""
        if self.path.exists() and not self.path.is_dir():
            raise XgenError(f"{self.path} is a file, not a folder: choose another hydra.run.dir")
        if self.summary_json.exists():
            raise XgenError(
                f"{self.path} already holds a finished run (summary.json); "
                "pick a new output dir or delete it"
            )
        if self.run_json.exists():
            info = self.read_run_json()
            if self.status() == "running":
                raise XgenError(
                    f"{self.path} is in use by a live run (pid {info.get('pid')} on {info.get('host')}, "
                    f"heartbeat {_age_s(info.get('heartbeat')):.0f} s ago): wait for it, or stop it first"
                )
        elif self.path.is_dir() and any(p.name != ".hydra" and p.suffix != ".log" for p in self.path.iterdir()):
            # Hydra writes .hydra/ and the job's <command>.log before the run starts; anything else is not ours.
            raise XgenError(f"{self.path} holds files but no xgen run: choose an empty or new hydra.run.dir")
        _probe_writable(self.path)
        return self.run_json.exists()

    def start(self, argv: list[str], identity: dict) -> int:
        """Take the folder (an exclusive lock for the life of this process), clear temp files a
        killed attempt left, and write run.json "running"; returns the attempt number (1 = new; 0 in
        a process other than rank 0, which writes nothing)."""
        if not is_rank_zero():
            return 0
        self.check_target()
        self.path.mkdir(parents=True, exist_ok=True)
        self._take_lock()
        # From here on this process owns the folder: leftovers of killed writers can go.
        remove_temp_files(self.path)
        previous = self.read_run_json() if self.run_json.exists() else None
        attempts = list(previous.get("attempts", [])) if previous else []
        if previous:
            ended = {key: previous.get(key) for key in ("attempt", "attempt_started", "finished", "reason", "error",
                                                        "host", "pid") if previous.get(key) is not None}
            attempts.append({**ended, "status": self.status()})  # "crashed" where run.json still said running
        info = {
            "status": "running",
            "started": previous.get("started", _now()) if previous else _now(),
            "finished": None,
            "attempt": len(attempts) + 1,
            "attempt_started": _now(),
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "heartbeat": _now(),
            **_slurm_job(),
            "xgen_version": __version__,
            "git_sha": _git_sha(),
            "argv": list(argv),
            "identity": identity,
        }
        if attempts:
            info["attempts"] = attempts
        atomic_write_json(self.run_json, info)
        self._beat_stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, name="xgen-heartbeat", daemon=True)
        self._beat.start()
        return info["attempt"]

    def log_metrics(self, row: dict) -> None:
        """Append one evaluation row to metrics.jsonl (flushed and fsynced before returning)."""
        missing = [key for key in REQUIRED_ROW_KEYS if key not in row]
        if missing:
            raise ValueError(f"metrics row lacks {', '.join(missing)}: {row!r}")
        if is_rank_zero():  # every rank computes the same rows (intermediate.py): one copy
            append_jsonl(self.metrics_jsonl, row)

    def rewind(self, stage: str, step: int | None) -> int:
        """Before (re)training `stage` from a checkpoint at `step` (None: from scratch), drop that
        stage's metrics rows logged after it by a killed attempt, and any torn line; returns how
        many lines went. Kept lines are copied byte for byte; the file is replaced atomically."""
        if not is_rank_zero() or not self.metrics_jsonl.exists():
            return 0
        kept, dropped = [], 0
        for line in self.metrics_jsonl.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                dropped += 1
                continue
            if isinstance(row, dict) and row.get("stage") == stage and (step is None or row.get("step", 0) > step):
                dropped += 1
                continue
            kept.append(line + "\n")
        if dropped:
            atomic_write_text(self.metrics_jsonl, "".join(kept))
        return dropped

    def write_predictions(self, step: int, lang: str, rows: list[dict], split: str = "validation") -> Path:
        """Write one (step, lang, split) predictions file atomically; returns its path."""
        path = self.predictions_file(step, lang, split)
        if is_rank_zero():
            write_jsonl(path, rows)
        return path

    def finish(self, summary: dict) -> None:
        """Write summary.json, then mark run.json done. summary.json decides: a kill between the
        two writes leaves a finished run (status() reads "done")."""
        self._stop_heartbeat()
        if not is_rank_zero():
            return
        atomic_write_json(self.summary_json, summary)
        self._update_run_json(status="done", finished=_now())
        self._release()

    def fail(self, message: str) -> None:
        """Mark run.json failed with the error message; no summary.json is written."""
        self._stop_heartbeat()
        self._update_run_json(status="failed", finished=_now(), error=message)
        self._release()

    def interrupt(self, reason: str, checkpoint: str | None) -> None:
        """Mark run.json interrupted: why (e.g. "SIGTERM at step 37") and the checkpoint to resume."""
        self._stop_heartbeat()
        self._update_run_json(status="interrupted", finished=_now(), reason=reason, checkpoint=checkpoint)
        self._release()

    def _update_run_json(self, **changes) -> None:
        if not is_rank_zero():
            return
        with self._json_lock:
            info = read_json(self.run_json) if self.run_json.exists() else {}
            info.update(changes)
            atomic_write_json(self.run_json, info)

    # ---- liveness
    _json_lock = threading.Lock()  # the heartbeat thread and the main thread both rewrite run.json
    _lock_fd: int | None = None
    _beat: threading.Thread | None = None

    def _take_lock(self) -> None:
        if self._lock_fd is not None:
            return
        fd = os.open(self.path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise XgenError(f"{self.path} is in use by another xgen process: wait for it, or stop it first") from None
        self._lock_fd = fd

    def _heartbeat(self) -> None:
        while not self._beat_stop.wait(HEARTBEAT_S):
            with contextlib.suppress(OSError, XgenError):
                self._update_run_json(heartbeat=_now())

    def _stop_heartbeat(self) -> None:
        if self._beat is not None:
            self._beat_stop.set()
            self._beat.join()
            self._beat = None

    def _release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    # ---- reading
    def read_metrics(self) -> list[dict]:
        """All metrics rows, in the order they were logged ([] before the first evaluation)."""
        return read_jsonl(self.metrics_jsonl) if self.metrics_jsonl.exists() else []

    def read_run_json(self) -> dict:
        return read_json(self.run_json)

    def read_summary(self) -> dict | None:
        return read_json(self.summary_json) if self.summary_json.exists() else None

    def status(self) -> str:
        """"done" | "failed" | "interrupted" | "running" | "crashed" | "missing" (module docstring)."""
        if self.summary_json.exists():
            return "done"
        if not self.run_json.exists():
            return "missing"
        info = self.read_run_json()
        status = info.get("status")
        if status in ("failed", "interrupted"):
            return status
        if status == "running":
            pid_gone = info.get("host") == socket.gethostname() and not _pid_exists(info.get("pid"))
            job = _slurm_job()
            requeued = job and info.get("slurm_job_id") == job["slurm_job_id"] and \
                info.get("slurm_restart_count") != job["slurm_restart_count"]
            return "crashed" if pid_gone or requeued or _age_s(info.get("heartbeat")) > STALE_S else "running"
        return "crashed"
