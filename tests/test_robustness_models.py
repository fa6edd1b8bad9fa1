"""Issue 15, the model side: edge cases a learner meets give a clear error (or the right answer),
never a raw traceback, a silently wrong number, or NaN. Each case failed before its fix."""

import math

import pytest
import torch

from course.align import lora, reward, tasks
from course.align.dpo import dpo_loss, preference_accuracy, train_dpo
from course.generate import check_sampling_args, filter_top_k, filter_top_p, generate, sample_next
from course.models.gpt import GPT, GPTConfig
from course.rag.chunking import chunk_documents, chunk_words, window_starts
from course.rag.index import Retriever, TfidfVectorizer, VectorIndex, recall_at_k

NAN, INF = float("nan"), float("inf")


def tiny(vocab_size=13, **kw) -> GPT:
    torch.manual_seed(0)
    config = dict(vocab_size=vocab_size, block_size=16, n_layer=1, n_head=2, n_embd=16)
    config.update(kw)
    return GPT(GPTConfig(**config))


PROMPT = torch.zeros(1, 1, dtype=torch.long)


# ------------------------------------------------------------------------------ generation
def test_greedy_on_nan_logits_is_an_error_not_token_zero():
    with pytest.raises(ValueError, match="NaN"):
        sample_next(torch.full((1, 5), NAN), greedy=True)
    with pytest.raises(ValueError, match="NaN"):
        sample_next(torch.tensor([[0.0, NAN, 1.0]]))  # one NaN in the row is enough
    with pytest.raises(ValueError, match="-inf"):
        sample_next(torch.full((1, 5), -INF))  # nothing left to choose from


def test_generate_from_a_model_with_nan_weights_says_so():
    model = tiny()
    with torch.no_grad():
        model.lm_head.weight.fill_(NAN)
    with pytest.raises(ValueError, match="NaN"):
        generate(model, PROMPT, 3, greedy=True)


def test_a_tiny_temperature_is_the_greedy_limit_not_a_torch_error():
    model = tiny()
    prompt = torch.randint(0, 13, (2, 3), generator=torch.Generator().manual_seed(0))
    cold = generate(model, prompt, 8, temperature=1e-45, generator=torch.Generator().manual_seed(0))
    assert torch.equal(cold, generate(model, prompt, 8, greedy=True))
    logits = torch.tensor([[1.0, 3.0, 2.0]])
    assert sample_next(logits, temperature=1e-45).item() == 1


def test_shifting_the_logits_before_dividing_keeps_the_distribution():
    # softmax((l - max) / T) == softmax(l / T): the shift that makes tiny T safe changes nothing
    logits = torch.randn(3, 7)

    def seeded(s):
        return torch.Generator().manual_seed(s)

    draws = [sample_next(logits, temperature=0.7, generator=seeded(s)) for s in range(5)]
    reference = [
        torch.multinomial((logits / 0.7).softmax(-1), 1, generator=seeded(s)) for s in range(5)
    ]
    assert all(torch.equal(a, b) for a, b in zip(draws, reference))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(temperature=INF), "temperature"),
        (dict(temperature=NAN), "temperature"),
        (dict(temperature="hot"), "temperature"),
        (dict(top_k=INF), "top_k"),
        (dict(top_k=NAN), "top_k"),
        (dict(top_k=2.5), "top_k"),
        (dict(top_k=True), "top_k"),
        (dict(top_p=NAN), "top_p"),
    ],
)
def test_meaningless_sampling_settings_are_refused(kwargs, match):
    args = dict(temperature=1.0, top_k=None, top_p=None)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        check_sampling_args(**args)
    with pytest.raises(ValueError, match=match):
        sample_next(torch.zeros(1, 4), **kwargs)
    with pytest.raises(ValueError, match=match):
        generate(tiny(), PROMPT, 2, **kwargs)


@pytest.mark.parametrize("n", [NAN, INF, -1, 2.5, "3", None])
def test_max_new_tokens_must_be_a_whole_number(n):
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate(tiny(), PROMPT, n)


def test_whole_floats_and_numpy_ints_still_work_as_counts():
    import numpy as np

    assert generate(tiny(), PROMPT, 3.0, greedy=True).shape == (1, 4)
    assert generate(tiny(), PROMPT, np.int64(2), greedy=True, top_k=np.int64(3)).shape == (1, 3)


@pytest.mark.parametrize("bad", [13, 99, -1])
def test_prompt_ids_outside_the_vocabulary_say_what_to_do(bad):
    with pytest.raises(ValueError, match=r"vocabulary.*13"):
        generate(tiny(), torch.tensor([[1, bad]]), 2)


