"""What every tokenizer checks: ids inside its vocabulary, and a saved file of the right kind."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path


def checked_ids(ids: Iterable[int], vocab_size: int) -> list[int]:
    """``ids`` as ints, or a ValueError when one lies outside [0, vocab_size).

    (A negative id would otherwise index from the end of the vocabulary, silently.)"""
    ids = [int(i) for i in ids]
    wrong = [i for i in ids if not 0 <= i < vocab_size]
    if wrong:
        raise ValueError(
            f"token ids {wrong[:5]} are outside this tokenizer's vocabulary "
            f"[0, {vocab_size}); decode ids that this tokenizer's encode "
            "(or a model with its vocab_size) produced"
        )
    return ids


def read_tokenizer_file(path: str | Path, kind: str, what: str) -> dict:
    """The JSON dict a tokenizer's ``save`` wrote, checked to be of ``kind`` (its "type" field);
    ``what`` names the tokenizer in the error."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(
            f"{path} is not a valid tokenizer file ({error}); save the tokenizer again"
        ) from None
    if not isinstance(data, dict) or data.get("type") != kind:
        raise ValueError(f"{path} does not hold {what}")
    return data
