"""course.pretrained, offline: a tiny random transformers GPT-2 goes into the course's GPT and back
with the same logits, through the real loading path (a local folder, and the hub path with the
download replaced by the folder's files)."""

import json
import shutil
from pathlib import Path

import pytest
import torch

from course import pretrained
from course.generate import generate
from course.models.gpt import GPT, GPTConfig

transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

VOCAB = 300  # a byte-level BPE needs the 256 bytes first


def tiny_hf(activation="gelu_new", seed=0):
    """A random GPT-2 whose weights are large enough that GELU's two forms give different logits."""
    torch.manual_seed(seed)
    config = transformers.GPT2Config(
        n_layer=2,
        n_head=2,
        n_embd=32,
        vocab_size=VOCAB,
        n_positions=16,
        activation_function=activation,
        layer_norm_epsilon=1e-5,
    )
    model = transformers.GPT2LMHeadModel(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("weight") and p.dim() == 2:
                p.normal_(0, 0.4 if "wte" in name or "wpe" in name else 0.25)
            else:
                p.normal_(1.0 if "ln" in name and name.endswith("weight") else 0.0, 0.1)
    return model


def tiny_tokenizer(path: Path) -> Path:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB,
        special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(["the cat sat on the mat. the dog sat on the log."] * 20, trainer)
    tok.save(str(path))
    return path


@pytest.fixture(scope="module")
def hf_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny-gpt2")
    tiny_hf().save_pretrained(folder)
    tiny_tokenizer(folder / "tokenizer.json")
    assert (folder / "model.safetensors").is_file()
    return folder


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)


IDX = torch.tensor([[5, 17, 250, 3, 99, 0, 42], [1, 2, 3, 4, 5, 6, 7]])


def hf_logits(folder) -> torch.Tensor:
    model = transformers.GPT2LMHeadModel.from_pretrained(folder).eval()
    with torch.no_grad():
        return model(IDX).logits


def test_loaded_gpt2_gives_transformers_logits(hf_folder):
    model = pretrained.load_gpt2(hf_folder)
    assert isinstance(model, GPT)
    assert model.config.block_size == 16 and model.config.vocab_size == VOCAB
    with torch.no_grad():
        ours = model(IDX)
    assert torch.allclose(ours, hf_logits(hf_folder), atol=1e-5, rtol=0)
    assert model.lm_head.weight is model.wte.weight  # still tied


def test_the_gelu_form_matters_at_this_scale(hf_folder):
    # the test above can fail: with the course's exact GELU the logits are off by far more than 1e-5
    model = pretrained.load_gpt2(hf_folder)
    for block in model.blocks:
        block.mlp.gelu_approximate = "none"
    with torch.no_grad():
        gap = (model(IDX) - hf_logits(hf_folder)).abs().max().item()
    assert gap > 1e-4


def test_an_exact_gelu_gpt2_loads_with_the_exact_form(tmp_path):
    tiny_hf("gelu").save_pretrained(tmp_path)
    model = pretrained.load_gpt2(tmp_path)
    assert {b.mlp.gelu_approximate for b in model.blocks} == {"none"}
    with torch.no_grad():
        assert torch.allclose(model(IDX), hf_logits(tmp_path), atol=1e-5, rtol=0)


def not_cached():
    from huggingface_hub.errors import LocalEntryNotFoundError

    return LocalEntryNotFoundError("not in the cache")


def test_the_hub_path_downloads_into_the_course_cache(hf_folder, monkeypatch):
    calls = []

    def fake_download(repo, filename, *, revision, cache_dir, local_files_only):
        calls.append((repo, filename, revision, Path(cache_dir), local_files_only))
        if local_files_only:
            raise not_cached()
        return str(hf_folder / filename)

    monkeypatch.setattr("huggingface_hub.hf_hub_download", fake_download)
    monkeypatch.setattr(pretrained, "_hub_unreachable", lambda: None)
    model = pretrained.load_gpt2("someone/tiny-gpt2")
    # each file: the cache first, then the hub
    assert [(c[1], c[4]) for c in calls] == [
        ("config.json", True),
        ("config.json", False),
        ("model.safetensors", True),
        ("model.safetensors", False),
    ]
    assert all(c[2] == "main" for c in calls)
    assert calls[0][3] == pretrained.hub_cache() and "cache" in str(calls[0][3])
    with torch.no_grad():
        assert torch.allclose(model(IDX), hf_logits(hf_folder), atol=1e-5, rtol=0)


