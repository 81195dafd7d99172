"""Print finished runs' per-language metrics side by side (one table per metric, as Table 8).

`xgen table runs=[outputs/train/.../run1,outputs/eval/.../run2] selection=target`. Each run is
labelled by its method (or baseline), with the model size and seed when that tells runs apart.
The full table engine (paper tables 8, 10, 11, seeds, std) comes with a later issue.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from xgen_cli.commands._app import xgen_app
from xgen_cli.errors import XgenError
from xgen_cli.runs.table import format_language_table, load_run, method_label


def run_label(identity: dict, run_dir: Path) -> str:
    if identity.get("baseline"):
        return identity["baseline"]
    if identity.get("method"):
        return f"{method_label(identity)} {identity.get('model', '')} s{identity.get('seed', 0)}".strip()
    return run_dir.name


@xgen_app("table")
def main(cfg: DictConfig) -> None:
    if not cfg.runs:
        raise XgenError("no runs given: xgen table runs=[<run dir>,<run dir>]")
    summaries = {}
    for path in map(Path, cfg.runs):
        summary, _, run_json = load_run(path)
        label = run_label(run_json.get("identity") or {}, path)
        while label in summaries:
            label += "'"
        summaries[label] = summary
    langs = list(cfg.langs) if cfg.langs else None
    print(format_language_table(summaries, selection=cfg.selection, langs=langs), end="")
