"""A tiny random HunYuanDenseV1 checkpoint and HY-MT-style tokenizer, built in tests.

Import the fixtures into a test module: `from tests.tiny_model import tiny_model_dir`.
The weights are random, so generations are junk; only shapes, ids and plumbing matter.
"""

from __future__ import annotations

from pathlib import Path

import pytest

BOS = "<｜hy_begin▁of▁sentence｜>"
EOS = "<｜hy_end▁of▁sentence｜>"
PAD = "<｜hy_pad｜>"
USER = "<｜hy_User｜>"
ASSISTANT = "<｜hy_Assistant｜>"
TURN_END = "<｜hy_place▁holder▁no▁2｜>"
SPECIAL_TOKENS = [BOS, EOS, PAD, USER, ASSISTANT, TURN_END]

# One user turn, no system prompt; assistant turns end with the placeholder token.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'user' %}" + USER + "{{ message['content'] }}"
    "{% elif message['role'] == 'assistant' %}" + ASSISTANT
    + "{{ message['content'] }}" + TURN_END + "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}" + ASSISTANT + "{% endif %}"
)

SAMPLE_TEXTS = [
    "Hello world.",
    "The quick brown fox jumps over the lazy dog. " * 3,
    "今天天气很好，我们去公园玩吧。",
    "Press <s1>Save</s1> to keep <s2>all</s2> changes.",
    "Der Hund.",
    "Machine translation turns documents in one language into another.",
]
"""Segments of varied length, script and tags, shared by the engine tests."""

CORPUS = """\
Translate the following segment into German, without additional explanation.
The quick brown fox jumps over the lazy dog.
Press <s1>Save</s1> to keep <s2>all</s2> changes.
Der schnelle braune Fuchs springt über den faulen Hund. Drücken Sie <s1>Speichern</s1>.
将以下文本翻译为德语，注意只需要输出翻译后的结果，不要额外解释：
今天天气很好，我们去公园玩吧。请点击<s1>保存</s1>按钮。
参考下面的翻译：模型 翻译成 Modell。参考上面的信息，把下面的文本翻译成英语。
<source>Hello <s1>world</s1></source><target>Hallo <s1>Welt</s1></target>
Machine translation turns documents in one language into another, segment by segment.
Die maschinelle Übersetzung überträgt Dokumente Satz für Satz in eine andere Sprache.
机器翻译把一种语言的文档逐段转换成另一种语言。
"""


def build_tokenizer(directory: Path, vocab_size: int = 600) -> None:
    """Train a byte-level BPE on CORPUS and save it as a PreTrainedTokenizerFast."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(CORPUS.splitlines() * 4, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        extra_special_tokens=[USER, ASSISTANT, TURN_END],
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(directory)


def build_model(
    directory: Path,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    seed: int = 0,
    intermediate: int | None = None,
    dtype: str = "float32",
) -> None:
    """Save a seeded random HunYuanDenseV1ForCausalLM sized to the saved tokenizer."""
    import torch
    from transformers import (
        AutoTokenizer,
        GenerationConfig,
        HunYuanDenseV1Config,
        HunYuanDenseV1ForCausalLM,
    )

    tokenizer = AutoTokenizer.from_pretrained(directory)
    ids = {
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
        "pad_token_id": tokenizer.pad_token_id,
    }
    config = HunYuanDenseV1Config(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=intermediate or hidden * 3,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        head_dim=hidden // heads,
        max_position_embeddings=4096,
        tie_word_embeddings=False,  # tied random weights just repeat the last token
        initializer_range=0.1,
        rope_parameters={
            "rope_type": "dynamic",
            "rope_theta": 10000.0,
            "alpha": 1000.0,
            "factor": 1.0,
        },
        **ids,
    )
    torch.manual_seed(seed)
    model = HunYuanDenseV1ForCausalLM(config).to(getattr(torch, dtype)).eval()
    model.generation_config = GenerationConfig(**ids)
    model.save_pretrained(directory)


def build_tiny_model(directory: Path, **model_options: int) -> Path:
    """Tokenizer plus random model in `directory`; returns the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    build_tokenizer(directory)
    build_model(directory, **model_options)
    return directory


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session-wide tiny HY-MT-like checkpoint directory."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-hymt"))
