"""A Table (grid.py) as markdown, LaTeX (booktabs), CSV or HTML.

Every format carries the preamble (the selection rule first), the footnotes that explain each
mark, and the runs left out. Cells: the mean over seeds with one decimal, as the paper prints;
the std beside it ("43.4 ± 0.4" in markdown/HTML/CSV) or as a subscript (LaTeX "43.4$_{0.4}$").
"""

from __future__ import annotations

import csv
import html
import io

from xgen_cli.runs.grid import MARK_SIGNIFICANT, Cell, Column, Table, display
from xgen_cli.runs.summary import MARK_DEGENERATE

FORMATS = ("md", "latex", "csv", "html")
ROW_HEADERS = {"base": "method", "prompt_length": "L"}  # row-key headers as the paper prints them


def column_headers(table: Table) -> tuple[list[str], list[Column]]:
    return [ROW_HEADERS.get(k, k) for k in table.row_keys], table.columns


def render(table: Table, fmt: str) -> str:
    return {"md": markdown, "latex": latex, "csv": csv_text, "html": html_text}[fmt](table)


def _mean(cell: Cell) -> str:
    return f"{cell.mean:+.1f}" if cell.delta else f"{cell.mean:.1f}"


def _std(cell: Cell) -> str | None:
    return None if cell.std is None else f"{cell.std:.1f}"


def _row_cells(table: Table, i: int) -> list[Cell | None]:
    return [table.cells.get((i, j)) for j in range(len(table.columns))]


def _row_keys(table: Table, row: tuple) -> list[str]:
    return [display(value, key) for key, value in zip(table.row_keys, row, strict=True)]


def _groups(table: Table) -> list[tuple[str, int]]:
    """(column group label, how many columns) for a two-level header: EN over SP-RG and LID_EN."""
    groups: list[tuple[str, int]] = []
    for column in table.columns:
        if groups and groups[-1][0] == column.group:
            groups[-1] = (column.group, groups[-1][1] + 1)
        else:
            groups.append((column.group, 1))
    return groups


# ---- markdown: padded so that it also reads well in a terminal
def _md_cell(cell: Cell | None) -> str:
    if cell is None or cell.mean is None:
        return "-"
    text = _mean(cell) + (f" ± {_std(cell)}" if _std(cell) else "")
    if cell.bold:
        text = f"**{text}**"
    marks = "".join(m for m in cell.marks if not m.startswith("("))
    seeds = " ".join(m for m in cell.marks if m.startswith("("))
    return text + marks + (f" {seeds}" if seeds else "")


def markdown(table: Table) -> str:
    headers, columns = column_headers(table)
    header = headers + [f"{c.group} {c.label}".strip() for c in columns]
    body = [_row_keys(table, row) + [_md_cell(c) for c in _row_cells(table, i)] for i, row in enumerate(table.rows)]
    widths = [max(len(line[k]) for line in [header, *body]) for k in range(len(header))]
    n_keys = len(headers)

    def line(values):
        return "| " + " | ".join(v.ljust(w) if k < n_keys else v.rjust(w)
                                 for k, (v, w) in enumerate(zip(values, widths, strict=True))) + " |"

    rule = "|" + "|".join((":" + "-" * (w + 1)) if k < n_keys else ("-" * (w + 1) + ":")
                          for k, w in enumerate(widths)) + "|"
    out = [f"### {table.preamble[0]}", "", *table.preamble[1:], "", line(header), rule, *map(line, body)]
    if table.footnotes:
        out += ["", *(f"- {note}" for note in table.footnotes)]
    for heading, items in table.below:
        out += ["", heading, *(f"- {item}" for item in items)]
    return "\n".join(out) + "\n"


# ---- LaTeX (booktabs): sizes once per block, a rule between blocks, notes in the caption
_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                  "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}",
                  "±": r"$\pm$", "Δ": r"$\Delta$", "†": r"$^\dagger$", "§": r"\S{}", "<": r"$<$", ">": r"$>$"}
_LATEX_METRICS = {"LID_XX": r"LID\textsubscript{XX}", "LID_EN": r"LID\textsubscript{EN}"}


