"""Chunking: cut documents into overlapping windows of words (or sentences), the units a retriever
returns.

A retriever returns passages, not whole documents, because a generator can only read a short
context (ours: a couple of hundred characters). Windows of ``size`` words start every
``size - overlap`` words, so neighbouring chunks share exactly ``overlap`` words:

    words:   w0 w1 w2 w3 w4 w5 w6 w7 w8 w9
    size=4, overlap=1:  [w0 w1 w2 w3] [w3 w4 w5 w6] [w6 w7 w8 w9]

Why overlap: a fact that straddles a boundary would otherwise be split in two and neither half would
answer the question. With an overlap of at least the longest fact (in words), every fact lies whole
inside some chunk; windows of whole *sentences* get the same guarantee with an overlap of one
sentence or none. A chunk that does not name its document gets the title as a header ("contextual
chunk header"), because a window that starts mid-article ("It lies on the river Oskel.") no longer
says which town it is about."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, split after . ! or ? followed by white space (enough for our
    articles)."""
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def split_units(text: str, unit: str) -> list[str]:
    """The text as a list of words or of sentences; joining them with spaces gives the text back
    (up to runs of white space)."""
    if unit == "word":
        return text.split()
    if unit == "sentence":
        return split_sentences(text)
    raise ValueError(f"unit must be 'word' or 'sentence', got {unit!r}")


def window_starts(n_words: int, size: int, overlap: int) -> list[int]:
    """Start positions of the windows: 0, step, 2 step, ... with step = size - overlap; the last
    window is moved back so it ends exactly at the last word (so no tail is left out and no window
    is short)."""
    for name, value in (("chunk size", size), ("overlap", overlap)):
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not math.isfinite(value)
            or value != int(value)
        ):
            raise ValueError(
                f"{name} must be a whole number of units (words or sentences), got {value!r}"
            )
    size, overlap = int(size), int(overlap)
    if size < 1:
        raise ValueError(f"chunk size must be at least 1 word, got {size}")
    if not 0 <= overlap < size:
        raise ValueError(
            f"overlap must lie in [0, size) = [0, {size}), got {overlap}: "
            "with overlap >= size the windows would never advance"
        )
    if n_words <= size:
        return [0]
    step = size - overlap
    starts = list(range(0, n_words - size, step))
    last = n_words - size
    if starts[-1] != last:
        starts.append(last)  # the final window may overlap its neighbour by more than `overlap`
    return starts


def chunk_words(words: Sequence[str], size: int, overlap: int) -> list[list[str]]:
    """Windows of ``size`` words, consecutive windows sharing ``overlap`` words (the last one
    possibly more)."""
    starts = window_starts(max(len(words), 1), size, overlap)  # checks the sizes even for no words
    if not words:
        return []
    size = int(size)
    return [list(words[s : s + size]) for s in starts]


@dataclass(frozen=True)
class Chunk:
    """A passage of a document: ``text`` is what gets embedded and shown to the model."""

    doc_id: int  # index of the source document
    title: str
    start: int  # first unit (word or sentence) of the window in the document
    body: str  # the window's units joined by spaces

    @property
    def text(self) -> str:
        # the header only where the window has lost the title: a repeated name would count twice in
        # TF-IDF
        return (
            f"{self.title}: {self.body}"
            if self.title and self.title not in self.body
            else self.body
        )


def chunk_documents(
    docs: Sequence,
    size: int = 2,
    overlap: int = 1,
    *,
    unit: str = "sentence",
    with_title: bool = True,
) -> list[Chunk]:
    """Chunks of every document (objects with ``title`` and ``text``, or plain strings).

    ``unit="word"``: windows of ``size`` words; ``unit="sentence"``: windows of ``size`` whole
    sentences (a window never cuts a sentence, so a fact is never split). ``start`` counts units.
    """
    chunks = []
    for doc_id, doc in enumerate(docs):
        title, text = (doc.title, doc.text) if hasattr(doc, "text") else ("", str(doc))
        words = split_units(text, unit)
        for start, window in zip(
            window_starts(len(words), size, overlap), chunk_words(words, size, overlap)
        ):
            chunks.append(Chunk(doc_id, title if with_title else "", start, " ".join(window)))
    return chunks
