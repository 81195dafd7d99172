"""`xgen table`: the paper's tables from run folders with known numbers (golden markdown and LaTeX),
the paper's published XXL numbers read back as printed, partial sweeps, the errors, the default
per-metric blocks, and a few hundred runs in one call."""

from __future__ import annotations

import io
import subprocess
import sys

import pandas as pd
import pytest
from run_folders import (
    PAPER_XXL,
    PAPER_XXL_LID,
    baseline_identity,
    identity,
    write_paper_xxl,
    write_run,
    write_unfinished,
)


def m(sp, lid_xx=90.0, lid_en=2.0, **extra):
    return dict(sp_rouge=sp, lid_target=lid_xx, lid_en=lid_en, **extra)


@pytest.fixture
def sweep(tmp_path):
    """BASE: PROMPT and MODEL with 2 seeds, PROMPT+MIX-UNSUP with seed 1 crashed, MODEL seed 1
    degenerate on TH (10% distinct), LEAD-64."""
    for seed in range(2):
        write_run(tmp_path / f"prompt-s{seed}", identity(model="base", seed=seed),
                  {"en": m(30.0 + seed, lid_xx=95.0), "ru": m(14.0 + seed, 80.0 + 2 * seed, 5.0), "th": m(17.0 + seed, 70.0, 10.0)})
        write_run(tmp_path / f"model-s{seed}", identity(model="base", method="model", seed=seed),
                  {"en": m(33.0 + 0.4 * seed, lid_xx=97.0), "ru": m(15.2 + 0.4 * seed, 40.0 + 4 * seed, 30.0),
                   "th": m(17.5 + seed, 20.0, 60.0, **({"distinct": 10.0} if seed else {}))})
    write_run(tmp_path / "mix-s0", identity(model="base", seed=0, mixing="unsup", mixing_rate=0.01),
              {"en": m(29.0, lid_xx=94.0), "ru": m(16.5, 85.0, 4.0), "th": m(21.0, 75.0, 8.0)})
    write_unfinished(tmp_path / "mix-s1", identity(model="base", seed=1, mixing="unsup", mixing_rate=0.01), "crashed",
                     error="RuntimeError: CUDA error: an illegal memory access", host="node7", pid=4242)
    write_run(tmp_path / "lead64", baseline_identity(),
              {"en": m(20.7, lid_xx=99.0), "ru": m(16.5, 99.0, 0.0), "th": m(15.9, 99.0, 0.0)}, step=0)
    return tmp_path


def table(xgen, root, *args) -> str:
    return xgen("table", f"runs=[{root}]", *args).stdout.replace(str(root), "<root>")


TABLE11_MD = """\
### table11: remedies for catastrophic forgetting per size (paper Table 11)

selection: target = best checkpoint per target language, on its own SP-ROUGE (paper)
values x100; a cell is the mean over seeds ± their sample std; - = not evaluated
SP-RG counts the pieces of each run's own backbone's SentencePiece model (mT5)

| size | method | remedy    | L   |       EN SP-RG | EN LID_EN |       RU SP-RG |     RU LID_EN |      RU LID_XX |       TH SP-RG |     TH LID_EN |      TH LID_XX |
|:-----|:-------|:----------|:----|---------------:|----------:|---------------:|--------------:|---------------:|---------------:|--------------:|---------------:|
| BASE | PROMPT |           | 100 |     30.5 ± 0.7 | 2.0 ± 0.0 |     14.5 ± 0.7 |     5.0 ± 0.0 |     81.0 ± 1.4 |     17.5 ± 0.7 |    10.0 ± 0.0 |     70.0 ± 0.0 |
| BASE | PROMPT | MIX-UNSUP | 100 |     29.0 (n=1) | 2.0 (n=1) | **16.5** (n=1) | **4.0** (n=1) | **85.0** (n=1) | **21.0** (n=1) | **8.0** (n=1) | **75.0** (n=1) |
| BASE | MODEL  |           | -   | **33.2 ± 0.3** | 2.0 ± 0.0 |     15.4 ± 0.3 |    30.0 ± 0.0 |     42.0 ± 2.8 |    18.0 ± 0.7§ |   60.0 ± 0.0§ |    20.0 ± 0.0§ |

- significance not tested for 6 SP-RG cell(s): no predictions file at the selected step (6)
- (n=k): the mean of k seeds, where the table's other cells have 2; missing runs are listed below or were not given
- §: a run in this cell made degenerate predictions (distinct < 50% or empty > 20%): cld3 gives confident labels to junk, so LID and ASCII mean little here
- bold: the best value of its column within each size (LID_EN: the lowest, except in the EN column); degenerate cells never count as best

not finished, not in the table (1 run(s)):
- <root>/mix-s1: crashed (RuntimeError: CUDA error: an illegal memory access; host node7, pid 4242)

finished runs that are not rows of table11 (1): LEAD-64 x1
"""

