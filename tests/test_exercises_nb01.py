import math

from course.exercises import nb01 as check
from course.exercises.solutions import nb01 as solution
from course.models.bow import count_vectors, idf


def test_solution_agrees_with_the_package():
    docs = [["a", "b"], ["b", "c", "c"], ["c"]]
    vocab = ["a", "b", "c"]
    ours = solution.idf(docs)
    assert list(idf(count_vectors(docs, vocab))) == [ours[w] for w in vocab]


def test_wrong_answers_fail_with_a_hint(capsys):
    from collections import Counter

    # counts occurrences instead of documents
    assert not check.idf(
        lambda docs: {
            w: math.log(len(docs) / c) for w, c in Counter(w for d in docs for w in d).items()
        }
    )
    # raw bigram counts instead of distinct left neighbours
    assert not check.continuation_counts(lambda t: dict(Counter(t[1:])))
    # forgets the minus sign
    assert not check.perplexity(lambda lp: math.exp(sum(lp) / len(lp)))
    assert "Hint" in capsys.readouterr().out
