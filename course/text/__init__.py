"""Tokenizers: characters and words here; byte-level BPE arrives with the GPT lesson."""

from course.text.bpe import BPETokenizer
from course.text.char import CharTokenizer
from course.text.words import WordTokenizer, split_words

__all__ = ["BPETokenizer", "CharTokenizer", "WordTokenizer", "split_words"]
