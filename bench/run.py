"""`make bench` (python -m bench.run): every benchmark, then outputs/bench/results.json (and
results.md, the table as README shows it) and a printed table.

python -m bench.run [--quick] [--only name,name] [--out DIR]
--quick runs each benchmark on a minimal size (what tests/test_bench.py does); --only picks
benchmarks by module name (training, eval_throughput, sp_rouge, postprocess, cli_startup, table, threads,
data_memory). gpu_prompt_tuning.py and gpu_fsdp.py are not run here: they need a GPU (see their
docstrings; bench/reference/ holds what they measured on an H200); nor is gpu_end_to_end.sh, the
CLI's demo steps on a GPU (prepared, not yet run).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from pathlib import Path

from bench.common import OUT, machine

# Cheapest first, so a broken environment fails in seconds.
BENCHMARKS = ("cli_startup", "sp_rouge", "postprocess", "table", "eval_throughput", "training", "threads", "data_memory")


def table(results: list[dict]) -> str:
    header = f"{'benchmark':<72} {'xgen':>10} {'baseline':>10} {'ratio':>7}  {'units':<10} {'target':<22} met"
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(f"{r['name'][:72]:<72} {r['xgen']:>10.4g} {r['baseline']:>10.4g} {r['ratio']:>7.2f}  "
                     f"{r['units']:<10} {r['target'][:22]:<22} {'yes' if r['met'] else 'NO'}")
    return "\n".join(lines)


def markdown(results: list[dict]) -> str:
    """The table as README's "Performance" section shows it."""
    lines = ["| benchmark | xgen | baseline | ratio | target | met |", "|---|---|---|---|---|---|"]
    for r in results:
        unit = f" {r['units']}"
        lines.append(f"| {r['name']} ({r['precision']}) | {r['xgen']:.4g}{unit} | {r['baseline']:.4g}{unit} "
                     f"({r['baseline_name']}) | {r['ratio']:.2f} | {r['target']} | {'yes' if r['met'] else 'no'} |")
    return "\n".join(lines) + "\n"


def recorded_gpu_rows(out: Path) -> list[dict]:
    """The GPU benchmark's entry: from `out` when gpu_prompt_tuning.py wrote it there, else the one
    recorded in bench/reference/; marked with where and when it came from."""
    fresh, recorded = out / "gpu_results.json", Path(__file__).parent / "reference" / "gpu_prompt_tuning_h200.json"
    source = fresh if fresh.is_file() else recorded
    if not source.is_file():
        return []
    row = json.loads(source.read_text())
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(source.stat().st_mtime))
    return [dict(row, benchmark="gpu_prompt_tuning", notes=f"not measured in this run: {source.name} ({when}), "
                 f"on {row['inputs'].get('device', 'a GPU')}")]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run")
    parser.add_argument("--quick", action="store_true", help="minimal sizes (a smoke test, not a measurement)")
    parser.add_argument("--only", default="", help="comma-separated benchmark modules")
    parser.add_argument("--out", default=str(OUT), help="where results.json goes")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}: choose from {', '.join(BENCHMARKS)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results, started = [], time.perf_counter()
    for name in names:
        print(f"== {name}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        for row in importlib.import_module(f"bench.{name}").run(args.quick, out):
            results.append(dict(row, benchmark=name, seconds=round(time.perf_counter() - start, 1)))
        # Written after each benchmark: an interrupted run keeps what it measured.
        report = {"machine": machine(), "quick": args.quick, "seconds": round(time.perf_counter() - started, 1),
                  "results": results}
        (out / "results.json").write_text(json.dumps(report, indent=1) + "\n")
        (out / "results.md").write_text(markdown(results))
    if not args.only:  # item 11 needs a GPU: its last measurement, marked as recorded elsewhere
        results += recorded_gpu_rows(out)
        report["results"] = results
        (out / "results.json").write_text(json.dumps(report, indent=1) + "\n")
        (out / "results.md").write_text(markdown(results))
    print(table(results))
    print(f"\n{len(results)} results in {report['seconds']:.0f}s on {report['machine']['cpu']} "
          f"({report['machine']['cores']} cores, torch {report['machine']['torch']}): {out / 'results.json'}")


if __name__ == "__main__":
    main()