def test_the_pinned_gpt2_is_checksummed(hf_folder, monkeypatch):
    monkeypatch.setattr(
        "huggingface_hub.hf_hub_download", lambda repo, filename, **kw: str(hf_folder / filename)
    )
    with pytest.raises(pretrained.PretrainedChecksumError, match="not the pinned GPT-2 weights"):
        pretrained.load_gpt2()  # the tiny file is not OpenAI's 548 MB
    size = (hf_folder / "model.safetensors").stat().st_size
    sha = pretrained._sha256(hf_folder / "model.safetensors")
    monkeypatch.setitem(
        pretrained.PINNED,
        pretrained.GPT2_REPO,
        pretrained.PinnedWeights(revision="abc", sha256=sha, size=size),
    )
    assert isinstance(pretrained.load_gpt2(), GPT)  # the right bytes pass, and are remembered
    assert list(pretrained.hub_cache().glob("verified-*.json"))
    monkeypatch.setattr(pretrained, "_sha256", lambda path: pytest.fail("hashed twice"))
    pretrained.load_gpt2()


def test_offline_fails_at_once_with_what_to_do(monkeypatch):
    seen = []

    def cache_only(repo, filename, *, local_files_only, **kw):
        seen.append(local_files_only)
        raise not_cached()

    monkeypatch.setattr("huggingface_hub.hf_hub_download", cache_only)
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(pretrained.PretrainedUnavailable, match="COURSE_OFFLINE") as error:
        pretrained.load_gpt2()
    assert seen == [True]  # the cache only: no network attempt
    assert "load_gpt2('/path/to/folder')" in str(error.value) and "internet" in str(error.value)


def test_no_network_fails_at_once_without_the_hub_client_retrying(monkeypatch):
    seen = []

    def cache_only(repo, filename, *, local_files_only, **kw):
        seen.append(local_files_only)
        raise not_cached()

    monkeypatch.setattr("huggingface_hub.hf_hub_download", cache_only)
    monkeypatch.setattr(pretrained, "_hub_unreachable", lambda: "no network: huggingface.co ...")
    with pytest.raises(pretrained.PretrainedUnavailable, match="no network.*internet"):
        pretrained.load_gpt2()
    assert seen == [True]


def test_a_failed_download_says_what_to_do(monkeypatch):
    def no_network(repo, filename, **kw):
        raise OSError("Temporary failure in name resolution")

    monkeypatch.setattr("huggingface_hub.hf_hub_download", no_network)
    monkeypatch.setattr(pretrained, "_hub_unreachable", lambda: None)
    with pytest.raises(pretrained.PretrainedUnavailable, match="name resolution.*internet"):
        pretrained.gpt2_tokenizer()


def test_a_cached_file_needs_no_network(hf_folder, monkeypatch):
    def cached(repo, filename, *, local_files_only, **kw):
        assert local_files_only
        return str(hf_folder / filename)

    monkeypatch.setattr("huggingface_hub.hf_hub_download", cached)
    monkeypatch.setattr(pretrained, "_hub_unreachable", lambda: pytest.fail("probed the network"))
    assert pretrained.gpt2_tokenizer("someone/tiny-gpt2").vocab_size > 256


def test_a_missing_folder_or_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no folder"):
        pretrained.load_gpt2(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="has no config.json"):
        pretrained.load_gpt2(tmp_path)


def test_what_the_course_gpt_cannot_hold_is_refused(hf_folder, tmp_path):
    config = json.loads((hf_folder / "config.json").read_text())
    for change, match in [
        ({"n_inner": 7}, "n_inner"),
        ({"scale_attn_by_inverse_layer_idx": True}, "scale"),
        ({"activation_function": "relu"}, "GELU"),
        ({"model_type": "llama"}, "not GPT-2"),
    ]:
        with pytest.raises(ValueError, match=match):
            pretrained.config_from_hf({**config, **change})
    shutil.copytree(hf_folder, tmp_path / "broken")
    wider = {**config, "n_embd": 64, "n_head": 2}
    (tmp_path / "broken" / "config.json").write_text(json.dumps(wider))
    with pytest.raises(ValueError, match="shape"):
        pretrained.load_gpt2(tmp_path / "broken")