TABLE11_LATEX = """\
% table11: remedies for catastrophic forgetting per size (paper Table 11)
% selection: target = best checkpoint per target language, on its own SP-ROUGE (paper)
% values x100; a cell is the mean over seeds ± their sample std; - = not evaluated
% SP-RG counts the pieces of each run's own backbone's SentencePiece model (mT5)
\\begin{table}[t]
\\centering
\\small
\\begin{tabular}{llll rr rrr rrr}
\\toprule
 &  &  &  & \\multicolumn{2}{c}{EN} & \\multicolumn{3}{c}{RU} & \\multicolumn{3}{c}{TH} \\\\
\\cmidrule(lr){5-6} \\cmidrule(lr){7-9} \\cmidrule(lr){10-12}
size & method & remedy & L & SP-RG & LID\\textsubscript{EN} & SP-RG & LID\\textsubscript{EN} & LID\\textsubscript{XX} & SP-RG & LID\\textsubscript{EN} & LID\\textsubscript{XX} \\\\
\\midrule
BASE & PROMPT &  & 100 & 30.5$_{0.7}$ & 2.0$_{0.0}$ & 14.5$_{0.7}$ & 5.0$_{0.0}$ & 81.0$_{1.4}$ & 17.5$_{0.7}$ & 10.0$_{0.0}$ & 70.0$_{0.0}$ \\\\
 & PROMPT & MIX-UNSUP & 100 & 29.0\\textsuperscript{(n=1)} & 2.0\\textsuperscript{(n=1)} & \\textbf{16.5}\\textsuperscript{(n=1)} & \\textbf{4.0}\\textsuperscript{(n=1)} & \\textbf{85.0}\\textsuperscript{(n=1)} & \\textbf{21.0}\\textsuperscript{(n=1)} & \\textbf{8.0}\\textsuperscript{(n=1)} & \\textbf{75.0}\\textsuperscript{(n=1)} \\\\
 & MODEL &  & - & \\textbf{33.2}$_{0.3}$ & 2.0$_{0.0}$ & 15.4$_{0.3}$ & 30.0$_{0.0}$ & 42.0$_{2.8}$ & 18.0$_{0.7}$\\S{} & 60.0$_{0.0}$\\S{} & 20.0$_{0.0}$\\S{} \\\\
\\bottomrule
\\end{tabular}
\\caption{table11: remedies for catastrophic forgetting per size (paper Table 11). selection: target = best checkpoint per target language, on its own SP-ROUGE (paper). values x100; a cell is the mean over seeds $\\pm$ their sample std; - = not evaluated. SP-RG counts the pieces of each run's own backbone's SentencePiece model (mT5). significance not tested for 6 SP-RG cell(s): no predictions file at the selected step (6). (n=k): the mean of k seeds, where the table's other cells have 2; missing runs are listed below or were not given. \\S{}: a run in this cell made degenerate predictions (distinct $<$ 50\\% or empty $>$ 20\\%): cld3 gives confident labels to junk, so LID and ASCII mean little here. bold: the best value of its column within each size (LID\\_EN: the lowest, except in the EN column); degenerate cells never count as best.}
\\end{table}
% not finished, not in the table (1 run(s)):
%   <root>/mix-s1: crashed (RuntimeError: CUDA error: an illegal memory access; host node7, pid 4242)
% finished runs that are not rows of table11 (1): LEAD-64 x1
"""

