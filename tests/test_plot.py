"""`xgen plot`: every figure is written as a non-empty PNG and PDF from synthetic run folders."""

from __future__ import annotations

import pytest
from run_folders import baseline_identity, identity, write_run

from xgen_cli.errors import XgenError
from xgen_cli.runs.figures import FIGURES, fig8, plot
from xgen_cli.runs.frame import load_runs

LANGS = ("en", "fr", "ru", "vi", "th")


def _curve(top: float, steps=(5000, 10000, 15000)) -> dict[int, dict[str, dict]]:
    return {step: {lang: {"sp_rouge": top * k / len(steps) - i, "ascii": 10.0 * k}
                   for i, lang in enumerate(LANGS)} for k, step in enumerate(steps, start=1)}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep")
    for size, scale in (("base", 0.5), ("xxl", 1.0)):
        for seed in range(2):
            for name, changes in {"prompt": {}, "model": {"method": "model"}, "mix": {"mixing": "unsup"},
                                  "fp": {"method": "fp", "stage1": "/s1"}}.items():
                write_run(root / f"{size}-{name}-s{seed}", identity(model=size, seed=seed, **changes), {},
                          curve=_curve(40 * scale + seed + len(name)))
            for length in (1, 10, 1000):
                write_run(root / f"{size}-prompt{length}-s{seed}", identity(model=size, seed=seed, prompt_length=length),
                          {lang: 30.0 * scale + length ** 0.2 + seed for lang in LANGS})
    write_run(root / "lead64", baseline_identity(), {lang: 18.0 for lang in LANGS}, step=0)
    return root


@pytest.mark.parametrize("figure", [f for f in FIGURES if f != "fig8"])
def test_each_figure_writes_png_and_pdf(sweep, tmp_path, figure):
    paths = plot(figure, load_runs([sweep]), tmp_path / "figures")
    assert [p.name for p in paths] == [f"{figure}.png", f"{figure}.pdf"]
    png, pdf = (p.read_bytes() for p in paths)
    assert png.startswith(b"\x89PNG") and len(png) > 10_000 and pdf.startswith(b"%PDF")


def test_fig8_clusters_learned_prompts(tmp_path):
    import torch

    generator = torch.Generator().manual_seed(0)
    family = {"a": torch.randn(1, 16, generator=generator), "b": torch.randn(1, 16, generator=generator)}
    for k, lang in enumerate(("ru", "uk", "th", "lo")):
        run = write_run(tmp_path / lang, identity(train_lang=lang, prompt_length=1), {lang: 10.0})
        prompt = family["a" if k < 2 else "b"] + 0.1 * torch.randn(1, 16, generator=generator)
        (run / "checkpoints").mkdir()
        torch.save({"state_dict": {"prompt.parts.task": prompt}}, run / "checkpoints" / "last.ckpt")
    runs = load_runs([tmp_path])
    paths = plot("fig8", runs, tmp_path / "figures")
    assert [p.suffix for p in paths] == [".png", ".pdf"]
    # The heatmap's rows follow the clustering: each family's two prompts side by side.
    order = [label.get_text() for label in fig8(runs).axes[1].get_yticklabels()]
    assert sorted(order) == ["LO", "RU", "TH", "UK"]
    assert {frozenset(order[:2]), frozenset(order[2:])} == {frozenset({"RU", "UK"}), frozenset({"TH", "LO"})}


def test_figure_errors_name_what_is_missing(sweep, tmp_path):
    runs = load_runs([sweep / "lead64"])
    with pytest.raises(XgenError, match="fig8 needs two or more runs with a learned prompt"):
        plot("fig8", runs, tmp_path)
    with pytest.raises(XgenError, match="this figure needs PROMPT"):
        plot("fig2", runs, tmp_path)
    with pytest.raises(XgenError, match="unknown figure 'fig5'"):
        plot("fig5", runs, tmp_path)


def test_plot_command_prints_where_the_files_land(xgen, sweep, tmp_path):
    out = xgen("plot", f"runs=[{sweep}]", "figure=fig2", f"out={tmp_path}").stdout.split()
    assert out == [str(tmp_path / "fig2.png"), str(tmp_path / "fig2.pdf")]
    bad = xgen("plot", f"runs=[{sweep}]", "figure=fig2c", "sizes=small", f"out={tmp_path}", check=False)
    assert bad.returncode == 2 and "fig2c needs PROMPT runs of two or more prompt lengths at SMALL" in bad.stderr
