"""Embeddings, an exact vector index, and recall@k: the retrieval half of RAG.

Two ways to turn a passage into a vector, compared in notebook 11:

* **TF-IDF** (notebook 01's bag of words, re-weighted): word w in passage d gets
  ``tf(w, d) * idf(w)`` with ``idf(w) = log((1 + N) / (1 + df(w))) + 1`` (N passages, df(w) of them
  contain w; the smoothed form scikit-learn uses, so no weight is ever zero or infinite). Rare words
  such as a town's invented name weigh most.
* **The model's own hidden states**: run the GPT over the passage and average its final hidden
  states over positions (mean pooling), giving one ``n_embd`` vector. Dense retrievers (DPR,
  Karpukhin et al. 2020; Sentence-BERT) are trained for this; our char-level GPT was not, and the
  notebook measures what that costs.

Vectors are L2-normalised, so the dot product is the cosine similarity; the index scores every
stored vector against the query (exact search: one matrix product and ``torch.topk``). Approximate
indexes (faiss, HNSW) trade a little recall for speed on millions of vectors; at a few hundred
passages exact search takes microseconds.

``recall@k`` = fraction of questions for which at least one relevant passage is among the top k.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from collections.abc import Sequence

import torch
import torch.nn.functional as F

from course.device import eval_mode
from course.text.words import split_words

# Function words carry no information about which passage is meant; dropping them keeps the TF-IDF
# vectors about content (a common, simple choice; IDF alone would only down-weight them).
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "is",
        "was",
        "were",
        "be",
        "it",
        "its",
        "by",
        "and",
        "or",
        "what",
        "which",
        "who",
        "whom",
        "when",
        "where",
        "how",
        "does",
        "do",
        "did",
        "name",
        "part",
        "s",
    ]
)


def _whole_number(name: str, value, minimum: int, maximum: float = math.inf) -> int:
    """``value`` as an int when it is a whole number in [minimum, maximum] (2 and 2.0 are; 2.5, NaN,
    True and "2" are not); otherwise a ValueError that names the argument."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value != int(value)
        or not minimum <= value <= maximum
    ):
        span = f">= {minimum}" if maximum == math.inf else f"in [{minimum}, {maximum}]"
        raise ValueError(f"{name} must be a whole number {span}, got {value!r}")
    return int(value)


def _check_finite(vectors: torch.Tensor, what: str) -> None:
    if not torch.isfinite(vectors).all():
        raise ValueError(
            f"the {what} contain NaN or inf, so every similarity would be NaN; "
            "check the embedder (a model with NaN weights, or a division by zero)"
        )


def tokenize(text: str) -> list[str]:
    """Lower-case words without punctuation, stop words and possessive 's:
    ``"Which river is Velmora's?" -> ['river', 'velmora']``."""
    words = (w[:-2] if w.endswith("'s") else w for w in split_words(text))
    return [w for w in words if w.isalnum() and w not in STOP_WORDS]


class TfidfVectorizer:
    """TF-IDF vectors over a vocabulary fitted on the passages (a small version of scikit-learn's).

    >>> vec = TfidfVectorizer().fit(["the river Oskel", "the town Velmora"])
    >>> vec.transform(["Velmora"]).shape
    torch.Size([1, 4])
    """

    def __init__(self, normalize: bool = True):
        self.vocab: dict[str, int] = {}
        self.idf: torch.Tensor | None = None
        self.normalize = normalize  # False: raw TF-IDF weights, so a dot product is not a cosine

    def fit(self, texts: Sequence[str]) -> TfidfVectorizer:
        if not texts:
            raise ValueError("TF-IDF needs at least one passage to fit its vocabulary")
        docs = [set(tokenize(t)) for t in texts]
        self.vocab = {w: i for i, w in enumerate(sorted(set().union(*docs)))}
        df = torch.zeros(len(self.vocab))
        for words in docs:
            for w in words:
                df[self.vocab[w]] += 1
        n = len(texts)
        self.idf = torch.log((1 + n) / (1 + df)) + 1  # (V,)
        return self

    def transform(self, texts: Sequence[str]) -> torch.Tensor:
        """(len(texts), V) TF-IDF rows (L2-normalised unless ``normalize=False``); unknown words are
        ignored."""
        if self.idf is None:
            raise RuntimeError("call fit(passages) before transform(...)")
        out = torch.zeros(len(texts), len(self.vocab))
        for row, text in enumerate(texts):
            for w, count in Counter(tokenize(text)).items():
                if w in self.vocab:
                    out[row, self.vocab[w]] = (1 + math.log(count)) * self.idf[self.vocab[w]]
        # a row of zeros (no known word) stays zero
        return F.normalize(out, dim=1) if self.normalize else out

    def __call__(self, texts: Sequence[str]) -> torch.Tensor:
        return self.transform(texts)


