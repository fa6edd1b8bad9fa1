"""Every special token of the course, in one place: constants only, no code, so that models,
data and training modules can all import it.

Two families, because two kinds of model use them:

* **Word-level sequence-to-sequence** (notebooks 05 and 06, ``course.translation`` and the
  encoder-decoder models): a vocabulary starts with four reserved entries, so their ids are fixed.
* **Character-level chat** (notebooks 09-11, ``course.align`` and ``course.rag``): one fixed
  character set for every checkpoint of Part IV; a newline both ends a reply and pads a prompt.
"""

from __future__ import annotations

# ------------------------------------------------------------------------- sequence to sequence
PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)  # the first four entries of every vocabulary, in this order
PAD_ID, BOS_ID, EOS_ID, UNK_ID = 0, 1, 2, 3

# ------------------------------------------------------------------------- character-level chat
# Newline + printable ASCII, so every checkpoint of Part IV shares one tokenizer whatever corpus it
# was trained on; characters outside it are replaced by a space.
CHAT_VOCAB = "\n" + "".join(chr(i) for i in range(32, 127))
CHAT_EOS = "\n"  # a reply is one line: the newline that ends it is the end-of-sequence token
CHAT_PAD = "\n"  # prompts are left-padded with newlines, which look like the gap between documents