def test_prompt_must_hold_integer_ids():
    with pytest.raises(ValueError, match="integer token ids"):
        generate(tiny(), torch.tensor([[1.0, 2.0]]), 2)


def test_filters_refuse_what_has_no_meaning():
    logits = torch.randn(1, 5)
    with pytest.raises(ValueError, match="top_k"):
        filter_top_k(logits, 0)
    with pytest.raises(ValueError, match="top_p"):
        filter_top_p(logits, NAN)


# ------------------------------------------------------------------------------ LoRA
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float64])
def test_lora_follows_the_layer_dtype(dtype):
    model = tiny().to(dtype)
    lora.add_lora(model, r=2)
    layer = model.blocks[0].attn.c_attn
    assert layer.lora_A.dtype == layer.lora_B.dtype == dtype
    idx = torch.randint(0, 13, (2, 5))
    out = model(idx)
    assert out.dtype == dtype and torch.isfinite(out).all()
    out.float().sum().backward()  # the adapters train in the model's precision
    assert layer.lora_A.grad is not None and layer.lora_A.grad.dtype == dtype
    lora.merge_lora(model)
    assert model.blocks[0].attn.c_attn.weight.dtype == dtype


def test_lora_adapters_live_on_the_layer_device():
    layer = torch.nn.Linear(8, 8, dtype=torch.float64, device="meta")
    wrapped = lora.LoRALinear(layer, r=2)
    assert wrapped.lora_A.device.type == "meta" and wrapped.lora_B.dtype == torch.float64


def test_adding_lora_twice_is_refused_and_merge_still_works():
    model = tiny()
    lora.add_lora(model, r=2)
    with pytest.raises(ValueError, match="already has LoRA"):
        lora.add_lora(model, r=2)
    assert lora.merge_lora(model) == 2  # the first adapters are intact and merge cleanly
    lora.add_lora(model, r=2)  # a merged model is an ordinary model again


def test_wrapping_a_lora_layer_again_is_refused():
    wrapped = lora.LoRALinear(torch.nn.Linear(8, 8), r=2)
    with pytest.raises(ValueError, match="already"):
        lora.LoRALinear(wrapped, r=2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(r=2.5), "rank"),
        (dict(r=NAN), "rank"),
        (dict(r=True), "rank"),
        (dict(alpha=NAN), "alpha"),
        (dict(alpha=INF), "alpha"),
        (dict(dropout=1.0), "dropout"),
        (dict(dropout=NAN), "dropout"),
    ],
)
def test_lora_settings_that_have_no_meaning(kwargs, match):
    args = dict(r=2, alpha=4.0)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        lora.LoRALinear(torch.nn.Linear(8, 8), **args)


# ------------------------------------------------------------------------------ reward model
TOK = tasks.tokenizer()


def reward_model():
    return reward.RewardModel(tiny(vocab_size=TOK.vocab_size, block_size=32))


def test_score_refuses_lists_of_different_lengths():
    with pytest.raises(ValueError, match=r"3 prompts but 2 replies"):
        reward.score(reward_model(), TOK, ["a", "b", "c"], ["x", "y"])


def test_score_batch_size_must_be_positive():
    with pytest.raises(ValueError, match="batch_size"):
        reward.score(reward_model(), TOK, ["a"], ["x"], batch_size=0)


def test_bradley_terry_loss_refuses_empty_and_mismatched_batches():
    with pytest.raises(ValueError, match="empty"):
        reward.bradley_terry_loss(torch.zeros(0), torch.zeros(0))
    with pytest.raises(ValueError, match="shape"):
        reward.bradley_terry_loss(torch.zeros(3), torch.zeros(3, 1))  # would broadcast to (3, 3)
    with pytest.raises(ValueError, match="label_noise"):
        reward.bradley_terry_loss(torch.zeros(2), torch.zeros(2), NAN)


def test_pair_accuracy_and_batches_refuse_no_pairs():
    with pytest.raises(ValueError, match="pair"):
        reward.pair_accuracy(reward_model(), TOK, [])
    pairs = [tasks.Pair("a", "good", "bad", 1.0)]
    with pytest.raises(ValueError, match="batch_size"):
        reward.pair_batches(TOK, pairs, batch_size=0)


def test_calibration_needs_bins_and_differences():
    with pytest.raises(ValueError, match="bins"):
        reward.calibration(torch.randn(10), bins=0)
    with pytest.raises(ValueError, match="empty"):
        reward.calibration(torch.zeros(0))


# ------------------------------------------------------------------------------ DPO
def four(n=2):
    return [torch.zeros(n) for _ in range(4)]