TABLE8_MD = """\
### table8: best SP-RG per language, PROMPT (L=100) vs MODEL and their difference (paper Table 8)

selection: target = best checkpoint per target language, on its own SP-ROUGE (paper)
values x100; a cell is the mean over seeds ± their sample std; - = not evaluated
SP-RG counts the pieces of each run's own backbone's SentencePiece model (mT5)

| size | method |       EN SP-RG |       RU SP-RG |    TH SP-RG |
|:-----|:-------|---------------:|---------------:|------------:|
| BASE | PROMPT |     30.5 ± 0.7 |     14.5 ± 0.7 |  17.5 ± 0.7 |
| BASE | MODEL  | **33.2 ± 0.3** | **15.4 ± 0.3** | 18.0 ± 0.7§ |
| BASE | Δ P-M  |           -2.7 |           -0.9 |       -0.5§ |

- significance not tested for 3 SP-RG cell(s): no predictions file at the selected step (3)
- §: a run in this cell made degenerate predictions (distinct < 50% or empty > 20%): cld3 gives confident labels to junk, so LID and ASCII mean little here
- bold: the best value of its column within each size (LID_EN: the lowest, except in the EN column); degenerate cells never count as best

not finished, not in the table (1 run(s)):
- <root>/mix-s1: crashed (RuntimeError: CUDA error: an illegal memory access; host node7, pid 4242)

finished runs that are not rows of table8 (2): LEAD-64 x1, PROMPT+MIX-UNSUP (BASE) x1
"""


# ---- golden: the rendered text, exactly

def test_table11_markdown_golden(xgen, sweep):
    # Means over 2 seeds with their sample std; PROMPT+MIX-UNSUP has one seed (n=1) because its
    # seed 1 crashed, listed with its reason; MODEL's TH is degenerate (§) and never bold; the best
    # per column is bold (LID_EN: the lowest); LEAD-64 is no row of table11 and is said so.
    assert table(xgen, sweep, "table=table11") == TABLE11_MD


def test_table11_latex_golden(xgen, sweep):
    assert table(xgen, sweep, "table=table11", "format=latex") == TABLE11_LATEX


def test_table8_markdown_golden(xgen, sweep):
    # The delta row is PROMPT minus MODEL, signed, and inherits the degenerate mark.
    assert table(xgen, sweep, "table=table8") == TABLE8_MD


def test_csv_and_html_carry_the_same_cells_and_notes(xgen, sweep):
    text = table(xgen, sweep, "table=table11", "format=csv")
    assert text.startswith("# table11: ") and "# selection: target = " in text and "# §: " in text
    cells = pd.read_csv(io.StringIO(text), comment="#", keep_default_na=False)
    assert list(cells.columns) == ["size", "base", "remedy", "prompt_length", "lang", "metric", "mean", "std", "seeds", "marks", "bold"]
    ru = cells[(cells["lang"] == "RU") & (cells["metric"] == "sp_rouge")].set_index(["base", "remedy"])
    assert ru.loc[("PROMPT", ""), "mean"] == 14.5 and ru.loc[("PROMPT", ""), "seeds"] == 2
    assert ru.loc[("PROMPT", "MIX-UNSUP"), "marks"] == "(n=1)" and ru.loc[("PROMPT", "MIX-UNSUP"), "bold"] == 1
    page = table(xgen, sweep, "table=table11", "format=html")
    assert "<table>" in page and '<th colspan="3">RU</th>' in page and "<b>16.5</b><sup>(n=1)</sup>" in page
    assert "<li>§: a run in this cell made degenerate predictions" in page and "node7" in page


# ---- the paper's own numbers (paper.md, "Published figures") come back as printed

