"""Notebook 04's diagrams: the RNN unrolled in time (with BPTT's backward path), one LSTM step."""

from pathlib import Path

from _style import ACCENT, GREY, LANGS, LIGHT, OUT, RNN, Canvas

HERE = Path(__file__).resolve().parent

# The Chinese variant's labels (docs/glossary.md's terms); symbols, math and code stay as
# written.
ZH = {
    "A recurrent network unrolled over time, with gradients flowing back": (
        "沿时间展开的循环神经网络，梯度沿反方向回传"
    ),
    "backward: ∂h_t/∂h_{t-1} = diag(1 − h_t^2) W_{hh}, once per step": (
        "反向传播：每一步乘一次 ∂h_t/∂h_{t-1} = diag(1 − h_t^2) W_{hh}"
    ),
    "the same W_{ih}, W_{hh}, b at every step": "每一步都用同一组 W_{ih}、W_{hh}、b",
    "One LSTM step: gates decide what the cell state keeps, adds and shows": (
        "LSTM 的一步：由门决定细胞状态保留什么、加入什么、输出什么"
    ),
    "nn.LSTM's weight_ih_l0: 4 blocks (i, f, g, o)": "nn.LSTM 的 weight_ih_l0：4 块 (i, f, g, o)",
}


def rnn_unrolled(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        700, 320, "A recurrent network unrolled over time, with gradients flowing back", lang, ZH
    )
    # folded: one cell with a loop
    c.box(40, 130, 80, 50, "tanh", fill=RNN)
    c.curve_arrow(110, 130, 80, 70, 58, 130)
    c.text(80, 84, "h_{t-1}", size=12)
    c.box(50, 240, 60, 28, "x_t", fill=LIGHT)
    c.arrow(80, 240, 80, 180)
    c.arrow(80, 130, 80, 112, head=False)
    c.text(160, 155, "=", size=24)
    # unrolled
    xs = [240 + 120 * k for k in range(4)]
    c.box(180, 143, 34, 24, "h_0", fill="white", size=12)
    for k, x in enumerate(xs):
        c.box(x, 130, 76, 50, "tanh", fill=RNN)
        c.box(x + 10, 240, 56, 28, f"x_{k + 1}", fill=LIGHT)
        c.arrow(
            x + 38, 240, x + 38, 180, label="W_{ih}" if k == 0 else None, label_dx=-20, label_dy=0
        )
        c.box(x + 3, 40, 70, 28, f"p(x_{k + 2})", fill=OUT, size=12)
        c.arrow(x + 38, 130, x + 38, 68, label=f"h_{k + 1}", label_dx=16, label_dy=4, size=12)
        left = 214 if k == 0 else xs[k - 1] + 76
        c.arrow(left, 147, x, 147, label="W_{hh}" if k == 1 else None, label_dy=-9)
        # the backward pass of BPTT: one Jacobian per step
        if k > 0:
            c.arrow(x, 166, xs[k - 1] + 76, 166, color=ACCENT, dashed=True)
    c.text(
        690,
        20,
        "p(x_{t+1} | x_{≤t}) = softmax(h_t W_{hy}^T + b_y)",
        size=11,
        color=GREY,
        anchor="end",
    )
    c.text(
        470,
        296,
        "backward: ∂h_t/∂h_{t-1} = diag(1 − h_t^2) W_{hh}, once per step",
        size=12,
        color=ACCENT,
    )
    c.text(470, 206, "the same W_{ih}, W_{hh}, b at every step", size=11, color=GREY)
    c.save(folder, "04_rnn_unrolled.svg")


def lstm_cell(folder: Path, lang: str = "en") -> None:
    c = Canvas(
        620, 360, "One LSTM step: gates decide what the cell state keeps, adds and shows", lang, ZH
    )
    c.rect(90, 40, 420, 250, fill="#f5f3fa", stroke=GREY)
    top, bus = 90, 244
    # the cell state line: c_{t-1} -> (x f) -> (+ i*g) -> c_t
    c.text(40, top - 14, "c_{t-1}", size=13)
    c.arrow(20, top, 160, top)
    c.op(170, top, "×")
    c.arrow(180, top, 290, top)
    c.op(300, top, "+")
    c.arrow(310, top, 580, top)
    c.text(575, top - 14, "c_t", size=13)
    # the input bus [h_{t-1}, x_t]
    c.text(40, 278, "h_{t-1}", size=13)
    c.path_arrow([(20, 264), (100, 264), (100, bus), (400, bus)], head=False)
    c.text(140, 330, "x_t", size=13)
    c.path_arrow([(140, 318), (140, bus)], head=False)
    gates = [(170, "σ", "f_t"), (262, "σ", "i_t"), (338, "tanh", "g_t"), (400, "σ", "o_t")]
    for x, fn, name in gates:
        c.box(x - 24, 178, 48, 30, fn, fill=OUT if fn == "σ" else "#d9d2e9", size=12)
        c.arrow(x, bus, x, 208)
        c.text(x + 30, 168, name, size=12, anchor="start" if name != "f_t" else "middle")
    c.arrow(170, 178, 170, top + 10)  # f_t gates the old cell state
    c.op(300, 140, "×")
    c.arrow(262, 178, 293, 147)  # i_t
    c.arrow(338, 178, 307, 147)  # g_t
    c.arrow(300, 130, 300, top + 10)
    # the output: h_t = o_t * tanh(c_t)
    c.path_arrow([(460, top), (460, 122)])
    c.box(436, 122, 48, 26, "tanh", fill="#d9d2e9", size=12)
    c.op(460, 193, "×")
    c.arrow(460, 148, 460, 183)
    c.arrow(424, 193, 450, 193)
    c.path_arrow([(460, 203), (460, 264), (580, 264)])
    c.text(575, 278, "h_t", size=13)
    c.text(300, 344, "c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t      h_t = o_t ⊙ tanh(c_t)", size=13)
    c.text(300, 24, "nn.LSTM's weight_ih_l0: 4 blocks (i, f, g, o)", size=11, color=GREY, mono=True)
    c.save(folder, "04_lstm_cell.svg")


def main(folder: Path = HERE) -> None:
    for lang in LANGS:
        rnn_unrolled(folder, lang)
        lstm_cell(folder, lang)


if __name__ == "__main__":
    main()