@pytest.mark.parametrize("beta", [NAN, INF, -INF, 0, -1])
def test_dpo_beta_must_be_finite_and_positive(beta):
    with pytest.raises(ValueError, match="beta"):
        dpo_loss(*four(), beta=beta)


def test_dpo_empty_batch_is_an_error_not_nan():
    with pytest.raises(ValueError, match="empty"):
        dpo_loss(*four(0))


def test_dpo_log_probabilities_must_share_one_shape():
    a, b, c, _ = four(3)
    with pytest.raises(ValueError, match="shape"):
        dpo_loss(a, b, c, torch.zeros(3, 1))  # (3,) with (3, 1) would broadcast to a (3, 3) loss


def test_train_dpo_refuses_meaningless_settings_before_training():
    model = tiny(vocab_size=TOK.vocab_size, block_size=32)
    pairs = [tasks.Pair("a", "good", "bad", 1.0)]
    for kwargs, match in [
        (dict(beta=NAN), "beta"),
        (dict(batch_size=0), "batch_size"),
        (dict(steps=-1), "steps"),
        (dict(steps=2.5), "steps"),
        (dict(lr=NAN), "lr"),
    ]:
        with pytest.raises(ValueError, match=match):
            train_dpo(model, model, TOK, pairs, progress=False, **kwargs)
    with pytest.raises(ValueError, match="pair"):
        preference_accuracy(model, model, TOK, [])


def test_dpo_helpers_refuse_empty_or_misshapen_input():
    from course.align.dpo import encode_pair_batch, sequence_logprob

    with pytest.raises(ValueError, match="no preference pairs"):
        encode_pair_batch(TOK, [])
    model = tiny(vocab_size=TOK.vocab_size, block_size=32)
    with pytest.raises(ValueError, match="one shape"):
        sequence_logprob(
            model, torch.zeros(2, 5, dtype=torch.long), torch.zeros(2, 4, dtype=torch.long)
        )


# ------------------------------------------------------------------------------ RAG
def test_nan_query_vector_is_an_error_not_nan_scores():
    index = VectorIndex(torch.eye(3))
    with pytest.raises(ValueError, match="NaN"):
        index.search(torch.tensor([[NAN, 1.0, 0.0]]), k=1)
    with pytest.raises(ValueError, match="NaN"):
        VectorIndex(torch.tensor([[1.0, INF], [0.0, 1.0]]))


def test_a_zero_query_still_scores_zero():
    # TF-IDF of a question with no known word: a zero vector, every score 0 (not an error)
    scores, _ = VectorIndex(torch.eye(3)).search(torch.zeros(3), k=3)
    assert torch.equal(scores, torch.zeros(1, 3))


@pytest.mark.parametrize("k", [2.5, NAN, INF, 0, 4, True, "2"])
def test_k_must_be_a_whole_number_in_range(k):
    with pytest.raises(ValueError, match="k must"):
        VectorIndex(torch.eye(3)).search(torch.ones(3), k=k)


def test_retrieve_with_a_fractional_k_says_what_to_do():
    docs = ["Velmora lies on the river Oskel. It has a bridge.", "Tarn is a lake."]
    chunks = chunk_documents(docs)
    retriever = Retriever(chunks, TfidfVectorizer().fit([c.text for c in chunks]))
    with pytest.raises(ValueError, match="k must"):
        retriever.retrieve("Which river?", k=2.5)
    assert len(retriever.retrieve("Which river?", k=2.0)) == 2  # a whole float is fine


@pytest.mark.parametrize("k", [2.5, NAN, 0])
def test_recall_at_k_needs_a_whole_k(k):
    with pytest.raises(ValueError, match="k must"):
        recall_at_k([[0, 1]], [{1}], k)


@pytest.mark.parametrize("size, overlap", [(2.5, 0), (NAN, 0), (3, 1.5), (3, NAN), (INF, 0)])
def test_chunk_sizes_must_be_whole_numbers(size, overlap):
    with pytest.raises(ValueError, match="whole number"):
        window_starts(10, size, overlap)
    with pytest.raises(ValueError, match="whole number"):
        chunk_words(["w"] * 10, size, overlap)


def test_mean_pooled_states_batch_size_must_be_positive():
    from course.rag.index import mean_pooled_states

    with pytest.raises(ValueError, match="batch_size"):
        mean_pooled_states(tiny(vocab_size=TOK.vocab_size), TOK, ["a"], batch_size=0)


def test_sanity_whole_numbers_written_as_floats_are_accepted():
    assert window_starts(10, 4.0, 1.0) == window_starts(10, 4, 1)
    assert math.isclose(recall_at_k([[0, 1]], [{1}], 2.0), 1.0)
