"""The course's methods against the libraries a learner uses next, on the same inputs
(docs/huggingface.md).

Optional: each test is skipped when its peer is not installed (``pip install -e ".[peers]"``;
TRL's trainers also import ``datasets``)."""

import copy
import json
from collections import Counter, defaultdict
from types import SimpleNamespace

import pytest
import torch

from course.models.gpt import GPT, GPTConfig


def tiny_gpt(seed=0) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=50, block_size=16, n_layer=2, n_head=2, n_embd=32)).eval()


# ------------------------------------------------------------------------------ LoRA vs peft
def test_course_lora_equals_peft_with_the_same_a_b_r_alpha():
    peft = pytest.importorskip("peft")
    from course.align.lora import add_lora, count_parameters

    base = tiny_gpt()
    ours, theirs = copy.deepcopy(base), copy.deepcopy(base)
    names = add_lora(ours, r=4, alpha=8)  # the attention projections
    config = peft.LoraConfig(r=4, lora_alpha=8, target_modules=names, lora_dropout=0.0)
    theirs = peft.inject_adapter_in_model(config, theirs)
    torch.manual_seed(1)
    for name in names:
        mine, peer = ours.get_submodule(name), theirs.get_submodule(name)
        torch.nn.init.normal_(mine.lora_B, std=0.1)  # B = 0 at the start would hide a scaling error
        with torch.no_grad():
            peer.lora_A["default"].weight.copy_(mine.lora_A)  # (r, in) in both
            peer.lora_B["default"].weight.copy_(mine.lora_B)  # (out, r) in both
    idx = torch.randint(0, 50, (3, 12))
    with torch.no_grad():
        assert torch.allclose(ours(idx), theirs(idx), atol=1e-6, rtol=0)
    trainable = sum(p.numel() for p in theirs.parameters() if p.requires_grad)
    assert count_parameters(ours)[0] == trainable  # the same weights are frozen


# ------------------------------------------------------------------------------ DPO vs TRL
def _trl_dpo_loss(policy_hf, reference_hf, input_ids, completion_mask, beta):
    """TRL's own DPO loss code (DPOTrainer._compute_loss, loss_type="sigmoid") on one batch,
    without building a Trainer (which needs datasets, an optimizer and a training loop)."""
    from trl.trainer.dpo_trainer import DPOTrainer
    from trl.trainer.utils import add_fused_lm_head

    add_fused_lm_head(policy_hf, outputs=("log_probs", "entropy", "mean_logits", "is_top1"))
    add_fused_lm_head(reference_hf)
    trainer = DPOTrainer.__new__(DPOTrainer)
    identity = lambda x: x  # noqa: E731  (one process: gathering changes nothing)
    trainer.__dict__.update(
        model=policy_hf,
        ref_model=reference_hf,
        beta=beta,
        loss_types=["sigmoid"],
        loss_weights=[1.0],
        f_divergence_type="reverse_kl",
        ld_alpha=None,
        precompute_ref_logps=False,
        aux_loss_enabled=False,
        use_weighting=False,
        _tp_size=1,
        _total_train_tokens=0,
        _metrics={"train": defaultdict(list), "eval": defaultdict(list)},
        args=SimpleNamespace(gradient_checkpointing_kwargs=None),
        accelerator=SimpleNamespace(
            device=torch.device("cpu"),
            gather=identity,
            gather_for_metrics=identity,
            unwrap_model=identity,
        ),
    )
    inputs = {
        "input_ids": input_ids,
        "attention_mask": torch.ones_like(input_ids),
        "completion_mask": completion_mask,
    }
    return trainer._compute_loss(policy_hf, inputs, return_outputs=False), trainer._metrics["eval"]


def test_course_dpo_loss_equals_trl_sigmoid_loss(tmp_path):
    pytest.importorskip("trl")
    pytest.importorskip("datasets")  # TRL's trainer modules import it
    transformers = pytest.importorskip("transformers")
    from course.align.dpo import dpo_loss, sequence_logprob
    from course.align.sft import IGNORE
    from course.pretrained import load_gpt2

    models = {}
    for name, seed in [("policy", 0), ("reference", 1)]:
        torch.manual_seed(seed)
        config = transformers.GPT2Config(
            n_layer=2, n_head=2, n_embd=32, vocab_size=60, n_positions=16
        )
        hf = transformers.GPT2LMHeadModel(config).eval()
        with torch.no_grad():
            for p in hf.parameters():
                p.add_(torch.randn_like(p) * 0.1)
        hf.save_pretrained(tmp_path / name)
        models[name] = (
            transformers.GPT2LMHeadModel.from_pretrained(tmp_path / name).eval(),
            load_gpt2(tmp_path / name),
        )
    # 3 pairs: [chosen..., rejected...], prompt of 4 tokens, replies of 5; one length, so no padding
    # (the course pads with a newline and no attention mask, TRL with an attention mask)
    torch.manual_seed(2)
    prompts = torch.randint(0, 60, (3, 4))
    replies = [torch.randint(0, 60, (3, 5)) for _ in range(2)]  # chosen, rejected
    ids = torch.cat([torch.cat([prompts, r], 1) for r in replies])  # (6, 9)
    completion_mask = torch.zeros_like(ids)
    completion_mask[:, 4:] = 1
    beta = 0.3
    with torch.no_grad():
        trl_loss, metrics = _trl_dpo_loss(
            models["policy"][0], models["reference"][0], ids, completion_mask, beta
        )
        x, y = ids[:, :-1], ids[:, 1:].masked_fill(completion_mask[:, 1:] == 0, IGNORE)
        pol = sequence_logprob(models["policy"][1], x, y)  # (6,)
        ref = sequence_logprob(models["reference"][1], x, y)
        ours = dpo_loss(pol[:3], pol[3:], ref[:3], ref[3:], beta)
    assert ours.loss.item() == pytest.approx(trl_loss.item(), abs=1e-5)
    chosen_reward = metrics["rewards/chosen"][-1]
    assert ours.chosen_reward.mean().item() == pytest.approx(chosen_reward, abs=1e-5)
    assert ours.margin.mean().item() == pytest.approx(metrics["rewards/margins"][-1], abs=1e-5)


