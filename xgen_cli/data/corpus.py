"""Corpora: where Examples come from. Each `data=<name>` config points its `_target_` at a builder here
(local files) or in data/hub_corpora.py (corpora read as their publishers ship them on the hub).

Every corpus answers the same two questions: `examples(lang, split)` (labelled Examples, in a fixed
order) and `unlabeled(lang)` (plain text, for pretraining and, later, mixing). The local-directory
form `<dir>/<lang>/{train,validation,test}.jsonl` (+ `unlabeled.jsonl`) is shared by `data=jsonl`,
the demo corpus (written there once, then read like any user corpus) and a local WikiLingua-0 copy.

Users' files come with every flaw text files can have. Each line is read as bytes and decoded on its
own, so a bad byte is reported at its own line; a BOM, CRLF endings, blank lines and a last line
without a newline read as users expect. A bad line (not UTF-8, not JSON, a missing, non-string or
empty field, an id used twice in a split) stops the read with one message naming file:line and the
fix, or, with `data.on_bad_line=skip`, is left out and counted in `corpus.skipped`.
`load_task_data` reads and checks everything a training run needs in one go, before any model is
built, so a bad line costs seconds, not a backbone build.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from xgen_cli.data.example import BadRow, Example, example_from_row, text_from_row
from xgen_cli.errors import XgenError

SPLITS = ("train", "validation", "test")
ON_BAD_LINE = ("error", "skip")
SKIP_HINT = "or set data.on_bad_line=skip to skip bad lines and count them"
_SHOWN = 5  # further bad line numbers named in one message; the rest are only counted


class _Corpus:
    """What every corpus kind shares: the bad-line policy and the tally of lines it skipped."""

    def __init__(self, on_bad_line: str = "error"):
        if on_bad_line not in ON_BAD_LINE:
            raise XgenError(f"data.on_bad_line={on_bad_line} is not one of {', '.join(ON_BAD_LINE)}: "
                            "set data.on_bad_line=error (stop at a bad line) or skip (leave it out, counted)")
        self.on_bad_line = on_bad_line
        self._skipped: dict[str, dict[int, str]] = {}  # file -> {line number: its problem}

    @property
    def skipped(self) -> dict[str, int]:
        """Bad lines left out so far (data.on_bad_line=skip), per file; a line read twice counts once."""
        return {where: len(lines) for where, lines in self._skipped.items()}

    def skipped_summary(self) -> str:
        """One line for the log, '' when nothing was skipped."""
        if not self._skipped:
            return ""
        total = sum(self.skipped.values())
        files = []
        for where, lines in self._skipped.items():
            first = min(lines)
            files.append(f"{len(lines)} in {where} (first, line {first}: {lines[first]})")
        return f"skipped {total} bad line{'s' if total > 1 else ''} (data.on_bad_line=skip): " + ", ".join(files)

    def location(self, lang: str, split: str) -> str:
        raise NotImplementedError

    def _keep_good(self, where: str, items: Iterable[tuple[int, object]], limit: int | None,
                   locate: Callable[[int], str]) -> list:
        """The good items (up to `limit`) of numbered items that are values or BadRows; the bad ones are
        counted (skip) or reported together, first in full, in one XgenError (error)."""
        good, bad = [], []
        for number, item in items:
            if limit is not None and len(good) >= limit:
                break
            if isinstance(item, BadRow):
                bad.append((number, item))
            else:
                good.append(item)
        if bad and self.on_bad_line == "skip":
            lines = self._skipped.setdefault(where, {})
            for number, row in bad:
                lines[number] = row.problem
        elif bad:
            number, first = bad[0]
            message = f"{locate(number)}: {first.problem}: {first.fix}"
            if len(bad) > 1:
                shown = ", ".join(str(n) for n, _ in bad[1:_SHOWN + 1]) + (", ..." if len(bad) > _SHOWN + 1 else "")
                message += f" ({len(bad) - 1} more bad line{'s' if len(bad) > 2 else ''} in this file, at lines {shown})"
            raise XgenError(f"{message}, {SKIP_HINT}")
        return good


def _unique_ids(items: Iterable[tuple[int, object]], locate: Callable[[int], str]) -> Iterator[tuple[int, object]]:
    """Turns the second use of an id within one split into a BadRow naming both lines (the first is kept):
    predictions files and the checkpoint selection are keyed by id, so a repeat silently overwrites."""
    seen: dict[str, int] = {}
    for number, item in items:
        if isinstance(item, Example):
            first = seen.setdefault(item.id, number)
            if first != number:
                item = BadRow(f"id {item.id!r} is already used at {locate(first)}", "give every example of a split its own id")
        yield number, item


def _json_lines(f) -> Iterator[tuple[int, object]]:
    """(line number, parsed JSON or BadRow) for each non-blank line of a file opened in binary mode.

    Binary iteration splits on b"\\n" only, so line numbers match an editor's even when a JSON string
    holds U+2028 or a stray \\r (str.splitlines would split there too).
    """
    for number, raw in enumerate(f, 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            utf16 = " (the file looks like UTF-16)" if number == 1 and raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ""
            yield number, BadRow(f"not UTF-8 (byte 0x{raw[exc.start]:02x} at position {exc.start + 1}){utf16}",
                                 "re-save the file as UTF-8, e.g. iconv -f <its encoding> -t UTF-8")
            continue
        # A BOM opens files saved by Windows editors, and lines of files concatenated from them.
        line = line.removeprefix("\ufeff").rstrip()  # rstrip: \r\n, so an error's column is on this line
        if not line.strip():
            continue
        try:
            # strict=False: a raw tab or other control character inside a string is kept as is,
            # as most JSON writers and readers outside Python's default do.
            yield number, json.loads(line, strict=False)
        except json.JSONDecodeError as exc:
            yield number, BadRow(f"not valid JSON ({exc.msg} at column {exc.colno})", "fix or delete that line")


def _names(folder: Path) -> list[str]:
    try:
        return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    except OSError:  # unreadable: the message then just says it holds nothing we can see
        return []


def _entries(folder: Path, limit: int = 8) -> str:
    """What a folder holds, for messages: 'a.jsonl, en/, fr/' (hidden entries left out)."""
    names = [n + ("/" if (folder / n).is_dir() else "") for n in _names(folder)]
    return (", ".join(names[:limit]) + (f", ... ({len(names)} in all)" if len(names) > limit else "")) or "nothing"


def folder_problem(path: Path, key: str = "data.corpus.path") -> str | None:
    """Why `path` cannot be a corpus folder, naming what its nearest existing parent holds (a typo in the last
    part of a path is the usual cause), or None when it is a folder."""
    path = Path(path).expanduser()
    if path.is_dir():
        return None
    if path.exists():
        return f"{key}={path} is a file, not a folder: point it at the folder holding <lang>/<split>.jsonl"
    parent = path.parent
    while not parent.is_dir() and parent != parent.parent:
        parent = parent.parent
    near = difflib.get_close_matches(path.relative_to(parent).parts[0], _names(parent), n=3)
    seen = f"did you mean {' or '.join(str(parent / n) for n in near)}?" if near else f"{parent.absolute()} holds: {_entries(parent)}"
    return f"{key}={path} does not exist ({seen}): point it at the folder holding <lang>/<split>.jsonl"


class JsonlCorpus(_Corpus):
    """A directory `<root>/<lang>/<split>.jsonl` of {"id", "article", "summary"} lines (+ `unlabeled.jsonl`
    of {"text"} lines). An optional "lang" field must match the folder."""

    def __init__(self, root: str | Path, on_bad_line: str = "error", setting: str = "data.corpus.path"):
        super().__init__(on_bad_line)
        self.root, self.setting = Path(root), setting  # setting: the override that names the folder, for messages
        problem = folder_problem(self.root, setting)
        if problem:
            raise XgenError(problem)

    def languages(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))

    def location(self, lang: str, split: str) -> str:
        return str(self.root / lang / f"{split}.jsonl")

    def missing_languages(self, langs: Iterable[str]) -> list[str]:
        return [lang for lang in dict.fromkeys(langs) if not (self.root / lang).is_dir()]

    def describe(self) -> str:
        """'the corpus at <root> (it has: en, fr)', with a hint when the path is one language's folder."""
        have = ", ".join(self.languages()) or "no language folders"
        if any((self.root / f"{split}.jsonl").is_file() for split in SPLITS):
            have += f"; {self.root} holds <split>.jsonl itself, so {self.setting} should be its parent"
        return f"the corpus at {self.root} (it has: {have})"

    def _file(self, lang: str, name: str) -> Path:
        folder = self.root / lang
        if not folder.is_dir():
            raise XgenError(f"{self.describe()} has no language {lang!r}: add {folder}/ or use a language it has")
        path = folder / name
        if not path.is_file():
            raise XgenError(f"{path} is missing ({folder} holds: {_entries(folder)}): add it, one JSON object per line")
        return path

    def _open(self, path: Path):
        try:
            return path.open("rb")
        except OSError as exc:
            raise XgenError(f"cannot read {path} ({exc.strerror}): make it readable") from None

    def examples(self, lang: str, split: str, limit: int | None = None) -> list[Example]:
        path = self._file(lang, f"{split}.jsonl")

        def locate(number: int) -> str:
            return f"{path}:{number}"

        with self._open(path) as f:
            items = ((n, _checked(example_from_row, row, lang)) for n, row in _json_lines(f))
            return self._keep_good(str(path), _unique_ids(items, locate), limit, locate)

    def unlabeled(self, lang: str, limit: int | None = None) -> list[str]:
        """`unlabeled.jsonl` ({"text"} lines) if present, else the training articles."""
        folder = self.root / lang
        path = folder / "unlabeled.jsonl"
        if not path.is_file():
            if folder.is_dir() and not (folder / "train.jsonl").is_file():
                raise XgenError(f"{folder} holds neither unlabeled.jsonl nor train.jsonl (it holds: {_entries(folder)}): "
                                'add unlabeled.jsonl, one {"text": ...} object per line')
            return [e.article for e in self.examples(lang, "train", limit)]

        def locate(number: int) -> str:
            return f"{path}:{number}"

        with self._open(path) as f:
            items = ((n, _checked(text_from_row, row)) for n, row in _json_lines(f))
            return self._keep_good(str(path), items, limit, locate)


