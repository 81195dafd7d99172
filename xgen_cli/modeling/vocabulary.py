"""The tiny backbone's SentencePiece vocabulary: trained on a language-balanced sample, checked by how
much of each language it can only spell as UTF-8 bytes (byte fallback)."""

from __future__ import annotations

from pathlib import Path

from xgen_cli.errors import XgenError


def train_sentencepiece(texts: list[str], out_dir: Path, vocab_size: int, character_coverage: float) -> Path:
    """`<out_dir>/spiece.model`: a unigram model with T5's special ids (pad 0, eos 1, unk 2, no bos) and
    byte fallback, so no character is unknown: one outside the coverage is spelled as its UTF-8 bytes."""
    import sentencepiece as spm

    lines = [line for text in texts for line in text.splitlines() if line.strip()]
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(lines), model_prefix=str(out_dir / "spiece"), vocab_size=vocab_size,
            model_type="unigram", character_coverage=character_coverage, byte_fallback=True, pad_id=0, eos_id=1,
            unk_id=2, bos_id=-1, hard_vocab_limit=False, minloglevel=2, num_threads=2,
            # SentencePiece silently drops longer lines (default 4192 bytes): a paragraph of CJK is ~1,400 characters.
            max_sentence_length=1 << 16,
        )
    except RuntimeError as exc:  # e.g. more distinct characters to cover than vocab_size
        reason = " ".join(str(exc).split())
        raise XgenError(f"SentencePiece could not build the tiny vocabulary ({reason}): raise model.build.vocab_size "
                        "or lower model.build.character_coverage") from None
    return out_dir / "spiece.model"


def byte_fallback_share(spm_file: str | Path, texts: list[str]) -> float:
    """The share of the pieces of `texts` that are byte-fallback pieces (<0x..>): 0 when the vocabulary
    covers every character, near 1 when a script is spelled byte by byte (3 pieces per CJK character)."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(spm_file))
    pieces = [i for ids in sp.encode(texts) for i in ids]
    return sum(map(sp.is_byte, pieces)) / len(pieces) if pieces else 0.0
