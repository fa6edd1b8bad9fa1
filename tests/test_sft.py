import torch
import torch.nn.functional as F

from course.align import tasks
from course.align.sft import IGNORE, collate, complete, encode_example, sft_batches
from course.models.gpt import GPT, GPTConfig
from course.train import next_token_loss

TOK = tasks.tokenizer()


def tiny_gpt(block: int = 48) -> GPT:
    torch.manual_seed(0)
    return GPT(
        GPTConfig(vocab_size=TOK.vocab_size, block_size=block, n_layer=1, n_head=2, n_embd=16)
    )


def test_labels_mask_exactly_the_prompt():
    x, y = encode_example(TOK, "ab", "c\n")
    assert x == TOK.encode("abc")
    assert y == [IGNORE, TOK.encode("c")[0], TOK.encode("\n")[0]]


def test_loss_masking_ignores_prompt_tokens():
    """The loss (and its gradient) does not depend on the logits at prompt positions."""
    prompt, response = "User: Reverse cat.\nBot:", " tac\n"
    x, y = collate([encode_example(TOK, prompt, response)], pad_id=0)
    torch.manual_seed(0)
    logits = torch.randn(1, x.size(1), TOK.vocab_size, requires_grad=True)
    loss = F.cross_entropy(logits.view(-1, TOK.vocab_size), y.view(-1), ignore_index=IGNORE)
    loss.backward()
    n_prompt_targets = len(prompt) - 1
    assert torch.all(logits.grad[0, :n_prompt_targets] == 0)
    assert torch.all(logits.grad[0, n_prompt_targets:].abs().sum(-1) > 0)
    # equal to the plain mean cross-entropy over the reply tokens only
    manual = F.cross_entropy(logits[0, n_prompt_targets:], torch.tensor(TOK.encode(response)))
    assert torch.allclose(loss, manual)


def test_notebook_masking_matches_package():
    # the plain construction of notebook 09
    prompt, response = "User: Shout dog.\nBot:", " DOG\n"
    ids = TOK.encode(prompt) + TOK.encode(response)
    inputs, targets = ids[:-1], ids[1:]
    labels = [-100] * (len(TOK.encode(prompt)) - 1) + targets[len(TOK.encode(prompt)) - 1 :]
    assert (inputs, labels) == encode_example(TOK, prompt, response)


def test_collate_left_pads_and_checks_the_context():
    a, b = encode_example(TOK, "ab", "c\n"), encode_example(TOK, "abcd", "e\n")
    x, y = collate([a, b], pad_id=0)
    assert x.shape == y.shape == (2, 5)
    assert x[0, :2].tolist() == [0, 0] and y[0, :2].tolist() == [IGNORE, IGNORE]
    try:
        collate([a, b], pad_id=0, block_size=4)
    except ValueError as error:
        assert "context" in str(error)
    else:
        raise AssertionError("collate accepted examples longer than the context")


def test_sft_batches_train_with_the_default_loss():
    examples = [tasks.Example("User: Shout ab.\nBot:", " AB\n", "upper", "ab")] * 4
    batch = sft_batches(examples, TOK, batch_size=2)()
    loss = next_token_loss(tiny_gpt(), batch)
    assert torch.isfinite(loss) and loss.item() > 0


def test_sft_batches_replay_appends_fully_labelled_text_windows():
    examples = [
        tasks.Example("User: Shout ab.\nBot:", " AB\n", "upper", "ab"),
        tasks.Example("User: Reverse abcd, please.\nBot:", " dcba\n", "reverse", "abcd"),
    ] * 3
    # token ids equal to their positions, so a window tells where it starts
    text = torch.arange(200)
    plain = sft_batches(examples, TOK, batch_size=4, seed=3)()
    x, y = sft_batches(examples, TOK, batch_size=4, seed=3, replay_ids=text, replay_rows=2)()
    assert x.shape == y.shape == (6, plain[0].size(1))
    # the examples are exactly the batch without replay; the windows are consecutive text, y = x
    # shifted by one
    assert torch.equal(x[:4], plain[0]) and torch.equal(y[:4], plain[1])
    for row_x, row_y in zip(x[4:], y[4:]):
        start = int(row_x[0])
        assert torch.equal(row_x, text[start : start + x.size(1)])
        assert torch.equal(row_y, text[start + 1 : start + 1 + x.size(1)])
    assert torch.all(y[4:] != IGNORE)
    try:
        sft_batches(examples, TOK, batch_size=4, replay_rows=2)
    except ValueError as error:
        assert "replay_ids" in str(error)
    else:
        raise AssertionError("replay_rows without replay_ids was accepted")


def test_complete_stops_at_the_newline_and_is_deterministic():
    model = tiny_gpt()
    prompts = ["User: Shout cat.\nBot:", "x ="]
    first = complete(model, TOK, prompts, max_new_tokens=10)
    assert first == complete(model, TOK, prompts, max_new_tokens=10)
    assert len(first) == 2 and all("\n" not in r for r in first)


def test_complete_refuses_prompts_beyond_the_context():
    model = tiny_gpt(block=16)
    try:
        complete(model, TOK, ["x" * 12], max_new_tokens=8)
    except ValueError as error:
        assert "context" in str(error)
    else:
        raise AssertionError("complete accepted a prompt that does not fit")


def test_instruction_tune_returns_a_trained_copy_and_leaves_the_model_alone():
    from course.align.sft import instruction_tune

    lines = [
        f"the {w} {t} is kind"
        for w in ["good", "bold", "wise", "fair", "calm", "dark"]
        for t in ["love", "king", "heart", "life", "night", "blood", "time", "world"]
        for _ in range(2)
    ]
    words = [f"{a}{b}{c}{d}" for a in "bdfk" for b in "aeio" for c in "lmnr" for d in "st"]
    text = "\n".join(lines + [" ".join(words[i : i + 5]) for i in range(0, len(words), 5)]) * 3
    data = tasks.prepare_data(text, seed=0)
    torch.manual_seed(0)
    model = GPT(
        GPTConfig(
            vocab_size=tasks.tokenizer().vocab_size, block_size=96, n_layer=1, n_head=2, n_embd=16
        )
    )
    before = {k: v.clone() for k, v in model.state_dict().items()}
    tuned = instruction_tune(model, data, steps=3, n_examples=20, progress=False, device="cpu")
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # untouched
    assert any(not torch.equal(before[k], v) for k, v in tuned.state_dict().items())  # trained
    untrained = instruction_tune(model, data, steps=0, device="cpu")
    assert untrained is not model and all(
        torch.equal(before[k], v) for k, v in untrained.state_dict().items()
    )
