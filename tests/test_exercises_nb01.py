import math
from collections import Counter

from test_exercises import wrong, wrong_answers_fail

from course.exercises import nb01 as check
from course.exercises.solutions import nb01 as solution
from course.models.bow import count_vectors, idf


def test_solution_agrees_with_the_package():
    docs = [["a", "b"], ["b", "c", "c"], ["c"]]
    vocab = ["a", "b", "c"]
    ours = solution.idf(docs)
    assert list(idf(count_vectors(docs, vocab))) == [ours[w] for w in vocab]


def counts_occurrences(docs):
    return {w: math.log(len(docs) / c) for w, c in Counter(w for d in docs for w in d).items()}


test_wrong_answers_fail_with_a_hint = wrong_answers_fail(
    wrong(check.idf, counts_occurrences, "counts occurrences instead of documents"),
    wrong(
        check.continuation_counts,
        lambda t: dict(Counter(t[1:])),
        "raw bigram counts instead of distinct left neighbours",
    ),
    wrong(check.perplexity, lambda lp: math.exp(sum(lp) / len(lp)), "forgets the minus sign"),
)
