"""Stop signals: finish the current step, save a checkpoint, mark the run interrupted, exit non-zero.

SIGTERM (SLURM at preemption or time limit, Kubernetes, `kill`), SIGUSR1 (SLURM's
`--signal=USR1@<seconds>` early warning) and SIGINT (Ctrl-C) do not end the process on the spot:
the handler only records the request (`STOP`). The training loop looks at it after each optimizer
step and between the languages of an evaluation (xgen_cli/checkpoints.py, EvaluateEvery), saves a
checkpoint and raises `Interrupted`; `stop_cleanly` then writes run.json "interrupted" with the
reason ("SIGTERM at step 37") and exits with 128 + the signal number, the shell's code for "ended
by that signal", so schedulers, requeue logic and scripts see the run did not finish. A second
Ctrl-C stops at once (KeyboardInterrupt), without a checkpoint.

Lightning installs its own SIGTERM handler during `fit`; it keeps ours in its chain, and ours acts
first (at the end of the step, before Lightning's check). Under SLURM, xgen_cli/training.py turns
off Lightning's auto-requeue, whose SIGUSR1 handler would save a second checkpoint outside the
run's checkpoint folder and requeue before ours is written; SLURM's `--requeue` or submitit
requeue the job, and the same command then resumes it.

Under submitit (hydra/launcher=slurm), SLURM warns with SIGUSR2 `signal_delay_s` before the time
limit, and submitit's handler for it requeues the job (after pickling the launcher's call again);
xgen takes the signal first (checkpoint, run.json "interrupted"), then hands it to the handler it
replaced, which requeues and exits. The requeued job runs the same Hydra job, which resumes the run
from its folder. `scontrol requeue` (preemption, a node drain) sends SIGTERM: the same checkpoint,
then SLURM starts the job again. Stdlib only: imported before torch.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

from xgen_cli.runs.run_dir import RunDir

SIGNALS = (signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2, signal.SIGINT)


class Interrupted(BaseException):
    """Raised by the training loop once it has saved its state after a stop signal. A
    BaseException, like KeyboardInterrupt: an `except Exception` on the way must not swallow it."""


class StopRequest:
    """The process-wide stop request (signals are process-wide too) and where training stood."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self.trainer = None  # the Lightning Trainer once training started (StepCheckpoints sets it)
        self.checkpoint: Path | None = None  # the checkpoint saved after the request, if any

    def __bool__(self) -> bool:
        return self.signum is not None

    def reason(self) -> str:
        name = signal.Signals(self.signum).name
        return f"{name} at step {self.trainer.global_step}" if self.trainer else f"{name} before training started"

    def _handle(self, signum: int, frame) -> None:
        if self.signum is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt  # the second Ctrl-C: stop now
        self.signum = self.signum or signum
        # os.write, not print: a handler may run while the main thread is inside print() on stderr,
        # and re-entering a buffered stream raises.
        os.write(2, f"\n[xgen] {signal.Signals(signum).name}: stopping after this step to save a checkpoint"
                    f"{' (Ctrl-C again to stop now)' if signum == signal.SIGINT else ''}\n".encode())


STOP = StopRequest()


@contextlib.contextmanager
def stop_cleanly(run: RunDir) -> Iterator[StopRequest]:
    """Around a started run: stop signals end it "interrupted" (exit 128 + signal), any other
    exception "failed" (re-raised); the caller writes "done" itself (RunDir.finish)."""
    previous = {signum: signal.signal(signum, STOP._handle) for signum in SIGNALS}
    STOP.__init__()
    try:
        yield STOP
    except BaseException as exc:
        # Lightning turns a SIGTERM it sees first into SystemExit, and a second Ctrl-C into
        # KeyboardInterrupt then SystemExit(1): after a stop request these are the stop, not an error.
        if not STOP or not isinstance(exc, Interrupted | SystemExit | KeyboardInterrupt):
            run.fail(f"{type(exc).__name__}: {exc}")
            raise
        checkpoint = STOP.checkpoint.relative_to(run.path).as_posix() if STOP.checkpoint else None
        run.interrupt(STOP.reason(), checkpoint)
        saved = f"checkpoint {checkpoint}" if checkpoint else "no checkpoint saved (the last one stays)"
        print(f"xgen train: stopped by {STOP.reason()}; {saved}; continue with: xgen train resume={run.path}",
              file=sys.stderr)
        replaced = previous[STOP.signum]
        if callable(replaced) and replaced is not signal.default_int_handler:
            replaced(STOP.signum, None)  # e.g. submitit's: requeue the job, then exit
        sys.exit(128 + STOP.signum)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
