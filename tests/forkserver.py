"""Start many short `xgen` processes cheaply: a server that imports torch, Lightning and transformers
once, then forks one child per command; each child runs the real entry point, `xgen_cli.cli.main`.

Why: the kill and resume tests start 30+ processes, and each plain `python -m xgen_cli.cli` spends
about 5 s of CPU importing before it trains for a second or two. A forked child is the same program
from `cli.main` on (own pid, own signal handlers, killable with SIGKILL), minus the imports.
The server only imports (no torch op runs in it), so forking it is safe.

Protocol: one JSON object per line on stdin ({"run": [args], "out": path, "err": path} or
{"wait": pid}), one JSON reply per line on stdout ({"pid": n} or {"code": n}, -N for signal N).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class ForkServer:
    def __init__(self, env: dict[str, str]):
        self.proc = subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     cwd=REPO, env={**os.environ, **env, "PYTHONUNBUFFERED": "1"}, text=True)

    def _ask(self, request: dict) -> dict:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the fork server died")
        return json.loads(line)

    def start(self, args: list[str], log: Path) -> int:
        """Fork `xgen <args>` with stdout/stderr in `log`.out/.err; returns its pid."""
        return self._ask({"run": list(args), "out": f"{log}.out", "err": f"{log}.err"})["pid"]

    def wait(self, pid: int) -> int:
        """Exit code of a started child (-N: ended by signal N)."""
        return self._ask({"wait": pid})["code"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _child(args: list[str], out: str, err: str) -> None:
    code = 1
    try:
        for fd, path in ((1, out), (2, err)):
            target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(target, fd)
            os.close(target)
        from xgen_cli import cli

        try:
            cli.main(args)
            code = 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _serve() -> None:
    # What every `xgen train` imports; importing does not start torch's thread pools.
    import lightning  # noqa: F401
    import torch  # noqa: F401
    import transformers  # noqa: F401

    import xgen_cli.checkpoints  # noqa: F401
    import xgen_cli.cli  # noqa: F401
    import xgen_cli.commands.eval  # noqa: F401
    import xgen_cli.commands.train  # noqa: F401
    import xgen_cli.data.batching  # noqa: F401
    import xgen_cli.evaluation  # noqa: F401
    import xgen_cli.modeling.backbone  # noqa: F401
    import xgen_cli.modeling.methods.model  # noqa: F401
    import xgen_cli.modeling.methods.prompt  # noqa: F401

    reply = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        if "run" in request:
            reply.flush()
            pid = os.fork()
            if pid == 0:
                _child(request["run"], request["out"], request["err"])
            answer = {"pid": pid}
        else:
            _, status = os.waitpid(request["wait"], 0)
            answer = {"code": os.waitstatus_to_exitcode(status)}
        reply.write(json.dumps(answer) + "\n")
        reply.flush()


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    _serve()