@torch.no_grad()
def mean_pooled_states(
    model, tokenizer, texts: Sequence[str], *, batch_size: int = 64
) -> torch.Tensor:
    """(len(texts), n_embd) L2-normalised mean of the model's final hidden states over each text's
    tokens.

    Texts are right-padded and the padding is left out of the average (a mask), so a passage's
    vector does not depend on how long its batch-mates are. The model is causal, so padding after
    the text cannot change the states of the text's own tokens."""
    if not texts:
        raise ValueError("no texts to embed")
    batch_size = _whole_number("batch_size", batch_size, 1)
    block = model.config.block_size
    device = next(model.parameters()).device
    with eval_mode(model):
        vectors = []
        for begin in range(0, len(texts), batch_size):
            encoded = [tokenizer.encode(t)[:block] for t in texts[begin : begin + batch_size]]
            if any(len(e) == 0 for e in encoded):
                raise ValueError("cannot embed an empty text")
            longest = max(len(e) for e in encoded)
            idx = torch.zeros(len(encoded), longest, dtype=torch.long)
            mask = torch.zeros(len(encoded), longest)
            for i, e in enumerate(encoded):
                idx[i, : len(e)] = torch.tensor(e)
                mask[i, : len(e)] = 1
            h = model.hidden_states(idx.to(device)).float().cpu()  # (B, T, C)
            pooled = (h * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True)  # (B, C)
            vectors.append(pooled)
    return F.normalize(torch.cat(vectors), dim=1)


class VectorIndex:
    """Exact nearest-neighbour search by cosine similarity (or by plain dot product,
    ``metric="dot"``).

    >>> index = VectorIndex(torch.eye(3))
    >>> index.search(torch.tensor([[0.1, 0.9, 0.0]]), k=2)[1]
    tensor([[1, 0]])
    """

    def __init__(self, vectors: torch.Tensor, metric: str = "cosine"):
        if vectors.dim() != 2 or vectors.size(0) == 0:
            raise ValueError(
                "an index needs a non-empty (n, dim) matrix of vectors, got shape "
                f"{tuple(vectors.shape)}"
            )
        if metric not in ("cosine", "dot"):
            raise ValueError(f"metric must be 'cosine' or 'dot', got {metric!r}")
        _check_finite(vectors, "vectors to index")
        self.metric = metric
        vectors = vectors.float()
        self.vectors = F.normalize(vectors, dim=1) if metric == "cosine" else vectors  # (N, D)

    def __len__(self) -> int:
        return self.vectors.size(0)

    def search(self, queries: torch.Tensor, k: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
        """Top-k scores and row ids, each (Q, k), best first. Ties go to the lower id."""
        if queries.dim() == 1:
            queries = queries[None]
        if queries.size(-1) != self.vectors.size(1):
            raise ValueError(
                f"queries have dimension {queries.size(-1)} but the index stores "
                f"{self.vectors.size(1)}; "
                "embed the queries with the same embedder as the passages"
            )
        try:
            k = _whole_number("k", k, 1, len(self))
        except ValueError:
            raise ValueError(
                f"k must lie in [1, {len(self)}] and be a whole number (the number of "
                f"results, at most the stored vectors), got {k!r}"
            ) from None
        _check_finite(queries, "query vectors")
        queries = queries.float()
        if self.metric == "cosine":
            queries = F.normalize(queries, dim=1)
        scores = queries @ self.vectors.T  # (Q, N): cosine similarities, or plain dot products
        # stable order for ties: sort by score descending, then by id ascending
        order = torch.sort(scores, dim=1, descending=True, stable=True)
        return order.values[:, :k], order.indices[:, :k]


def recall_at_k(
    retrieved: torch.Tensor | Sequence[Sequence[int]],
    relevant: Sequence[set[int] | Sequence[int]],
    k: int,
) -> float:
    """Fraction of queries with at least one relevant id among their first ``k`` retrieved ids.

    ``retrieved[q]`` is a ranked list of ids (best first); ``relevant[q]`` the ids that would answer
    query q."""
    retrieved = (
        retrieved.tolist() if isinstance(retrieved, torch.Tensor) else [list(r) for r in retrieved]
    )
    if len(retrieved) != len(relevant):
        raise ValueError(f"{len(retrieved)} ranked lists but {len(relevant)} sets of relevant ids")
    if not retrieved:
        raise ValueError("recall@k needs at least one query")
    k = _whole_number("k", k, 1)
    hits = sum(bool(set(ranked[:k]) & set(rel)) for ranked, rel in zip(retrieved, relevant))
    return hits / len(retrieved)


def relevant_ids(chunks: Sequence, title: str, answer: str) -> set[int]:
    """Ids of the chunks that answer a question: from the right document AND containing the
    answer."""
    return {i for i, c in enumerate(chunks) if c.title == title and answer in c.body}


class Retriever:
    """Chunks + an embedder (a function: list of texts -> (n, dim) tensor) + an exact index.

    >>> retriever = Retriever(chunks, TfidfVectorizer().fit([c.text for c in chunks]))
    >>> retriever.retrieve("Which river is Velmora on?", k=3)   # [(chunk, score), ...] best first
    """

    def __init__(self, chunks: Sequence, embed, metric: str = "cosine"):
        if not chunks:
            raise ValueError("a retriever needs at least one chunk")
        self.chunks, self.embed = list(chunks), embed
        self.index = VectorIndex(embed([c.text for c in self.chunks]), metric)

    def search(self, queries: Sequence[str], k: int = 5) -> tuple[torch.Tensor, torch.Tensor]:
        """Scores and chunk ids (len(queries), k) for a batch of questions."""
        return self.index.search(self.embed(list(queries)), k)

    def retrieve(self, query: str, k: int = 3) -> list[tuple]:
        scores, ids = self.search([query], k)
        return [(self.chunks[i], s) for i, s in zip(ids[0].tolist(), scores[0].tolist())]