def _checked(parse, row, *args):
    """parse(row, *args), or the BadRow it raised (or that the row already was), as a value."""
    if isinstance(row, BadRow):
        return row
    try:
        return parse(row, *args)
    except BadRow as bad:
        return bad


def jsonl(path: str, on_bad_line: str = "error") -> JsonlCorpus:
    """`data=jsonl`: the user's own corpus in the local-directory form."""
    if not path:
        raise XgenError("data=jsonl needs the corpus folder: add data.corpus.path=/path/to/corpus")
    return JsonlCorpus(Path(path).expanduser(), on_bad_line)


def demo(cache_dir: str, seed: int, n_train: int, n_validation: int, n_test: int, n_unlabeled: int,
         langs: list[str] | None = None, on_bad_line: str = "error") -> JsonlCorpus:
    """`data=demo`: the embedded generator's corpus, written once into the cache, keyed by its settings."""
    from xgen_cli.data import demo as generator

    langs = list(langs or generator.DEMO_LANGS)
    settings = dict(seed=seed, n_train=n_train, n_validation=n_validation, n_test=n_test,
                    n_unlabeled=n_unlabeled, langs=langs, generator=_source_hash(generator))
    key = hashlib.sha1(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]
    root = Path(cache_dir).expanduser() / "corpora" / f"demo-{key}"
    if not (root / ".complete").is_file():
        generator.write_demo_corpus(root, langs=langs, n_train=n_train, n_validation=n_validation,
                                    n_test=n_test, n_unlabeled=n_unlabeled, seed=seed)
        (root / ".complete").write_text(json.dumps(settings))
    return JsonlCorpus(root, on_bad_line)


