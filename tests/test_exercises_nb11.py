from test_exercises import wrong, wrong_answers_fail

from course.exercises import nb11 as check
from course.rag import chunking, generate, index


def test_the_package_passes_the_same_checks():
    assert check.chunk_words(chunking.chunk_words)
    assert check.recall_at_k(index.recall_at_k)
    assert check.hallucination_rate(lambda r, g: generate.score(r, g).hallucination_rate)


test_wrong_answers_fail_with_a_hint = wrong_answers_fail(
    wrong(
        check.chunk_words,
        lambda w, s, o: [list(w[i : i + s]) for i in range(0, len(w), s)],
        "steps by size instead of size - overlap",
    ),
    wrong(
        check.recall_at_k,
        lambda r, rel, k: sum(len(set(x[:k]) & set(y)) for x, y in zip(r, rel)) / len(r),
        "counts relevant ids instead of queries",
    ),
    wrong(
        check.hallucination_rate,
        lambda r, g: sum(a.strip() != b for a, b in zip(r, g)) / len(r),
        "counts every wrong reply, abstentions included",
    ),
    wrong(check.mean_pool, lambda h, m: h.mean(1), "averages over padding too"),
    # a function returning None gets a hint, not an error
    wrong(check.chunk_words, lambda w, s, o: None, "returns None"),
    wrong(check.recall_at_k, lambda r, rel, k: None, "returns None"),
    wrong(check.hallucination_rate, lambda r, g: None, "returns None"),
    wrong(check.mean_pool, lambda h, m: None, "returns None"),
)
