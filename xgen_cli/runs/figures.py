"""The paper's figures from run folders (paper.md, "The paper's tables and figures"), drawn with
matplotlib's object API on Agg canvases: headless, no pyplot state, no display needed.

- fig2: (a) SP-RG and (b) LID_XX against model size, a line per language, PROMPT solid vs MODEL
  dashed (the rows of table8).
- fig2c: SP-RG against prompt length L (log axis), a line per language, at one size.
- fig3: learning curves from metrics.jsonl: SP-RG and ASCII per evaluated step, PROMPT vs MODEL.
- fig4: the baselines as grouped bars per language, at one size (LEAD-64 beside it).
- fig6: the remedies as grouped bars per language, one panel per size (two sizes).
- fig8: clustered heatmap of cosine similarities between the runs' learned prompts (reads
  checkpoints/last.ckpt; imports torch).
Seeds are averaged and their std drawn as error bars; the same checks as the tables apply (runs
in one point may differ in their seed only).
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from xgen_cli.errors import XgenError
from xgen_cli.runs.frame import LOCATION_KEYS, Runs
from xgen_cli.runs.grid import aggregate, display, sort_key
from xgen_cli.runs.layouts import PROMPT_LENGTH, rows_of
from xgen_cli.runs.run_dir import RunDir

FIGURES = ("fig2", "fig2c", "fig3", "fig4", "fig6", "fig8")
WIDTH = 3.3  # inches: one column of a two-column paper
STYLE = {"font.size": 7, "axes.titlesize": 7, "axes.labelsize": 7, "legend.fontsize": 6,
         "xtick.labelsize": 6, "ytick.labelsize": 6, "lines.linewidth": 1.0, "lines.markersize": 3}
METHOD_STYLE = {"PROMPT": ("-", "o"), "MODEL": ("--", "s")}


def plot(name: str, runs: Runs, out_dir: Path, selection: str = "target", langs: list[str] | None = None,
         sizes: list[str] | None = None) -> list[Path]:
    """Draw figure `name` and write it as PNG and PDF into `out_dir`; returns the two paths."""
    import matplotlib

    if name not in FIGURES:
        raise XgenError(f"unknown figure {name!r}: use one of {', '.join(FIGURES)}")
    with matplotlib.rc_context(STYLE):
        fig = fig8(runs) if name == "fig8" else draw(name, runs, selection, langs, sizes)
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = [out_dir / f"{name}.png", out_dir / f"{name}.pdf"]
        fig.savefig(paths[0], dpi=300)
        fig.savefig(paths[1])
    return paths


def draw(name: str, runs: Runs, selection: str, langs: list[str] | None, sizes: list[str] | None) -> Figure:
    frame = runs.frame[runs.frame["selection"] == selection]
    if langs:
        frame = frame[frame["lang"].isin(langs)]
    if frame.empty:
        raise XgenError(f"no finished run has a {selection!r} selection in these languages: nothing to plot")
    return {"fig2": fig2, "fig2c": fig2c, "fig3": fig3, "fig4": fig4, "fig6": fig6}[name](frame, runs, sizes)


def _points(frame, rows, metric, runs: Runs) -> dict[tuple, tuple[float, float]]:
    """{(row values..., lang): (mean, std or 0)} over seeds."""
    row_values, columns, cells = aggregate(frame, rows, ["lang"], [metric], runs.identity_keys)
    out = {}
    for (i, j), cell in cells.items():
        if cell.mean is not None:
            out[(*row_values[i], columns[j].lang)] = (cell.mean, cell.std or 0.0)
    return out


def _langs(frame) -> list[str]:
    return sorted(set(frame["lang"]), key=lambda lang: sort_key("lang", lang))


def _colors(langs: list[str]) -> dict[str, str]:
    return {lang: f"C{k % 10}" for k, lang in enumerate(langs)}


def _require(frame, what: str):
    if frame.empty:
        raise XgenError(f"no runs to draw: this figure needs {what}")
    return frame


def _largest(frame, sizes: list[str] | None, need: str = "") -> str:
    present = sorted({s for s in frame["size"] if isinstance(s, str)}, key=lambda s: sort_key("size", s))
    if sizes:
        return sizes[-1]
    if not present:
        raise XgenError(f"no sized runs to draw{need}")
    return present[-1]


def fig2(frame, runs: Runs, sizes) -> Figure:
    frame = _require(rows_of("table8", frame), "PROMPT (L=100) and MODEL runs")
    sp = _points(frame, ["size", "method"], "sp_rouge", runs)
    lid = _points(frame, ["size", "method"], "lid_target", runs)
    order = sorted({k[0] for k in sp}, key=lambda s: sort_key("size", s))
    langs, colors = _langs(frame), _colors(_langs(frame))
    fig = Figure(figsize=(WIDTH, 4.2), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    source = runs.source_lang
    for ax, points, label in ((axes[0], sp, "(a) SP-RG"), (axes[1], lid, "(b) LID_XX")):
        for method, (line, marker) in METHOD_STYLE.items():
            for lang in langs:
                if points is lid and lang == source:
                    continue  # the source language's own ID is no measure of forgetting
                xs = [k for k, size in enumerate(order) if (size, method, lang) in points]
                if not xs:
                    continue
                ys = [points[(order[k], method, lang)] for k in xs]
                ax.errorbar(xs, [y for y, _ in ys], yerr=[e for _, e in ys], color=colors[lang], linestyle=line,
                            marker=marker, capsize=1.5)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[1].set_xticks(range(len(order)), [display(s, "size") for s in order])
    axes[1].set_xlabel("model size (mT5)")
    _legend(fig, axes[0], langs, colors)
    return fig


def _legend(fig, ax, langs, colors, methods=("PROMPT", "MODEL")) -> None:
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=colors[lang], label=display(lang, "lang")) for lang in langs]
    handles += [Line2D([], [], color="black", linestyle=METHOD_STYLE[m][0], marker=METHOD_STYLE[m][1], label=m)
                for m in methods]
    ax.legend(handles=handles, ncols=min(len(handles), 5), loc="lower center", bbox_to_anchor=(0.5, 1.02),
              frameon=False, handlelength=1.8, columnspacing=0.8)


def fig2c(frame, runs: Runs, sizes) -> Figure:
    frame = rows_of("table10", frame)
    frame = _require(frame[frame["base"] == "PROMPT"], "PROMPT runs of several prompt lengths")
    size = _largest(frame, sizes)
    frame = frame[frame["size"] == size]
    points = _points(frame, ["prompt_length"], "sp_rouge", runs)
    if len({k[0] for k in points}) < 2:
        raise XgenError(f"fig2c needs PROMPT runs of two or more prompt lengths at {display(size, 'size')} "
                        "(xgen train method=prompt method.prompt_length=1,10,100,1000 -m)")
    langs, colors = _langs(frame), _colors(_langs(frame))
    fig = Figure(figsize=(WIDTH, 2.4), layout="constrained")
    ax = fig.subplots()
    for lang in langs:
        xs = sorted(k[0] for k in points if k[1] == lang)
        ax.errorbar(xs, [points[(x, lang)][0] for x in xs], yerr=[points[(x, lang)][1] for x in xs],
                    color=colors[lang], marker="o", capsize=1.5, label=display(lang, "lang"))
    ax.set_xscale("log")
    ax.set_xlabel(f"prompt length L ({display(size, 'size')})")
    ax.set_ylabel("SP-RG")
    ax.grid(alpha=0.3)
    ax.legend(ncols=min(len(langs), 6), loc="lower center", bbox_to_anchor=(0.5, 1.02), frameon=False)
    return fig


def fig3(frame, runs: Runs, sizes) -> Figure:
    frame = _require(rows_of("table8", frame), "PROMPT (L=100) and MODEL runs")
    size = _largest(frame, sizes)
    frame = frame[frame["size"] == size]
    langs, colors = _langs(frame), _colors(_langs(frame))
    # {(method, lang, step): [value per seed]} from each run's metrics.jsonl
    curves: dict[str, dict[tuple, list[float]]] = {"sp_rouge": {}, "ascii": {}}
    for run, method in frame[["run", "method"]].drop_duplicates().itertuples(index=False):
        for row in RunDir(run).read_metrics():
            if row.get("stage") != "main" or row.get("split") != "validation" or row.get("lang") not in langs:
                continue
            for metric, points in curves.items():
                if row.get(metric) is not None:
                    points.setdefault((method, row["lang"], row["step"]), []).append(float(row[metric]))
    fig = Figure(figsize=(WIDTH, 4.2), layout="constrained")
    axes = fig.subplots(2, 1, sharex=True)
    for ax, points, label in zip(axes, curves.values(), ("SP-RG", "ASCII (%)"), strict=True):
        for method, (line, _) in METHOD_STYLE.items():
            for lang in langs:
                steps = sorted(step for m, lang_, step in points if m == method and lang_ == lang)
                if steps:
                    means = [sum(points[(method, lang, s)]) / len(points[(method, lang, s)]) for s in steps]
                    ax.plot(steps, means, color=colors[lang], linestyle=line, marker=".")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    axes[1].set_xlabel(f"training step ({display(size, 'size')}; mean over seeds)")
    methods = tuple(m for m in METHOD_STYLE if m in set(frame["method"]))
    _legend(fig, axes[0], langs, colors, methods)
    return fig


def _bars(ax, points: dict[tuple, tuple[float, float]], rows: list[tuple], labels: list[str], langs: list[str],
          colors: dict[str, str]):
    width = 0.8 / max(len(rows), 1)
    for k, (row, label) in enumerate(zip(rows, labels, strict=True)):
        xs = [i for i, lang in enumerate(langs) if (*row, lang) in points]
        ys = [points[(*row, langs[i])] for i in xs]
        ax.bar([x - 0.4 + width * (k + 0.5) for x in xs], [y for y, _ in ys], width, yerr=[e for _, e in ys],
               label=label, color=colors[label], error_kw={"elinewidth": 0.6, "capsize": 1})
    ax.set_xticks(range(len(langs)), [display(lang, "lang") for lang in langs])
    ax.set_ylabel("SP-RG")
    ax.grid(axis="y", alpha=0.3)


def fig4(frame, runs: Runs, sizes) -> Figure:
    frame = _require(rows_of("baselines", frame), "baseline, PROMPT or MODEL runs")
    size = _largest(frame, sizes)
    frame = frame[(frame["size"] == size) | frame["size"].isna()]
    points = _points(frame, ["method"], "sp_rouge", runs)
    rows = sorted({(k[0],) for k in points}, key=lambda r: sort_key("method", r[0]))
    langs = _langs(frame)
    fig = Figure(figsize=(WIDTH, 2.4), layout="constrained")
    ax = fig.subplots()
    _bars(ax, points, rows, [r[0] for r in rows], langs, _colors([r[0] for r in rows]))
    ax.set_title(f"baselines at {display(size, 'size')}")
    ax.legend(ncols=min(len(rows), 4), loc="lower center", bbox_to_anchor=(0.5, 1.1), frameon=False)
    return fig


def fig6(frame, runs: Runs, sizes) -> Figure:
    frame = rows_of("table11", frame)
    # The plain PROMPT bar at the paper's default length, not the prompt-length ablation's runs.
    frame = _require(frame[(frame["base"] != "PROMPT") | (frame["remedy"] != "") |
                           (frame["prompt_length"] == PROMPT_LENGTH)], "PROMPT / MODEL runs with remedies")
    present = sorted({s for s in frame["size"] if isinstance(s, str)}, key=lambda s: sort_key("size", s))
    chosen = list(sizes) if sizes else ([s for s in ("base", "xxl") if s in present] if {"base", "xxl"} <= set(present)
                                       else present[:1] + present[-1:] if len(present) > 1 else present)
    points = _points(frame[frame["size"].isin(chosen)], ["size", "method"], "sp_rouge", runs)
    langs = _langs(frame)
    methods = sorted({m for _, m, _ in points}, key=lambda m: sort_key("method", m))
    colors = _colors(methods)  # one color per method in both panels
    fig = Figure(figsize=(WIDTH, 2.0 * len(chosen) + 0.6), layout="constrained")
    axes = fig.subplots(len(chosen), 1, sharex=True, squeeze=False)[:, 0]
    for ax, size in zip(axes, chosen, strict=True):
        rows = sorted({(s, m) for s, m, _ in points if s == size}, key=lambda r: sort_key("method", r[1]))
        _bars(ax, points, rows, [m for _, m in rows], langs, colors)
        ax.set_title(display(size, "size"))
        ax.legend(ncols=2, fontsize=5, frameon=False, loc="upper right")
    return fig


def fig8(runs: Runs) -> Figure:
    """Cosine similarities of the learned prompts (`prompt.parts.task` of checkpoints/last.ckpt),
    rows and columns ordered by average-linkage clustering on 1 - cosine (prompt_clustering.py)."""
    from xgen_cli.prompt_clustering import cosine_similarities, heatmap, read_prompt

    vectors, names = [], []
    for record in runs.frame.drop_duplicates("run").to_dict("records"):
        ckpt = Path(record["run"]) / "checkpoints" / "last.ckpt"
        vector = read_prompt(ckpt) if ckpt.is_file() else None
        if vector is not None:
            vectors.append(vector)
            names.append(record)
    if len(vectors) < 2:
        raise XgenError("fig8 needs two or more runs with a learned prompt (checkpoints/last.ckpt holding "
                        "prompt.parts.task): give prompt-tuning runs")
    return heatmap(cosine_similarities(vectors), _distinguishing_labels(names, runs.identity_keys))[0]


def _distinguishing_labels(records: list[dict], identity_keys: tuple[str, ...]) -> list[str]:
    """Each run named by the identity keys whose values differ among the runs (train_lang, seed...)."""
    keys = [k for k in ("method", *identity_keys) if k not in LOCATION_KEYS and k != "model"
            and len({str(r.get(k)) for r in records}) > 1] or ["method"]
    return [" ".join(display(r.get(k), k) for k in keys) for r in records]

