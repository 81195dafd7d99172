"""What every benchmark shares: the result record, the machine it ran on, interleaved timing, peak
memory of a child process, and a seconds-sized backbone for the benchmarks that run `xgen`."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "outputs" / "bench"
# XGEN_CACHE of the benchmarks' xgen runs (the micro backbone) and their corpora; the test of the
# benchmarks points it at the test session's cache, whose micro backbone is the same.
CACHE = Path(os.environ.get("XGEN_BENCH_CACHE", OUT / "cache"))

# A backbone that builds in seconds through the real build path (tests/conftest.py's MICRO_MODEL):
# the benchmarks that run `xgen` end to end measure the framework around the model, not the model.
MICRO_MODEL = [
    "model.build.architecture.d_model=64", "model.build.architecture.d_ff=128",
    "model.build.architecture.num_layers=2", "model.build.architecture.num_decoder_layers=2",
    "model.build.architecture.num_heads=2", "model.build.pretrain.span_corruption_steps=4",
    "model.build.pretrain.prefix_lm_steps=2", "model.build.sample.max_texts=200", "model.build.vocab_size=1000",
]


def entry(name: str, xgen: float, baseline: float, units: str, *, ratio: float, target: str, met: bool,
          baseline_name: str, inputs: dict, precision: str = "-", notes: str = "") -> dict:
    """One row of results.json. `ratio`: baseline time / xgen time (higher: xgen faster) unless `notes` says."""
    return {"name": name, "xgen": round(xgen, 4), "baseline": round(baseline, 4), "ratio": round(ratio, 3),
            "units": units, "target": target, "met": bool(met), "baseline_name": baseline_name,
            "inputs": inputs, "precision": precision, "notes": notes}


def machine() -> dict:
    import torch

    model = platform.processor()
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": model, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__, "python": platform.python_version(),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def interleaved(candidates: dict[str, Callable[[], float | None]], rounds: int) -> dict[str, list[float]]:
    """Each candidate once per round, in turn (the machine is shared: noise hits both alike).
    A candidate returns its own figure (e.g. seconds of the part that matters) or None for its wall time."""
    figures: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(rounds):
        for name, run in candidates.items():
            start = time.perf_counter()
            value = run()
            figures[name].append(time.perf_counter() - start if value is None else value)
    return figures


def median(values: list[float]) -> float:
    return statistics.median(values)


def peak_rss_mb(module: str, args: list[str], env: dict | None = None, timeout: float = 900) -> float:
    """Peak resident memory in MB of `python -m <module> <args>` (see bench/peak.py); raises if it fails."""
    with tempfile.TemporaryDirectory() as tmp:
        peak = Path(tmp) / "peak"
        proc = subprocess.run([sys.executable, "-m", "bench.peak", str(peak), module, *args], cwd=REPO, timeout=timeout,
                              env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0 or not peak.is_file():
            raise RuntimeError(f"{module} {' '.join(args[:4])} ... exited {proc.returncode}: {proc.stderr[-2000:]}")
        return int(peak.read_text()) / 1024


def xgen_env() -> dict:
    return {"XGEN_CACHE": str(CACHE), "PYTHONUNBUFFERED": "1"}


def xgen(*args: str, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    """`xgen <args>` through the real entry point, with the benchmarks' cache."""
    proc = subprocess.run([sys.executable, "-m", "xgen_cli.cli", *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, **xgen_env(), **(env or {})}, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"xgen {' '.join(args[:4])} ... exited {proc.returncode}: {proc.stderr[-2000:]}")
    return proc


def micro_backbone() -> Path:
    """The micro backbone's folder, built into the benchmarks' cache on first use (seconds). The
    folder comes from pretrain's own composed config, so it follows every change to the build."""
    sys.path.insert(0, str(REPO))
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from xgen_cli.modeling.tiny import tiny_dir

    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("pretrain", overrides=["model=tiny", *MICRO_MODEL, f"cache_dir={CACHE}"])
    folder = tiny_dir(CACHE, OmegaConf.to_container(cfg.model.build, resolve=True))
    if not folder.is_dir():
        xgen("pretrain", "model=tiny", *MICRO_MODEL, "hydra.run.dir=" + str(OUT / "runs" / "pretrain-micro"))
    return folder


# The published shapes (config.json of google/mt5-small and google/mt5-base): gated-GELU, an output
# layer of its own (tie_word_embeddings false; mt5-small is about 300M parameters, 172M if tied).
MT5_SMALL = dict(vocab_size=250112, d_model=512, d_kv=64, d_ff=1024, num_layers=8, num_decoder_layers=8, num_heads=6)
MT5_BASE = dict(vocab_size=250112, d_model=768, d_kv=64, d_ff=2048, num_layers=12, num_decoder_layers=12, num_heads=12)


def mt5_architecture(shape: dict, seed: int = 0):
    """A randomly initialised MT5ForConditionalGeneration of `shape`, untied as published (transformers 5's
    MT5Config would tie it: xgen_cli.modeling.backbone.new_untied)."""
    from transformers import MT5Config

    from xgen_cli.modeling.backbone import new_untied

    config = MT5Config(**shape, feed_forward_proj="gated-gelu", decoder_start_token_id=0, pad_token_id=0,
                       eos_token_id=1)
    return new_untied(config, seed)
