"""Notebook 10's diagram: the RLHF pipeline (SFT -> preferences -> reward model -> PPO with KL),
DPO beside it."""

from pathlib import Path

from _style import ATTN, BLUE, EMBED, GREY, LANGS, LIGHT, OUT, TRAIN, Canvas

HERE = Path(__file__).resolve().parent

# The Chinese variant's labels (docs/glossary.md's terms); symbols, math and code stay as
# written.
ZH = {
    "RLHF: SFT, preference pairs, a reward model and PPO with a KL penalty; "
    "DPO uses the pairs directly": (
        "RLHF：SFT、偏好对、奖励模型，以及带 KL 惩罚的 PPO；DPO 直接使用偏好对"
    ),
    "pretrained GPT": "预训练的 GPT",
    "SFT model": "SFT 模型",
    "π_{SFT} (notebook 09)": "π_{SFT}（第 09 课）",
    "per prompt x": "每个提示词 x",
    "sample K replies": "采样 K 个回复",
    "annotator ranks them": "由标注者排序",
    "pairs (x, y_w, y_l)": "偏好对 (x, y_w, y_l)",
    "reward model r_θ": "奖励模型 r_θ",
    "score": "打分",
    "(β: the KL penalty)": "（β：KL 惩罚系数）",
    "advantages by GAE": "用 GAE 估计优势",
    "clipped ratio π/π_{old}": "裁剪的比率 π/π_{old}",
    "π starts as π_{SFT}": "π 从 π_{SFT} 开始",
    "no reward model, no sampling during training": "不需要奖励模型，训练中也不采样",
    "π_{ref} = frozen copy of π_{SFT}": "π_{ref} = π_{SFT} 的冻结副本",
}


def rlhf(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        840,
        390,
        "RLHF: SFT, preference pairs, a reward model and PPO with a KL penalty; "
        "DPO uses the pairs directly",
        lang,
        ZH,
    )
    c.box(20, 40, 130, 40, "pretrained GPT", fill=LIGHT, size=12)
    c.box(20, 150, 130, 44, "SFT model", fill=EMBED, sub="π_{SFT} (notebook 09)", size=12)
    c.arrow(85, 80, 85, 150)
    c.box(190, 40, 150, 44, "sample K replies", fill=LIGHT, sub="per prompt x", size=12)
    c.path_arrow([(150, 172), (168, 172), (168, 62), (190, 62)])
    c.box(190, 150, 150, 44, "pairs (x, y_w, y_l)", fill=OUT, sub="annotator ranks them", size=12)
    c.arrow(265, 84, 265, 150)
    # the PPO route
    c.box(390, 40, 170, 50, "reward model r_θ", fill=TRAIN, sub="−log σ(r_w − r_l)", size=12)
    c.path_arrow([(340, 172), (362, 172), (362, 65), (390, 65)])
    c.rect(600, 20, 220, 150, fill=ATTN)
    c.lines(
        710,
        95,
        [
            "PPO",
            "R = r_θ(x, y) − β Σ_t log π/π_{ref}",
            "(β: the KL penalty)",
            "advantages by GAE",
            "clipped ratio π/π_{old}",
            "π starts as π_{SFT}",
        ],
        size=12,
    )
    c.arrow(560, 65, 600, 65)
    c.box(650, 190, 120, 34, "π_{PPO}", fill=EMBED, size=13)
    c.arrow(710, 170, 710, 190)
    c.text(580, 52, "score", size=10, color=GREY)
    # the DPO route
    c.rect(390, 262, 430, 70, fill="#e8eef8")
    c.lines(
        605,
        297,
        [
            "DPO: −log σ(β log π(y_w|x)/π_{ref}(y_w|x) − β log π(y_l|x)/π_{ref}(y_l|x))",
            "no reward model, no sampling during training",
        ],
        size=12,
    )
    c.path_arrow([(265, 194), (265, 290), (390, 290)], color=BLUE)
    c.box(650, 346, 120, 34, "π_{DPO}", fill=EMBED, size=13)
    c.arrow(710, 332, 710, 346)
    # the reference model: a frozen copy of the SFT model
    c.path_arrow([(85, 194), (85, 318), (390, 318)], color=GREY, dashed=True)
    c.text(95, 306, "π_{ref} = frozen copy of π_{SFT}", size=11, color=GREY, anchor="start")
    c.save(folder, "10_rlhf_pipeline.svg")


def main(folder: Path = HERE) -> None:
    for lang in LANGS:
        rlhf(folder, lang)


if __name__ == "__main__":
    main()