def _source_hash(module) -> str:
    """A hash of the generator's source files: editing the generator invalidates cached corpora."""
    digest = hashlib.sha1()
    for path in sorted(Path(module.__file__).parent.glob("demo*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


# ---- Reading and checking what a command needs, every problem at once ----

class TaskData(NamedTuple):
    train: dict[str, list[Example]]  # per training language: its whole train split
    evaluation: dict[str, list[Example]]  # per evaluation language: the first eval_examples of the eval split
    skipped: dict[str, int]  # bad lines left out per file (data.on_bad_line=skip); {} when none
    notes: list[str]  # one-line notices for the log: lines skipped, evaluation sets smaller than asked


def load_task_data(corpus, train_langs: Sequence[str], eval_langs: Sequence[str], eval_examples: int, *,
                   allow_fewer: bool = False, eval_split: str = "validation") -> TaskData:
    """Read and check everything a training run needs; call it before building any model.

    Raises one XgenError listing every problem: languages the corpus lacks, missing split files, each
    bad file (its first bad line in full, the others counted), an empty training split, and evaluation
    sets smaller than `eval_examples` (a note instead when `allow_fewer`; an empty one is always a problem).
    """
    problems: list[str] = []
    notes: list[str] = []
    problems += _missing_languages(corpus, train_langs, "training",
                                   "set train_lang to a language it has, or add {root}/{lang}/train.jsonl")
    problems += _missing_languages(corpus, eval_langs, "evaluation",
                                   f"drop {{names}} from data.eval_langs, or add {{root}}/{{lang}}/{eval_split}.jsonl")
    lacking = set(_missing(corpus, [*train_langs, *eval_langs]))
    train = {}
    for lang in dict.fromkeys(train_langs):
        if lang in lacking:
            continue
        examples = _read(corpus, lang, "train", None, problems)
        if examples is not None and not examples:
            problems.append(_empty(corpus, lang, "train"))
        train[lang] = examples or []
    evaluation = {}
    for lang in dict.fromkeys(eval_langs):
        if lang in lacking:
            continue
        examples = _read(corpus, lang, eval_split, eval_examples, problems)
        if examples is not None:
            _check_eval_size(corpus, lang, eval_split, len(examples), eval_examples, allow_fewer, problems, notes)
            evaluation[lang] = examples
    if problems:
        raise XgenError(_joined(problems))
    if corpus.skipped:
        notes.insert(0, corpus.skipped_summary())
    return TaskData(train, evaluation, corpus.skipped, notes)


def check_corpus(corpus: JsonlCorpus, eval_langs: Sequence[str], eval_examples: int, *, allow_fewer: bool = False,
                 eval_split: str = "validation") -> tuple[dict[str, dict[str, int]], list[str]]:
    """Every line of every file of a local corpus, checked (`xgen data`): ({lang: {split or "unlabeled": count}}, notes).

    Raises one XgenError listing every problem: those of `load_task_data` for the evaluation side, plus
    any bad file and any file that exists but holds no examples. A missing train or test split is fine
    (a zero-shot corpus has English training data only); unlabeled falls back to the training articles.
    """
    problems: list[str] = []
    notes: list[str] = []
    problems += _missing_languages(corpus, eval_langs, "evaluation",
                                   f"drop {{names}} from data.eval_langs, or add {{root}}/{{lang}}/{eval_split}.jsonl")
    counts: dict[str, dict[str, int]] = {}
    for lang in corpus.languages():
        row = counts[lang] = {}
        for split in SPLITS:
            needed = split == eval_split and lang in eval_langs
            if not needed and not (corpus.root / lang / f"{split}.jsonl").is_file():
                row[split] = 0
                continue
            examples = _read(corpus, lang, split, None, problems)
            row[split] = len(examples or [])
            if examples is not None and not examples:
                problems.append(_empty(corpus, lang, split))
            elif examples is not None and needed:
                _check_eval_size(corpus, lang, split, len(examples), eval_examples, allow_fewer, problems, notes)
        if (corpus.root / lang / "unlabeled.jsonl").is_file():
            try:
                row["unlabeled"] = len(corpus.unlabeled(lang))
            except XgenError as exc:
                problems.append(str(exc))
                row["unlabeled"] = 0
            else:
                if not row["unlabeled"]:
                    problems.append(f"{corpus.root / lang / 'unlabeled.jsonl'} holds no texts: add "
                                    '{"text": ...} lines or delete the file')
        else:
            row["unlabeled"] = row["train"]  # what `unlabeled()` falls back to
    if problems:
        raise XgenError(_joined(problems))
    if corpus.skipped:
        notes.insert(0, corpus.skipped_summary())
    return counts, notes


def _missing(corpus, langs: Iterable[str]) -> list[str]:
    # A hub corpus cannot list its languages cheaply; a missing one surfaces when its split is loaded.
    return corpus.missing_languages(langs) if hasattr(corpus, "missing_languages") else []


def _missing_languages(corpus, langs: Sequence[str], role: str, fix: str) -> list[str]:
    """[one problem naming every language of `langs` the corpus lacks and what it has]; `fix` may name
    {names}, {root} and {lang} (the one missing language, or <lang>)."""
    missing = _missing(corpus, langs)
    if not missing:
        return []
    names = ", ".join(missing)
    fix = fix.format(names=names, root=corpus.root, lang=missing[0] if len(missing) == 1 else "<lang>")
    return [f"{corpus.describe()} lacks the {role} language{'s' if len(missing) > 1 else ''} {names}: {fix}"]


def _read(corpus, lang: str, split: str, limit: int | None, problems: list[str]) -> list[Example] | None:
    try:
        return corpus.examples(lang, split, limit)
    except XgenError as exc:
        problems.append(str(exc))
        return None


def _empty(corpus, lang: str, split: str) -> str:
    where = corpus.location(lang, split)
    skipped = corpus.skipped.get(where)
    why = f" (all {skipped} of its lines were skipped as bad)" if skipped else ""
    return f"{where} holds no examples{why}: add {{\"id\", \"article\", \"summary\"}} lines to it"


def _check_eval_size(corpus, lang: str, split: str, n: int, wanted: int, allow_fewer: bool,
                     problems: list[str], notes: list[str]) -> None:
    where = corpus.location(lang, split)
    if n == 0:
        problems.append(_empty(corpus, lang, split))
    elif n < wanted and allow_fewer:
        notes.append(f"evaluating {lang} on the {_count(n)} of {where}, fewer than data.eval_examples={wanted} "
                     "(data.allow_fewer_eval_examples=true)")
    elif n < wanted:
        problems.append(f"{where} has only {_count(n)}, fewer than data.eval_examples={wanted}: set data.eval_examples={n}, "
                        f"or data.allow_fewer_eval_examples=true to evaluate {lang} on the {n} there are")


def _count(n: int) -> str:
    return f"{n} example" + ("" if n == 1 else "s")


def _joined(problems: list[str]) -> str:
    if len(problems) == 1:
        return problems[0]
    return f"{len(problems)} corpus problems: " + "; ".join(f"({i}) {p}" for i, p in enumerate(problems, 1))
