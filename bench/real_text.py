"""A real, human-written multilingual corpus for xgen: Debian package descriptions.

    apt-get -o Acquire::Languages=en,de,fr,ru,es,ja,it update   # once, fetches Translation-<lang>
    python -m bench.real_text <out dir>

Each Translation-<lang> file of /var/lib/apt/lists is RFC822 stanzas (Package, Description-md5,
Description-<lang>: the short description, then the long one as indented lines, " ." a paragraph
break; Debian Policy 5.6.13 and the DDTP). A pair is article = the long description, summary = the
short one. Packages are split by a hash of their name, the same in every language, so a package's
English description trains only where its translations are not evaluated.
Writes <out>/<lang>/{train,validation,test,unlabeled}.jsonl (unlabeled: the training split's
articles) and prints the counts.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
from pathlib import Path

LISTS = Path("/var/lib/apt/lists")
MIN_WORDS = 30  # long descriptions shorter than this are one-liners, not articles
MIN_CHARS_UNSPACED = 80  # the same bar for ja / zh, which do not put spaces between words
UNSPACED = ("ja", "zh")


def _text(path: Path) -> str:
    if path.suffix in (".lz4", ".xz", ".gz", ".zst", ".bz2"):  # apt's helper knows every compression apt uses
        return subprocess.run(["/usr/lib/apt/apt-helper", "cat-file", str(path)], check=True,
                              capture_output=True).stdout.decode("utf-8", "replace")
    return path.read_text("utf-8", "replace")


def _stanzas(text: str):
    for block in text.split("\n\n"):
        fields, key = {}, None
        for line in block.splitlines():
            if line.startswith((" ", "\t")) and key:
                fields[key].append(line[1:])
            elif ":" in line:
                key, value = line.split(":", 1)
                fields[key] = [value.strip()]
        if fields:
            yield fields


def _article(lines: list[str]) -> str:
    paragraphs, current = [], []
    for line in lines:
        if line.strip() == ".":
            paragraphs.append(" ".join(current))
            current = []
        else:
            current.append(line.strip())
    paragraphs.append(" ".join(current))
    return "\n".join(re.sub(r"\s+", " ", p).strip() for p in paragraphs if p.strip())


def _long_enough(article: str, lang: str) -> bool:
    if lang in UNSPACED:
        return len(article) >= MIN_CHARS_UNSPACED
    return len(article.split()) >= MIN_WORDS


def split_of(package: str) -> str:
    """train 90%, validation 5%, test 5%, by a stable hash of the package name."""
    bucket = int(hashlib.sha1(package.encode()).hexdigest()[:8], 16) % 100
    return "train" if bucket < 90 else "validation" if bucket < 95 else "test"


def read_language(lang_code: str) -> dict[str, dict]:
    """{package: {"id", "article", "summary"}} over every Translation-<lang_code> list apt fetched."""
    pairs: dict[str, dict] = {}
    lang = lang_code.split("_")[0].split("-")[0].lower()  # pt_BR -> pt
    # main before updates/security; a later list's entry for the same package replaces the earlier one
    for path in sorted(LISTS.glob(f"*_i18n_Translation-{lang_code}*"), key=lambda p: ("security" in p.name, "updates" in p.name)):
        for fields in _stanzas(_text(path)):
            description = fields.get(f"Description-{lang_code}")
            package, md5 = fields.get("Package", [""])[0], fields.get("Description-md5", [""])[0]
            if not description or not package or not description[0]:
                continue
            article = _article(description[1:])
            if _long_enough(article, lang):
                pairs[package] = {"id": f"{package}-{md5[:8]}", "article": article, "summary": description[0]}
    return pairs


def write_corpus(out: Path) -> dict[str, dict[str, int]]:
    codes = sorted({p.name.split("Translation-")[1].split(".")[0] for p in LISTS.glob("*_i18n_Translation-*")})
    if not codes:
        raise SystemExit("no Translation-<lang> lists in /var/lib/apt/lists: run "
                         "apt-get -o Acquire::Languages=en,de,fr,ru,es,ja,it update")
    counts = {}
    for code in codes:
        lang = code.split("_")[0].split("-")[0].lower()
        pairs = read_language(code)
        splits: dict[str, list[dict]] = {"train": [], "validation": [], "test": []}
        for package in sorted(pairs):
            splits[split_of(package)].append(pairs[package])
        folder = out / lang
        folder.mkdir(parents=True, exist_ok=True)
        for split, rows in splits.items():
            _write(folder / f"{split}.jsonl", rows)
        # Unlabeled text (the tiny backbone's vocabulary and pretraining) from training packages only,
        # so no evaluated article is seen before evaluation.
        _write(folder / "unlabeled.jsonl", [{"text": p["article"]} for p in splits["train"]])
        counts[lang] = {split: len(rows) for split, rows in splits.items()} | {"unlabeled": len(splits["train"])}
    return counts


def _write(path: Path, rows: list[dict]) -> None:
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    partial.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    counts = write_corpus(parser.parse_args().out)
    for lang, row in counts.items():
        print(lang, " ".join(f"{k}={v}" for k, v in row.items()))


if __name__ == "__main__":
    main()
