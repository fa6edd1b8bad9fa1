"""简体中文 for the exercise checks: the fixed messages, and each hint keyed by its English text.

A hint with no entry here prints in English (``tests/test_exercises_i18n.py`` reports how many are
translated per notebook). When you change a hint in ``nbNN.py``, change its key here too: the
English text is the key, so an outdated entry simply stops matching. Terms: docs/glossary.md.
"""

from __future__ import annotations

# The messages of course/exercises/__init__.py (str.format fields as in the English ones).
MESSAGES = {
    "pass": "✅ {name}：全部 {cases} 项检查通过。",
    "not_attempted": "✏️  {name}：尚未作答——把 `...` 换成你的代码，再运行这个单元格。",
    "failed": "❌ {name}：还没通过。提示：{hint}",
    "raised": "你的函数抛出了 {error}：{message}（第 {line} 行）",
}

# fmt: off
HINTS = {
    # -------------------------------------------------------------- nb01: bag of words and n-grams
    "return a dict that maps each word to its idf": "返回一个 dict，把每个词映射到它的 idf",
    "give every word that occurs in some document an idf": "在任一文档中出现过的每个词都要有 idf",
    "'cat' is in 1 of 3 documents: idf = ln(3 / 1)":
        "'cat' 只出现在 3 篇文档中的 1 篇：idf = ln(3 / 1)",
    "'sat' occurs three times but in 2 documents: df counts documents, not occurrences -> "
    "ln(3/2)":
        "'sat' 出现了三次，但只在 2 篇文档里：df 数的是文档数，不是出现次数 -> ln(3/2)",
    "a word in every document has idf ln(N/N) = 0": "出现在每篇文档中的词，idf = ln(N/N) = 0",
    "return a dict {word: count}": "返回一个 dict {word: count}",
    "'francisco' occurs 3 times but always after 'san': its continuation count is 1":
        "'francisco' 出现 3 次，但总是跟在 'san' 后面：它的接续计数是 1",
    "'glasses' follows 'my', 'the' and 'reading': 3 distinct left neighbours":
        "'glasses' 跟在 'my'、'the' 和 'reading' 之后：有 3 个不同的左邻词",
    "'san' follows 'francisco' twice: count distinct words, so 1":
        "'san' 两次跟在 'francisco' 之后：数的是不同的词，所以是 1",
    "every word with a left neighbour gets a count": "每个有左邻词的词都要有计数",
    "return a number (did you forget `return`?)": "返回一个数（是不是忘了写 `return`？）",
    "a model that gives every token probability 1/4 has perplexity 4":
        "给每个词元的概率都是 1/4 的模型，困惑度为 4",
    "average the log-probabilities, then exponentiate: exp(-(ln .5 + ln .125)/2) = 4":
        "先对对数概率求平均，再取指数：exp(-(ln .5 + ln .125)/2) = 4",
    "a model that is always certain and right has perplexity 1":
        "一个总是确信且总是正确的模型，困惑度为 1",
    # -------------------------------------------------------------- nb02: word embeddings
    "return a list of (centre, context) tuples": "返回由（中心词，上下文词）元组组成的 list",
    "with window 1, each word pairs with its left and right neighbour (not with itself)":
        "窗口为 1 时，每个词与它左右两边的邻词配对（不与自己配对）",
    "window 2 over 4 words: 3 pairs at distance 1 and 2 at distance 2, both directions":
        "4 个词、窗口为 2：距离为 1 的有 3 对，距离为 2 的有 2 对，两个方向都要算",
    "include distance-2 neighbours": "把距离为 2 的邻词也算进来",
    "a single word has no context": "只有一个词时没有上下文",
    "return one probability per word": "每个词返回一个概率",
    "normalise: the probabilities must sum to 1": "做归一化：概率之和必须为 1",
    "raise the counts to the power 3/4 (16^0.75 = 8) before normalising":
        "归一化之前先把计数取 3/4 次方（16^0.75 = 8）",
    "compute v_woman - v_man + v_king and return the word with the highest cosine similarity":
        "计算 v_woman - v_man + v_king，返回余弦相似度最高的词",
    "normalise every vector to unit length first: a long vector must not win by length alone":
        "先把每个向量归一化为单位长度：不能让一个向量仅仅因为长就胜出",
    "exclude the three question words from the answers (here 'king' itself is closest to the "
    "target)":
        "答案中要排除题目里的三个词（这里离目标最近的正是 'king' 本身）",
    # -------------------------------------------------------------- nb03: neural probabilistic LM
    "return logits of shape (batch, vocab)": "返回形状为 (batch, vocab) 的 logits",
    "x concatenates the context's rows of C in order: C[context].reshape(batch, n·m); then y = "
    "b + tanh(d + x Hᵀ) Uᵀ":
        "x 按顺序拼接上下文各词在 C 中的行：C[context].reshape(batch, n·m)；然后 y = b + "
        "tanh(d + x Hᵀ) Uᵀ",
    "return the perplexity as a number or a 0-d tensor (did you forget `return`?)":
        "把困惑度作为一个数或 0 维张量返回（是不是忘了写 `return`？）",
    "mix probabilities, not log-probabilities: both tokens get .3, so perplexity 1/.3":
        "混合的是概率，不是对数概率：两个词元都得到 .3，所以困惑度是 1/.3",
    "weight 1 gives model a alone": "权重为 1 时结果就是模型 a 自己",
    "return a pair (X, Y) (did you forget `return`?)": "返回一对 (X, Y)（是不是忘了写 `return`？）",
    "targets: every character of the name, then the end marker '.'":
        "目标：名字的每个字符，最后是结束符 '.'",
    "contexts start as all '.', then slide: [. .] -> a, [. a] -> b, [a b] -> .":
        "上下文一开始全是 '.'，然后向右滑动：[. .] -> a, [. a] -> b, [a b] -> .",
    "use context_size characters": "使用 context_size 个字符",
    # -------------------------------------------------------------- nb04: recurrent networks
    "return a pair (h_new, c_new)": "返回一对 (h_new, c_new)",
    "both states have shape (batch, hidden) = (2, 3)":
        "两个状态的形状都是 (batch, hidden) = (2, 3)",
    "c_new = f * c + i * g, with the gates i, f, o = sigmoid(...) and g = tanh(...) taken from "
    "the four blocks of x W_ih^T + b_ih + h W_hh^T + b_hh in the order i, f, g, o":
        "c_new = f * c + i * g，其中门 i, f, o = sigmoid(...)、g = tanh(...)，它们依次取自 x "
        "W_ih^T + b_ih + h W_hh^T + b_hh 的四个分块，顺序为 i, f, g, o",
    "h_new = o * tanh(c_new)": "h_new = o * tanh(c_new)",
    "return h_new with shape (batch, hidden) = (2, 3)":
        "返回形状为 (batch, hidden) = (2, 3) 的 h_new",
    "z is the share of the OLD state kept: h_new = (1 - z) * n + z * h, not the other way round":
        "z 是保留下来的【旧】状态所占的比例：h_new = (1 - z) * n + z * h，不要反过来",
    "blocks r, z, n in that order; n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn)): the "
    "reset gate multiplies the whole hidden part, bias included":
        "分块顺序为 r, z, n；n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))："
        "重置门乘的是整个隐藏部分，包括偏置",
    # -------------------------------------------------------------- nb05: seq2seq and attention
    "return the weights, one per source position: shape (batch, src_len) = (2, 3)":
        "返回权重，每个源位置一个：形状为 (batch, src_len) = (2, 3)",
    "each row must sum to 1: take a softmax over the source positions (dim=-1)":
        "每一行之和必须为 1：在源位置上做 softmax（dim=-1）",
    "the padded position must get weight exactly 0: set its score to -inf before the softmax":
        "填充位置的权重必须恰好为 0：在 softmax 之前把它的分数设为 -inf",
    "score_j = v · tanh(W q + U h_j + b): W acts on the query, U (and its bias b) on every key":
        "score_j = v · tanh(W q + U h_j + b)：W 作用于查询，U（及其偏置 b）作用于每个键",
    "return three tensors: origin, word, new_scores": "返回三个张量：origin、word、new_scores",
    "keep exactly k candidates": "恰好保留 k 个候选",
    "rank candidates by beam score + log p(word): the total log-probability of the whole output":
        "按“束分数 + log p(word)”给候选排序：这是整个输出的总对数概率",
    "origin is the beam a candidate extends (flat index // vocab), word the token (flat index "
    "% vocab)":
        "origin 是候选所延伸的那条束（展平后的下标 // vocab），word 是词元（展平后的下标 % vocab）",
    "with one beam and k = 1 a beam step is greedy: the argmax":
        "只有一条束且 k = 1 时，束搜索的一步就是贪心：取 argmax",
    # -------------------------------------------------------------- nb06: the Transformer
    "return a pair (output, weights)": "返回一个二元组 (output, weights)",
    "weights have one row per query and one column per key: (batch, 4, 5)":
        "weights 中每个查询占一行、每个键占一列：(batch, 4, 5)",
    "divide the scores by sqrt(d_k) before the softmax": "在 softmax 之前，先把分数除以 sqrt(d_k)",
    "each row of weights must sum to 1 (softmax over the keys)":
        "weights 的每一行之和必须为 1（在键的维度上做 softmax）",
    "weights = softmax(q @ k.transpose(-2, -1) / sqrt(d_k)), output = weights @ v":
        "先算权重 weights = softmax(q @ k.transpose(-2, -1) / sqrt(d_k))，"
        "再算输出 output = weights @ v",
    "masked keys (mask False) must get weight exactly 0: fill their scores with -inf":
        "被掩码的键（mask 为 False）权重必须恰好为 0：把它们的分数填成 -inf",
    "with a mask, the output averages only the allowed values":
        "有掩码时，输出只对允许的那些值求平均",
    "return a (max_len, d_model) tensor": "返回一个形状为 (max_len, d_model) 的张量",
    "position 0: sin(0) = 0 in even columns, cos(0) = 1 in odd":
        "位置 0：偶数列是 sin(0) = 0，奇数列是 cos(0) = 1",
    "columns 2i and 2i+1 share the angle pos / 10000^(2i / d_model) (i counts pairs, not columns)":
        "第 2i 列和第 2i+1 列共用同一个角度 pos / 10000^(2i / d_model)（i 数的是列对，不是列）",
    "the first pair turns fastest: PE[pos, 0] = sin(pos)": "第一对转得最快：PE[pos, 0] = sin(pos)",
    "return a (size, size) boolean tensor": "返回一个形状为 (size, size) 的布尔张量",
    "a position may attend to itself (the diagonal is True)":
        "一个位置可以关注它自己（对角线为 True）",
    "position 0 must not see position 1: the upper triangle is False":
        "位置 0 不能看到位置 1：上三角为 False",
    "True on and below the diagonal only": "只有对角线及其下方为 True",
    "return one candidate id (an int)": "返回一个候选 id（一个 int）",
    "return one of the candidates": "返回候选项中的一个",
    "score each candidate c by log p(left + [c] + right), summing the log-probabilities of c and "
    "of every token of `right`, not only of c":
        "用 log p(left + [c] + right) 给每个候选 c 打分：把 c 以及 `right` 中每个词元的对数概率"
        "都加起来，而不是只算 c 的",
    # -------------------------------------------------------------- nb07: GPT from scratch
    "with no applicable merge, return the raw byte values":
        "没有可用的合并时，直接返回原始的字节值",
    "return a tensor shaped like the logits": "返回一个与 logits 形状相同的张量",
    "p = 0.7: 0.5 alone is not enough, 0.5 + 0.25 is: keep those two tokens, set the rest to -inf":
        "p = 0.7：只有 0.5 不够，0.5 + 0.25 就够了：保留这两个词元，其余的设为 -inf",
    "the kept logits keep their values": "保留下来的 logits 保持原值",
    "the most likely token is always kept": "最可能的那个词元总是要保留",
    "p = 1 keeps every token": "p = 1 时保留所有词元",
    "filter each row on its own (sort within the row, cumulative sum along the last dimension)":
        "每一行单独过滤（在行内排序，沿最后一维求累积和）",
    "store both keys *and* values: a factor 2": "键*和*值都要存：多一个因子 2",
    "2 (K and V) x layers x heads x head_dim x positions x batch x bytes":
        "2（K 和 V）× 层数 × 头数 × head_dim × 位置数 × batch × 字节数",
    "every sequence of the batch has its own cache": "批量中的每条序列都有自己的缓存",
    "return one number (a float, or a 0-d tensor)": "返回一个数（一个 float，或一个 0 维张量）",
    # -------------------------------------------------------------- nb08: modern LLM blocks
    "return a tensor shaped like x: (2, 4)": "返回与 x 形状相同的张量：(2, 4)",
    "a row of 2s has RMS 2, so it normalises to 1s: divide by sqrt(mean(x**2)), not by the std":
        "全是 2 的一行，均方根为 2，归一化后全是 1：除以 sqrt(mean(x**2))，而不是标准差",
    "[3, -1, 1, 1] has mean square 3: do not subtract the mean (that is LayerNorm)":
        "[3, -1, 1, 1] 的均方为 3：不要减去均值（那是 LayerNorm 的做法）",
    "multiply the normalised x by weight (one gain per feature)":
        "把归一化后的 x 乘以 weight（每个特征一个增益）",
    "add eps inside the square root so a zero vector does not divide by 0":
        "把 eps 加在平方根里面，这样全零向量就不会除以 0",
    "return a vector with the shape of x: (4,)": "返回与 x 形状相同的向量：(4,)",
    "position 0 means angle 0: the vector must come back unchanged":
        "位置 0 意味着角度为 0：向量必须原样返回",
    "pair i turns by position * base ** (-2 * i / d); (1, 0) becomes (cos a, sin a)":
        "第 i 对转过的角度是 position * base ** (-2 * i / d)；(1, 0) 变成 (cos a, sin a)",
    "q at 5 with k at 3 must score like q at 105 with k at 103: rotate both pairs with the same "
    "angles":
        "位于 5 的 q 与位于 3 的 k，打分必须和位于 105 的 q 与位于 103 的 k 相同：q 和 k 的"
        "每一对都要用同一套角度旋转",
    "a rotation keeps the length of the vector": "旋转不改变向量的长度",
    "one layer, one head, one number, one token: K and V make 2 bytes":
        "一层、一个头、一个数、一个词元：K 和 V 合起来是 2 个字节",
    "the cache grows with every token of every sequence: x seq_len x batch":
        "缓存随每条序列的每个词元增长：还要乘以 seq_len 和 batch",
    "multiply 2 (K and V) x layers x KV heads x head_dim x tokens x batch x bytes per value":
        "把 2（K 和 V）× 层数 × KV 头数 × head_dim × 词元数 × batch × 每个值的字节数乘起来",
    "the cache scales with the KV heads, not the query heads": "缓存随 KV 头数增长，而不是查询头数",
    # -------------------------------------------------------------- nb09: prompting and fine-tuning
    "return a pair (inputs, labels)": "返回一个二元组 (inputs, labels)",
    "inputs are prompt + reply without the last token (position t predicts t + 1)":
        "inputs 是 prompt + reply 去掉最后一个词元（位置 t 预测 t + 1）",
    "labels need one entry per input position": "labels 要为每个输入位置各给一项",
    "the targets 6 and 7 are prompt tokens: they must be -100":
        "目标 6 和 7 是提示词中的词元：它们必须是 -100",
    "the targets that are reply tokens keep their ids (8, then 9)":
        "属于回复的目标词元保留它们的 id（先是 8，然后是 9）",
    "with a one-token prompt no target is a prompt token, so nothing is masked":
        "提示词只有一个词元时，没有哪个目标是提示词中的词元，所以不掩码任何目标",
    "the output has shape (batch, d_out) = (3, 4)": "输出的形状为 (batch, d_out) = (3, 4)",
    "with B = 0 the layer must equal the frozen x @ W.T + b":
        "B = 0 时，这一层必须等于冻结的 x @ W.T + b",
    "scale the low-rank term by alpha / r": "低秩项要乘以 alpha / r",
    "compute x @ W.T + b + (alpha / r) * (x @ A.T @ B.T)":
        "计算 x @ W.T + b + (alpha / r) * (x @ A.T @ B.T)",
    "one layer (d_out=12, d_in=4) with r=1: A has 4 weights, B has 12":
        "一层（d_out=12, d_in=4），r=1：A 有 4 个权重，B 有 12 个",
    "A is (r, d_in) and B is (d_out, r): both grow with r":
        "A 的形状是 (r, d_in)，B 的形状是 (d_out, r)：两者都随 r 增长",
    "add up r * (d_in + d_out) over every layer in the list":
        "对列表中的每一层，把 r * (d_in + d_out) 加起来",
    "return a tensor of shape (n_tokens, n_prefix + n_tokens) = (3, 5)":
        "返回一个形状为 (n_tokens, n_prefix + n_tokens) = (3, 5) 的张量",
    "every token may attend to every prefix slot: the first n_prefix columns are all True":
        "每个词元都可以关注每个前缀槽位：前 n_prefix 列全为 True",
    "among the tokens the mask stays causal: token t sees tokens 0 .. t (a lower-triangular block "
    "after the prefix columns)":
        "在词元之间，掩码仍然是因果的：词元 t 能看到词元 0 .. t（前缀列之后是一个下三角块）",
    "one token sees the whole prefix and itself": "只有一个词元时，它能看到整个前缀和它自己",
    # -------------------------------------------------------------- nb10: RLHF
    "equal rewards mean a coin flip: the loss should be log 2 = 0.693":
        "奖励相等就等于抛硬币：损失应为 log 2 = 0.693",
    "mind the sign: a loss to minimise is −log σ(r_w − r_l), a positive number":
        "注意符号：要最小化的损失是 −log σ(r_w − r_l)，是一个正数",
    "average −log σ(r_chosen − r_rejected) over the pairs":
        "在所有偏好对上对 −log σ(r_chosen − r_rejected) 求平均",
    "for a huge margin the loss must be ~0 (use F.logsigmoid to stay finite)":
        "差值（margin）很大时损失必须约为 0（用 F.logsigmoid 保证数值有限）",
    "a policy equal to the reference has margin 0 and loss log 2":
        "与参考模型相同的策略，差值（margin）为 0，损失为 log 2",
    "implicit reward = β (log π − log π_ref); loss = −log σ(reward_w − reward_l)":
        "隐式奖励 = β (log π − log π_ref)；损失 = −log σ(reward_w − reward_l)",
    "return the advantages (a tensor or a list), one per step":
        "返回优势值（张量或 list），每一步一个",
    "return one advantage per step": "每一步返回一个优势值",
    "the last step: δ = r − V = 1 − 0.7 (nothing after the episode)":
        "最后一步：δ = r − V = 1 − 0.7（回合结束后没有任何后续）",
    "work backwards: A_t = δ_t + γλ A_{t+1}, with δ_t = r_t + γ V_{t+1} − V_t":
        "从后往前算：A_t = δ_t + γλ A_{t+1}，其中 δ_t = r_t + γ V_{t+1} − V_t",
    "γ discounts future rewards: A_0 = 1 + 0.5 × 1": "γ 对未来的奖励打折扣：A_0 = 1 + 0.5 × 1",
    # -------------------------------------------------------------- nb11: RAG
    "return a list of lists of words": "返回由词列表组成的 list",
    "windows start every size - overlap = 3 words: [w0..w3], then [w3..w6]":
        "每隔 size - overlap = 3 个词开始一个窗口：[w0..w3]，然后 [w3..w6]",
    "three windows cover ten words with size 4, overlap 1":
        "size 为 4、overlap 为 1 时，三个窗口覆盖十个词",
    "with no overlap, [w0..w3], [w4..w7], then the last window is moved back to end at w9: "
    "[w6..w9]":
        "没有重叠时是 [w0..w3]、[w4..w7]，最后一个窗口往回移，让它在 w9 结束：[w6..w9]",
    "a text shorter than one window is a single chunk": "比一个窗口还短的文本就是一个文本块",
    "every window has exactly `size` words (move the last one back rather than leave it short)":
        "每个窗口恰好有 `size` 个词（把最后一个窗口往回移，而不是让它变短）",
    "query 0 finds 1 and query 1 finds 4 in their top 3; query 2 never finds 0: recall@3 = 2/3":
        "查询 0 在前 3 名中找到了 1，查询 1 找到了 4；查询 2 始终没找到 0：recall@3 = 2/3",
    "no query has a relevant id in first place: recall@1 = 0":
        "没有一个查询把相关 id 排在第一位：recall@1 = 0",
    "look only at the first k ids of each ranked list": "每个排序列表只看前 k 个 id",
    "a query counts once, however many relevant ids it finds (the fraction of queries, not of "
    "ids)":
        "一个查询无论找到多少个相关 id 都只算一次（算的是查询的比例，不是 id 的比例）",
    "two of four replies are confidently wrong (Rafo, Velmora): 0.5. A correct reply and an "
    "honest 'I don't know' are not hallucinations":
        "四个回复中有两个是自信的错误回答（Rafo、Velmora）：0.5。正确的回答和诚实的 'I don't "
        "know' 都不算幻觉",
    "compare answers after normalising: strip spaces and a final full stop, ignore case":
        "先规范化再比较答案：去掉首尾空格和末尾的句号，忽略大小写",
    "an abstention in any case is not a hallucination": "拒答无论大小写如何都不是幻觉",
    "an empty reply claims nothing: it is no hallucination": "空回复什么也没有断言：它不是幻觉",
    "return one C-vector per text: shape (B, C)": "每段文本返回一个 C 维向量：形状为 (B, C)",
    "with a full mask, average over all T positions": "掩码全为 1 时，对全部 T 个位置求平均",
    "padding positions (mask 0) must not enter the mean: divide by the number of real tokens":
        "填充位置（掩码为 0）不能计入平均：除以真实词元的个数",
    # -------------------------------------------------------------- nb12: reasoning and scale
    "return the completion as one string, e.g. '3+5=8;8*7=6;6.'":
        "把补全结果作为一个字符串返回，例如 '3+5=8;8*7=6;6.'",
    "the completion ends with the answer and a full stop: (3 + 5) * 7 = 56 -> 6":
        "补全以答案和句点结尾：(3 + 5) * 7 = 56 -> 6",
    "the first step works out the first operation: '3+5=8;'": "第一步算出第一个运算：'3+5=8;'",
    "each step starts from the last result and keeps only the last digit: '8*7=6;'":
        "每一步从上一步的结果出发，只保留个位数：'8*7=6;'",
    "keep the last digit of every result: 81 -> 1": "每个结果只保留个位数：81 -> 1",
    "six numbers: five steps, each ending with ';'": "六个数：五步，每步以 ';' 结尾",
    "with one digit, exact match is just the digit's accuracy":
        "只有一位数字时，精确匹配率就是这一位的准确率",
    "two independent digits are both right with probability 0.9 * 0.9 = 0.81":
        "两位相互独立的数字同时正确的概率是 0.9 * 0.9 = 0.81",
    "every one of the n digits must be right: p to the power n":
        "n 位数字必须位位正确：p 的 n 次方",
    "a perfect digit accuracy gives exact match 1; zero gives 0":
        "逐位准确率为 1 时精确匹配率为 1；为 0 时则为 0",
    "an even climb over four steps: each step is a quarter of the total rise":
        "分四步均匀上升：每一步是总升幅的四分之一",
    "a curve that jumps 0 -> 0.9 in one step of a total rise of 1.0: share 0.9":
        "总升幅为 1.0 的曲线在一步内从 0 跳到 0.9：占比 0.9",
    "log-likelihoods are negative: the total rise is -5 - (-60) = 55, the largest step 30":
        "对数似然是负数：总升幅为 -5 - (-60) = 55，最大的一步是 30",
    "measure the rise from the first value to the best one (here 1.0 - 0.2 = 0.8)":
        "升幅从第一个值量到最好的值（这里是 1.0 - 0.2 = 0.8）",
    "a curve that never rises has no jump: return 0": "从不上升的曲线没有跳变：返回 0",
    # -------------------------------------------------------------- nb13: two files
    "return a NumPy array with q's shape (rows, cols)":
        "返回与 q 形状相同 (rows, cols) 的 NumPy 数组",
    "return float32 (q.astype(np.float32) before multiplying): int8 arithmetic would overflow "
    "and lose the fractions":
        "返回 float32（相乘之前先 q.astype(np.float32)）：用 int8 运算会溢出，还会丢掉小数部分",
    "w = q * scale, with scale[i] for every weight of row i: scale[:, None] makes the scales a "
    "column":
        "w = q * scale，第 i 行的每个权重都乘 scale[i]：scale[:, None] 把缩放因子变成一列",
    "two weights a byte: (rows, cols / 2) bytes give (rows, cols) weights":
        "一个字节存两个权重：(rows, cols / 2) 个字节得到 (rows, cols) 个权重",
    "subtract 8: the file stores q + 8 so that it fits 0..15":
        "减去 8：文件里存的是 q + 8，这样才能落在 0..15 之内",
    "the first weight of each pair is in the low 4 bits (byte & 0x0F), the second in the high "
    "4 bits (byte >> 4)":
        "每对中的第一个权重在低 4 位（byte & 0x0F），第二个在高 4 位（byte >> 4）",
    "for each byte: low = (byte & 15) - 8, high = (byte >> 4) - 8, then interleave: low, high, "
    "low, high ...":
        "对每个字节：low = (byte & 15) - 8，high = (byte >> 4) - 8，然后交错排列：low, high, "
        "low, high ...",
    "return signed integers (e.g. int8): uint8 cannot hold -8 .. -1":
        "返回有符号整数（例如 int8）：uint8 装不下 -8 .. -1",
    "one D-vector per head: shape (heads, D)": "每个头一个 D 维向量：形状为 (heads, D)",
    "divide the scores q·k by sqrt(D) before the softmax": "在 softmax 之前把分数 q·k 除以 sqrt(D)",
    "per head: scores = keys @ q / sqrt(D) (T,), softmax over the T positions, then weights @ "
    "values (D,)":
        "对每个头：scores = keys @ q / sqrt(D) (T,)，在 T 个位置上做 softmax，然后 weights @ "
        "values (D,)",
    "subtract the largest score before exp(), or large scores overflow to inf/nan":
        "在 exp() 之前减去最大的分数，否则大的分数会溢出成 inf/nan",
}
# fmt: on