def test_the_loaded_model_generates_with_and_without_the_kv_cache(hf_folder):
    model = pretrained.load_gpt2(hf_folder)
    prompt = IDX[:1, :3]
    cached = generate(model, prompt, 10, greedy=True, use_kv_cache=True)
    plain = generate(model, prompt, 10, greedy=True, use_kv_cache=False)
    assert torch.equal(cached, plain)
    hf = transformers.GPT2LMHeadModel.from_pretrained(hf_folder).eval()
    expected = hf.generate(prompt, max_new_tokens=10, do_sample=False, pad_token_id=0)
    assert torch.equal(cached, expected)


def test_export_and_load_back_keep_the_logits(hf_folder, tmp_path):
    model = pretrained.load_gpt2(hf_folder)
    out = tmp_path / "exported"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    pretrained.export_gpt2(model, out, tokenizer=pretrained.gpt2_tokenizer(hf_folder))
    assert (out / "notes.txt").read_text() == "mine"  # nothing else in the folder is touched
    assert not [p for p in out.iterdir() if p.name.startswith(".export-")]
    assert json.loads((out / "config.json").read_text())["activation_function"] == "gelu_new"
    with torch.no_grad():
        ours = model(IDX)
        assert torch.allclose(hf_logits(out), ours, atol=1e-5, rtol=0)
        assert torch.allclose(pretrained.load_gpt2(out)(IDX), ours, atol=1e-5, rtol=0)
    same = pretrained.gpt2_tokenizer(hf_folder).encode("the cat")
    assert pretrained.gpt2_tokenizer(out).encode("the cat") == same


@pytest.mark.parametrize("bias", [True, False])
def test_a_course_trained_gpt_exports_to_transformers(tmp_path, bias):
    torch.manual_seed(0)
    config = GPTConfig(vocab_size=40, block_size=12, n_layer=2, n_head=2, n_embd=16, bias=bias)
    model = GPT(config).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.2)  # not the zero biases and unit norms of the init
    pretrained.export_gpt2(model, tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["activation_function"] == "gelu"
    idx = torch.randint(0, 40, (2, 12))
    with torch.no_grad():
        hf = transformers.GPT2LMHeadModel.from_pretrained(tmp_path).eval()
        assert torch.allclose(hf(idx).logits, model(idx), atol=1e-5, rtol=0)


def test_export_refuses_what_gpt2_cannot_hold(tmp_path):
    from course.align.lora import add_lora

    model = GPT(GPTConfig(vocab_size=40, block_size=12, n_layer=1, n_head=2, n_embd=16))
    add_lora(model, r=2)
    with pytest.raises(ValueError, match="merge_lora"):
        pretrained.export_gpt2(model, tmp_path / "out")
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileExistsError, match="is a file"):
        pretrained.export_gpt2(GPT(GPTConfig(vocab_size=40)), tmp_path / "file")


def test_gpt2_tokenizer_matches_the_tokenizers_library(hf_folder):
    from tokenizers import Tokenizer

    tok = pretrained.gpt2_tokenizer(hf_folder)
    reference = Tokenizer.from_file(str(hf_folder / "tokenizer.json"))
    text = "the cat sat on the log. Ünïcode 🙂"
    assert tok.encode(text) == reference.encode(text).ids
    assert tok.decode(tok.encode(text)) == text
    assert "".join(tok.tokens("the mat")) == "the mat"
    assert tok.vocab_size == reference.get_vocab_size() <= VOCAB


def test_the_optional_section_skips_with_a_reason(hf_folder, monkeypatch, capsys):
    monkeypatch.setenv("COURSE_FAST", "1")
    assert pretrained.load_gpt2_if_available() is None
    assert "skipped in FAST mode" in capsys.readouterr().out
    monkeypatch.delenv("COURSE_FAST")
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setattr(
        "huggingface_hub.hf_hub_download", lambda *a, **kw: (_ for _ in ()).throw(not_cached())
    )
    assert pretrained.load_gpt2_if_available() is None
    assert "[skipped: Could not get config.json" in capsys.readouterr().out
    monkeypatch.setattr(
        "huggingface_hub.hf_hub_download", lambda repo, filename, **kw: str(hf_folder / filename)
    )
    monkeypatch.setitem(
        pretrained.PINNED,
        pretrained.GPT2_REPO,
        pretrained.PinnedWeights(
            revision="abc",
            sha256=pretrained._sha256(hf_folder / "model.safetensors"),
            size=(hf_folder / "model.safetensors").stat().st_size,
        ),
    )
    model, tokenizer = pretrained.load_gpt2_if_available()
    assert isinstance(model, GPT) and tokenizer.decode(tokenizer.encode("the mat")) == "the mat"