def _tex(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def _latex_cell(cell: Cell | None) -> str:
    if cell is None or cell.mean is None:
        return "-"
    mean = _mean(cell)
    text = (rf"\textbf{{{mean}}}" if cell.bold else mean) + (f"$_{{{_std(cell)}}}$" if _std(cell) else "")
    for m in cell.marks:
        if m == MARK_SIGNIFICANT:
            text += r"$^\dagger$"
        elif m == MARK_DEGENERATE:
            text += r"\S{}"
        else:
            text += rf"\textsuperscript{{{m}}}"
    return text


def latex(table: Table) -> str:
    headers, columns = column_headers(table)
    n_keys = len(headers)
    groups = _groups(table)
    out = ["% " + line for line in table.preamble]
    out += [r"\begin{table}[t]", r"\centering", r"\small",
            r"\begin{tabular}{" + "l" * n_keys + "".join(" " + "r" * n for _, n in groups) + "}", r"\toprule"]
    if any(group for group, _ in groups):
        spans, rules, start = [], [], n_keys + 1
        for group, n in groups:
            spans.append(rf"\multicolumn{{{n}}}{{c}}{{{_tex(group)}}}" if n > 1 else _tex(group))
            rules.append(rf"\cmidrule(lr){{{start}-{start + n - 1}}}")
            start += n
        out.append(" & " * n_keys + " & ".join(spans) + r" \\")
        out.append(" ".join(rules))
    labels = [_LATEX_METRICS.get(c.label, _tex(c.label)) for c in columns]
    out.append(" & ".join([_tex(h) for h in headers] + labels) + r" \\")
    out.append(r"\midrule")
    blocks = table.blocks()
    for b, block in enumerate(blocks):
        if b:
            out.append(r"\midrule")
        for k, i in enumerate(block):
            keys = [_tex(v) for v in _row_keys(table, table.rows[i])]
            if k and table.row_keys[:1] == ["size"]:
                keys[0] = ""  # the size is printed once per block
            out.append(" & ".join(keys + [_latex_cell(c) for c in _row_cells(table, i)]) + r" \\")
    out += [r"\bottomrule", r"\end{tabular}"]
    caption = " ".join(line if line.endswith(".") else line + "." for line in [*table.preamble, *table.footnotes])
    out += [rf"\caption{{{_tex(caption)}}}", r"\end{table}"]
    for heading, items in table.below:
        out += ["% " + heading, *(f"%   {item}" for item in items)]
    return "\n".join(out) + "\n"


# ---- CSV: long (one line per cell), notes as leading "#" lines (pandas: read_csv(comment="#"))
def csv_text(table: Table) -> str:
    buffer = io.StringIO()
    for line in [*table.preamble, *table.footnotes]:
        buffer.write(f"# {line}\n")
    for heading, items in table.below:
        buffer.write(f"# {heading}\n")
        buffer.writelines(f"#   {item}\n" for item in items)
    writer = csv.writer(buffer, lineterminator="\n")
    col_keys = list(table.columns[0].keys) if table.columns else []
    writer.writerow([*table.row_keys, *col_keys, "metric", "mean", "std", "seeds", "marks", "bold"])
    for i, row in enumerate(table.rows):
        for j, column in enumerate(table.columns):
            cell = table.cells.get((i, j))
            if cell is None or cell.mean is None:
                continue
            writer.writerow([*(display(v, k) for k, v in zip(table.row_keys, row, strict=True)),
                             *(display(v, k) for k, v in zip(column.keys, column.key, strict=True)),
                             column.metric, f"{cell.mean:.4f}", "" if cell.std is None else f"{cell.std:.4f}",
                             cell.seeds, " ".join(cell.marks), int(cell.bold)])
    return buffer.getvalue()


# ---- HTML: a standalone fragment (a table with a two-level header, then the notes)
def _html_cell(cell: Cell | None) -> str:
    if cell is None or cell.mean is None:
        return "-"
    text = html.escape(_mean(cell)) + (f" ± {_std(cell)}" if _std(cell) else "")
    if cell.bold:
        text = f"<b>{text}</b>"
    return text + "".join(f"<sup>{html.escape(m)}</sup>" for m in cell.marks)


def html_text(table: Table) -> str:
    headers, columns = column_headers(table)
    out = [f"<h3>{html.escape(table.preamble[0])}</h3>", *(f"<p>{html.escape(p)}</p>" for p in table.preamble[1:]),
           "<table>", "<thead>"]
    groups = _groups(table)
    out.append("<tr>" + f'<th colspan="{len(headers)}"></th>' +
               "".join(f'<th colspan="{n}">{html.escape(g)}</th>' for g, n in groups) + "</tr>")
    out.append("<tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) +
               "".join(f"<th>{html.escape(c.label)}</th>" for c in columns) + "</tr>")
    out += ["</thead>", "<tbody>"]
    for i, row in enumerate(table.rows):
        out.append("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in _row_keys(table, row)) +
                   "".join(f'<td align="right">{_html_cell(c)}</td>' for c in _row_cells(table, i)) + "</tr>")
    out += ["</tbody>", "</table>"]
    if table.footnotes:
        out += ["<ul>", *(f"<li>{html.escape(n)}</li>" for n in table.footnotes), "</ul>"]
    for heading, items in table.below:
        out.append(f"<p>{html.escape(heading)}</p>")
        if items:
            out += ["<ul>", *(f"<li>{html.escape(item)}</li>" for item in items), "</ul>"]
    return "\n".join(out) + "\n"
