"""Draw the paper's figures (fig2, fig2c, fig3, fig4, fig6, fig8) from run folders as PNG and PDF.

`xgen plot runs=[outputs/multirun/2026-12-01] figure=fig2` writes `<out>/fig2.png` and
`<out>/fig2.pdf` (out=outputs/figures by default) and prints their paths. Headless: matplotlib's
Agg canvases, no display. What each figure shows: xgen_cli/runs/figures.py.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from xgen_cli.commands._app import xgen_app
from xgen_cli.errors import XgenError


@xgen_app("plot")
def main(cfg: DictConfig) -> None:
    from xgen_cli.runs.figures import plot
    from xgen_cli.runs.frame import load_runs

    if not cfg.runs:
        raise XgenError("no runs given: xgen plot runs=[<run dir or sweep root>,...] figure=fig2")
    langs = list(cfg.langs) if cfg.langs else None
    sizes = OmegaConf.to_container(cfg.sizes) if OmegaConf.is_list(cfg.sizes) else ([cfg.sizes] if cfg.sizes else None)
    runs = load_runs(list(cfg.runs))
    for path in plot(cfg.figure, runs, Path(cfg.out), selection=cfg.select, langs=langs, sizes=sizes):
        print(path)
    if runs.unfinished:
        print(f"not finished, not drawn ({len(runs.unfinished)} run(s)):")
        print("\n".join(f"  {u.line()}" for u in runs.unfinished))