def test_course_reward_loss_equals_trl_reward_trainer():
    pytest.importorskip("trl")
    pytest.importorskip("datasets")
    from trl.trainer.reward_trainer import RewardTrainer

    from course.align.reward import bradley_terry_loss

    torch.manual_seed(0)
    chosen, rejected = torch.randn(5), torch.randn(5)
    trainer = RewardTrainer.__new__(RewardTrainer)
    trainer.__dict__.update(
        model=SimpleNamespace(training=False),
        _total_train_tokens=0,
        _tp_size=1,
        _metrics={"train": defaultdict(list), "eval": defaultdict(list)},
        args=SimpleNamespace(center_rewards_coefficient=None),
        accelerator=SimpleNamespace(gather=lambda x: x, gather_for_metrics=lambda x: x),
    )

    def scorer(**inputs):  # a "model" whose scores are these rewards, chosen rows first
        return SimpleNamespace(logits=torch.cat([chosen, rejected])[:, None])

    try:
        theirs = trainer.compute_loss(scorer, {"input_ids": torch.zeros(10, 1)})
    except (AttributeError, KeyError) as error:  # bookkeeping another TRL version may need
        pytest.skip(f"TRL's RewardTrainer needs more of a trainer here: {error}")
    assert bradley_terry_loss(chosen, rejected).item() == pytest.approx(theirs.item(), abs=1e-6)


# ------------------------------------------------------------------------------ BPE vs tokenizers
def _byte_chars() -> dict[int, str]:
    """GPT-2's byte -> printable character table (the alphabet of a byte-level tokenizer.json):
    printable Latin-1 bytes stand for themselves, the others get characters from 256 on."""
    keep = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def _is_greedy_bpe(merges: list[tuple[bytes, bytes]], chunks: Counter) -> bool:
    """Whether each merge was a most frequent pair at its step (counted over the chunks): a valid
    run of BPE, whatever the order chosen among tied pairs."""
    words = [([bytes([b]) for b in chunk.encode()], n) for chunk, n in chunks.items()]
    for a, b in merges:
        counts = Counter()
        for tokens, n in words:
            for pair in zip(tokens, tokens[1:]):
                counts[pair] += n
        if counts[(a, b)] != max(counts.values()):
            return False
        for i, (tokens, n) in enumerate(words):
            out, j = [], 0
            while j < len(tokens):
                if j + 1 < len(tokens) and tokens[j] == a and tokens[j + 1] == b:
                    out.append(a + b)
                    j += 2
                else:
                    out.append(tokens[j])
                    j += 1
            words[i] = (out, n)
    return True


def test_course_bpe_learns_the_merges_of_tokenizers_bytelevel_bpe():
    pytest.importorskip("tokenizers")
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    from course.data import load
    from course.text.bpe import CHUNK, BPETokenizer

    text = load("tinyshakespeare")[:60_000]
    text = "".join(c for c in text if not c.isdigit())  # the pre-tokenizers differ on digit runs
    n_merges = 100
    ours = BPETokenizer.train(text, vocab_size=256 + n_merges)
    peer = Tokenizer(models.BPE())
    peer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(
        vocab_size=256 + n_merges,
        min_frequency=2,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    peer.train_from_iterator([text], trainer)
    to_byte = {c: b for b, c in _byte_chars().items()}
    theirs = []
    for merge in json.loads(peer.to_str())["model"]["merges"]:
        left, right = merge if isinstance(merge, list) else merge.split(" ")
        theirs.append((bytes(to_byte[c] for c in left), bytes(to_byte[c] for c in right)))
    mine = [(ours.vocab[a], ours.vocab[b]) for a, b in ours.merges]
    assert len(mine) == len(theirs) == n_merges
    assert set(mine) == set(theirs)  # the same merges...
    chunks = Counter(CHUNK.findall(text))
    assert _is_greedy_bpe(mine, chunks) and _is_greedy_bpe(theirs, chunks)  # ...each a top pair
    same_place = sum(m == t for m, t in zip(mine, theirs))
    assert same_place >= n_merges // 2  # order differs only where counts tie (docs/huggingface.md)
