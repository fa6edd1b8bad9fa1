"""BLEU (Papineni et al., 2002): how machine translation is scored, written out in full.

Corpus BLEU = BP * exp( (1/N) * sum_n log p_n ),  n = 1..N (N = 4)

* p_n, the *clipped* n-gram precision: every n-gram of a hypothesis counts as correct at most as
  often as it appears in the reference, summed over the whole corpus before dividing.
* BP, the brevity penalty, exp(1 - r/c) when the hypotheses' total length c is shorter than the
  references' r (and 1 otherwise): without it, a one-word output of the safest word would win.

Scores are on sacrebleu's 0-100 scale with its default "exp" smoothing, so that
``bleu(hyps, refs)`` equals ``sacrebleu.corpus_bleu(hyps, [refs], tokenize="none").score`` on
whitespace-tokenized text (``tests/test_translation.py`` checks it).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence


def ngrams(tokens: Sequence[str], n: int) -> Counter:
    """Counts of the n-grams (as tuples) of one token list."""
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def bleu_statistics(
    hypothesis: Sequence[str], reference: Sequence[str] | Sequence[Sequence[str]], max_n: int = 4
) -> list[int]:
    """Sufficient statistics of one sentence: [hyp_len, ref_len, correct_1..N, total_1..N].

    ``reference`` is one token list, or a list of token lists (several correct translations). With
    several, an n-gram counts as correct as often as it appears in the reference that has it most
    (Papineni et al.'s clipping), and ref_len is the length of the reference closest to the
    hypothesis (the shorter one on a tie), as sacrebleu does.
    """
    references = (
        [list(reference)]
        if not reference or isinstance(reference[0], str)
        else [list(r) for r in reference]
    )
    ref_len = min((abs(len(r) - len(hypothesis)), len(r)) for r in references)[1]
    correct, total = [], []
    for n in range(1, max_n + 1):
        hyp = ngrams(hypothesis, n)
        best_ref: Counter = Counter()
        for r in references:
            best_ref |= ngrams(r, n)  # | keeps the larger count of each n-gram
        # clipped counts
        correct.append(sum(min(count, best_ref[gram]) for gram, count in hyp.items()))
        total.append(max(0, len(hypothesis) - n + 1))
    return [len(hypothesis), ref_len, *correct, *total]


def bleu(
    hypotheses: Sequence[str | Sequence[str]],
    references: Sequence[str | Sequence[str]],
    max_n: int = 4,
) -> float:
    """Corpus BLEU (0-100) of hypotheses against their references.

    Each sentence is a string (split on whitespace) or a list of tokens, and its reference takes the
    same form -- or is a list of them when there are several correct translations:
    ``bleu(["ich bin jetzt hier ."], [["ich bin jetzt da .", "ich bin jetzt hier ."]])`` is 100.

    >>> round(bleu(["the cat sat on the mat"], ["the cat sat on the mat"]), 1)
    100.0
    """
    if len(hypotheses) != len(references):
        raise ValueError(
            f"got {len(hypotheses)} hypotheses but {len(references)} references; "
            "pass one reference (or one list of references) per hypothesis"
        )
    if not hypotheses:
        raise ValueError("BLEU of an empty corpus is undefined: pass at least one sentence pair")
    stats = [0] * (2 + 2 * max_n)
    for hyp, ref in zip(hypotheses, references):
        # a reference has the form of its hypothesis (a string, or a token list), or is a list of
        # them
        if isinstance(hyp, str):
            hyp = hyp.split()
            ref = [r.split() for r in ([ref] if isinstance(ref, str) else ref)]
        else:
            hyp = list(hyp)
            ref = [list(ref)] if not ref or isinstance(ref[0], str) else [list(r) for r in ref]
        stats = [a + b for a, b in zip(stats, bleu_statistics(hyp, ref, max_n))]
    hyp_len, ref_len = stats[0], stats[1]
    correct, total = stats[2 : 2 + max_n], stats[2 + max_n :]
    if not any(correct):
        return 0.0
    brevity = 1.0 if hyp_len >= ref_len else (math.exp(1 - ref_len / hyp_len) if hyp_len else 0.0)
    log_precisions, smooth = [], 1.0
    for n in range(max_n):
        if total[n] == 0:
            # no hypothesis is n words long: sacrebleu keeps the order in the mean with log(0) -> 0
            # score
            log_precisions.append(-math.inf)
            continue
        if correct[n] == 0:
            smooth *= 2  # "exp" smoothing (NIST mteval): 1/2, 1/4, ... of a match instead of none
            log_precisions.append(math.log(100.0 / (smooth * total[n])))
        else:
            log_precisions.append(math.log(100.0 * correct[n] / total[n]))
    if any(math.isinf(lp) for lp in log_precisions):
        return 0.0
    return brevity * math.exp(sum(log_precisions) / max_n)