def _md_rows(text: str) -> dict[tuple, dict[str, str]]:
    """{row keys (size, method, ...): {header: cell}} of a markdown table."""
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    n_keys = sum(" " not in h for h in header)  # key headers are one word; value headers "RU SP-RG"
    rows = {}
    for line in lines[1:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[tuple(cells[:n_keys])] = dict(zip(header, cells, strict=True))
    return rows


def test_table10_reads_the_papers_xxl_numbers_as_printed(xgen, tmp_path):
    write_paper_xxl(tmp_path)
    md = table(xgen, tmp_path, "table=table10")
    rows = _md_rows(md)
    for method, per_lang in PAPER_XXL.items():
        row = rows[("XXL", method, "100" if method == "PROMPT" else "-")]
        for lang, (mean, std) in per_lang.items():
            assert row[f"{lang.upper()} SP-RG"].strip("*") == f"{mean:.1f} ± {std:.1f}"
        for lang, lid in PAPER_XXL_LID[method].items():
            assert row[f"{lang.upper()} LID_XX"].strip("*") == f"{lid:.1f} ± 0.0"
    assert rows[("XXL", "PROMPT", "100")]["EN SP-RG"] == "43.4 ± 0.4"
    assert rows[("XXL", "MODEL", "-")]["EN SP-RG"] == "**46.7 ± 0.1**"  # MODEL wins on English only
    assert rows[("XXL", "PROMPT", "100")]["TH SP-RG"] == "**37.4 ± 0.7**"
    assert "(n=" not in md and "§" not in md  # three seeds everywhere, nothing degenerate
    tex = table(xgen, tmp_path, "table=table10", "format=latex")
    assert "XXL & PROMPT & 100 & 43.4$_{0.4}$ & - & \\textbf{37.4}$_{0.2}$ & - & \\textbf{95.9}$_{0.0}$" in tex


# ---- partial and inconsistent sweeps

def test_a_missing_seed_and_an_interrupted_run_are_marked_not_dropped(xgen, tmp_path):
    write_paper_xxl(tmp_path)
    (tmp_path / "model-s2" / "summary.json").unlink()  # as if interrupted before finishing
    write_unfinished(tmp_path / "model-s2", identity(method="model", seed=2), "interrupted", reason="SIGTERM (preempted)")
    rows = _md_rows(md := table(xgen, tmp_path, "table=table10"))
    assert rows[("XXL", "MODEL", "-")]["RU SP-RG"] == "27.0 ± 0.3 (n=2)"  # 26.8 and 27.2
    assert rows[("XXL", "PROMPT", "100")]["RU SP-RG"] == "**29.2 ± 1.0**"
    assert "- (n=k): the mean of k seeds, where the table's other cells have 3" in md
    assert "- <root>/model-s2: interrupted (SIGTERM (preempted)" in md  # then host and pid, where run.json has them


def test_runs_differing_beyond_the_seed_in_one_cell_are_an_error_naming_the_keys(xgen, tmp_path):
    write_run(tmp_path / "a", identity(seed=0, steps=50000), {"ru": 20.0})
    write_run(tmp_path / "b", identity(seed=1, steps=100000, name_or_path="lm-adapted/mt5-xxl"), {"ru": 21.0})
    out = xgen("table", f"runs=[{tmp_path}]", "table=table10", check=False)
    assert out.returncode == 2 and out.stdout == ""
    line = out.stderr.strip()
    assert "\n" not in line and "(size=XXL, method=PROMPT, prompt_length=100, lang=RU)" in line
    assert "steps (100000, 50000)" in line and "name_or_path (-, lm-adapted/mt5-xxl)" in line
    assert "by=[name_or_path,steps]" in line or "by=[steps,name_or_path]" in line
    grouped = _md_rows(table(xgen, tmp_path, "table=table10", "by=[steps]"))
    assert list(grouped) == [("XXL", "PROMPT", "100", "50000"), ("XXL", "PROMPT", "100", "100000")]


def test_two_finished_runs_of_one_seed_are_an_error(xgen, tmp_path):
    write_run(tmp_path / "a", identity(seed=0), {"ru": 20.0})
    write_run(tmp_path / "again", identity(seed=0), {"ru": 21.0})
    out = xgen("table", f"runs=[{tmp_path}]", "table=table10", check=False)
    assert out.returncode == 2 and "two finished runs of seed 0" in out.stderr and "again" in out.stderr


def test_bad_choices_are_one_line_errors(xgen, sweep):
    for args, needle in [(("table=table9",), "unknown table 'table9': use one of table8"),
                         (("table=table10", "format=pdf"), "unknown format 'pdf'"),
                         (("table=table10", "select=best"), "unknown selection 'best'"),
                         (("table=pivot", "rows=[size,colour]"), "unknown key(s) colour"),
                         (("format=latex",), "table=runs prints one text block per metric")]:
        out = xgen("table", f"runs=[{sweep}]", *args, check=False)
        assert out.returncode == 2 and needle in out.stderr and out.stderr.count("\n") == 1, (args, out.stderr)
    out = xgen("table", f"runs=[{sweep}/nowhere]", check=False)
    assert out.returncode == 2 and "does not exist" in out.stderr


# ---- the other tables

def test_baselines_and_pivot(xgen, sweep):
    rows = _md_rows(md := table(xgen, sweep, "table=baselines"))
    assert rows[("LEAD-64", "-")]["RU SP-RG"] == "**16.5**" and rows[("MODEL", "BASE")]["TH SP-RG"] == "18.0 ± 0.7§"
    assert "- no runs of TRANS-TRAIN, TRANS-TEST, MODEL+SUP, MODEL+SUP-ALL" in md
    pivot = table(xgen, sweep, "table=pivot", "rows=[method]", "cols=[lang]", "metric=[sp_rouge,distinct]", "langs=[th]")
    rows = {r[0]: r for r in (tuple(c.strip() for c in line.strip("|").split("|"))
                              for line in pivot.splitlines() if line.startswith("| "))}
    assert rows["method"] == ("method", "TH SP-RG", "TH DISTINCT")
    assert rows["MODEL"] == ("MODEL", "18.0 ± 0.7§", "55.0 ± 63.6§")
    assert rows["PROMPT+MIX-UNSUP"][1] == "**21.0** (n=1)"


def test_select_last_and_source_are_named_in_the_table(xgen, tmp_path):
    write_run(tmp_path / "p", identity(), {}, curve={500: {"en": 40.0, "ru": 10.0}, 1000: {"en": 35.0, "ru": 20.0}})
    last = table(xgen, tmp_path, "table=table10", "select=last", "significance=false")
    assert "selection: last = the final evaluated checkpoint" in last and "35.0" in last and "20.0" in last
    source = table(xgen, tmp_path, "table=table10", "select=source", "significance=false")
    assert "best on EN SP-ROUGE (honest zero-shot)" in source and "40.0" in source and "10.0" in source


# ---- the default: one block per metric, a row per run

def test_plain_list_prints_per_metric_blocks_and_lists_unfinished_runs(xgen, sweep):
    out = xgen("table", f"runs=[{sweep}/prompt-s0,{sweep}/lead64,{sweep}/mix-s1]").stdout
    lines = out.splitlines()
    assert lines[0].startswith("selection: target = best checkpoint per target language")
    assert any(line.split()[:4] == ["SP-RG", "EN", "RU", "TH"] for line in lines)
    assert any(line.split() == ["LEAD-64", "20.7", "16.5", "15.9"] for line in lines)
    assert "not finished, not in the table (1 run(s)):" in out and "mix-s1: crashed (RuntimeError: CUDA error" in out
    everything = xgen("table", f"runs=[{sweep}]").stdout  # a sweep root works the same
    assert "PROMPT base s1" in everything and "PROMPT+MIX-UNSUP base s0" in everything


def test_many_runs_in_one_call(xgen, tmp_path):
    # Completes, and right; no timing assertion (1,000 runs x 18 languages took about 3 s by hand).
    # 200 runs: 4 sizes x 5 methods x 10 seeds.
    methods = [{"method": "prompt"}, {"method": "model"}, {"method": "prompt", "mixing": "unsup"},
               {"method": "model", "mixing": "unsup"}, {"method": "prompt", "prompt_length": 10}]
    for size in ("small", "base", "large", "xl"):
        for k, changes in enumerate(methods):
            for seed in range(10):
                scores = {lang: 10.0 + k + (seed - 4.5) / 10 for lang in ("en", "fr", "ru", "vi", "th")}
                write_run(tmp_path / size / f"m{k}" / f"s{seed}", identity(model=size, seed=seed, **changes), scores)
    rows = _md_rows(table(xgen, tmp_path, "table=table11"))
    assert len(rows) == 4 * 5 and rows[("XL", "MODEL", "", "-")]["TH SP-RG"] == "11.0 ± 0.3"


def test_table_command_imports_no_torch(tmp_path):
    write_paper_xxl(tmp_path)
    code = ("import sys; from xgen_cli.cli import main; "
            f"sys.argv=['xgen','table','runs=[{tmp_path}]','table=table10']\n"
            "try: main()\nexcept SystemExit: pass\nprint('TORCH' if 'torch' in sys.modules else 'NO-TORCH')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "43.4 ± 0.4" in out.stdout and out.stdout.strip().endswith("NO-TORCH")


def test_tables_say_whose_pieces_sp_rouge_counted():
    from xgen_cli.runs.summary import sp_rouge_note

    assert sp_rouge_note(["small", "mt0_xxl"]).endswith("(mT5)")  # mT0 keeps mT5's vocabulary
    mixed = sp_rouge_note(["small", "umt5_small", None])
    assert "(mT5, umT5)" in mixed and "not comparable" in mixed
