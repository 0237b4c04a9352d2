# SPDX-License-Identifier: GPL-3.0-or-later
"""A small SentencePiece-style ("llama") vocabulary: BPE-like training and llama.cpp's encoder.

Vocabulary layout (ids):
  0 <unk> (type 2), 1 <s> (type 3, BOS), 2 </s> (type 3, EOS),
  3..258 byte-fallback tokens <0x00>..<0xFF> (type 6, score 0),
  then single characters (printable ASCII except space, plus U+2581 "▁" which stands for a space),
  then the learned merged pieces in merge order. All learned tokens are type 1 (normal).
  Last, the chat template's control tokens CHAT_TOKENS (type 3, score 0).
Scores: merged piece number r (0 = first merge) has score -r; single characters have scores
below every merge (they are never the result of a merge, so their score is never consulted).

encode() is a line-by-line port of llama.cpp's llm_tokenizer_spm, which the C++ engine
implements too; both must produce identical ids.
"""
import heapq
import re
from collections import Counter

SPACE = "\u2581"
UNK, BOS, EOS = 0, 1, 2
N_SPECIAL = 3
BYTE_BASE = 3
TYPE_NORMAL, TYPE_UNKNOWN, TYPE_CONTROL, TYPE_BYTE = 1, 2, 3, 6
# Written only by the chat template (export.CHAT_TEMPLATE): a role header before each message,
# END after it. END ends generation (tokenizer.ggml.eot_token_id).
CHAT_TOKENS = ["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"]

# Training units: pieces never cross these boundaries. A space (▁) attaches to the following
# run of letters or to a single punctuation character; digits stay single characters.
_UNIT_RE = re.compile(SPACE + r"?[A-Za-z]+|" + SPACE + r"?[^A-Za-z0-9" + SPACE + r"]|[0-9]|" + SPACE)


def base_chars():
    return [chr(c) for c in range(0x21, 0x7F)] + [SPACE]


def train_vocab(docs, vocab_size, min_count=2):
    """Greedy BPE over word units: repeatedly add the most frequent adjacent pair (ties broken
    by the pair's text, for determinism) until vocab_size or no pair occurs min_count times."""
    units = Counter()
    for d in docs:
        units.update(_UNIT_RE.findall(SPACE + d.replace(" ", SPACE)))
    chars = base_chars()
    charset = set(chars)
    words = {}
    for u, n in units.items():
        if all(ch in charset for ch in u):
            words[tuple(u)] = words.get(tuple(u), 0) + n
    words = [(list(w), n) for w, n in words.items()]
    n_merges = vocab_size - N_SPECIAL - 256 - len(chars)
    merges = []
    known = set(chars)
    while len(merges) < n_merges:
        pairs = Counter()
        for syms, n in words:
            for a, b in zip(syms, syms[1:]):
                pairs[(a, b)] += n
        if not pairs:
            break
        best, cnt = max(pairs.items(), key=lambda kv: (kv[1], kv[0][0] + kv[0][1]))
        if cnt < min_count:
            break
        piece = best[0] + best[1]
        if piece not in known:
            merges.append(piece)
            known.add(piece)
        for syms, _ in words:
            i = 0
            while i < len(syms) - 1:
                if syms[i] == best[0] and syms[i + 1] == best[1]:
                    syms[i:i + 2] = [piece]
                i += 1
    return Vocab.build(chars, merges)


class Vocab:
    def __init__(self, tokens, scores, types):
        self.tokens, self.scores, self.types = tokens, scores, types
        self.index = {t: i for i, t in enumerate(tokens)}
        assert len(self.index) == len(tokens), "duplicate pieces"

    @staticmethod
    def build(chars, merges):
        tokens = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)]
        scores = [0.0] * len(tokens)
        types = [TYPE_UNKNOWN, TYPE_CONTROL, TYPE_CONTROL] + [TYPE_BYTE] * 256
        for i, ch in enumerate(chars):
            tokens.append(ch)
            scores.append(float(-(len(merges) + i)))
            types.append(TYPE_NORMAL)
        for r, piece in enumerate(merges):
            tokens.append(piece)
            scores.append(float(-r))
            types.append(TYPE_NORMAL)
        for piece in CHAT_TOKENS:
            tokens.append(piece)
            scores.append(0.0)
            types.append(TYPE_CONTROL)
        return Vocab(tokens, scores, types)

    @staticmethod
    def with_chat_tokens(tokens, scores, types):
        """A vocabulary read from a GGUF, with CHAT_TOKENS appended where missing."""
        tokens, scores, types = list(tokens), list(scores), list(types)
        for piece in CHAT_TOKENS:
            if piece not in tokens:
                tokens.append(piece)
                scores.append(0.0)
                types.append(TYPE_CONTROL)
        return Vocab(tokens, scores, types)

    def chat_id(self, piece):
        """Id of one of CHAT_TOKENS."""
        return self.index[piece]

    def encode_chat(self, messages, add_generation_prompt=False, cache=None):
        """Ids of a conversation [(role, content)] laid out as export.CHAT_TEMPLATE renders it
        and as the engine encodes a rendered prompt (control tokens where the template wrote
        them, each text run between them encoded on its own with the space prefix):
        <s> (<|role|> content <|end|>)* [<|assistant|>]."""
        out = [BOS]
        for role, content in messages:
            out.append(self.chat_id("<|%s|>" % role))
            text = content.strip()
            if cache is not None and "  " not in text:
                out.extend(self.encode_doc_cached(text, cache) if text else [])
            else:
                out.extend(self.encode(text, add_bos=False))
            out.append(self.chat_id("<|end|>"))
        if add_generation_prompt:
            out.append(self.chat_id("<|assistant|>"))
        return out

    def __len__(self):
        return len(self.tokens)

    # ---- llama.cpp llm_tokenizer_spm --------------------------------------------------------
    def encode(self, text, add_bos=True, add_space_prefix=True):
        out = [BOS] if add_bos else []
        if not text:
            return out
        if add_space_prefix:
            text = " " + text
        text = text.replace(" ", SPACE)
        self._spm(text, out)
        return out

    def _spm(self, text, out):
        # symbols: [text, prev, next]; text "" means merged away (n == 0 in llama.cpp)
        syms = [[ch, i - 1, i + 1 if i + 1 < len(text) else -1] for i, ch in enumerate(text)]
        queue, rev_merge = [], {}

        def try_add(left, right):
            if left == -1 or right == -1:
                return
            piece = syms[left][0] + syms[right][0]
            tid = self.index.get(piece)
            if tid is None:
                return
            # heapq is a min-heap: highest score first, then leftmost.
            heapq.heappush(queue, (-self.scores[tid], left, right, len(piece)))
            rev_merge[piece] = (left, right)

        for i in range(1, len(syms)):
            try_add(i - 1, i)
        while queue:
            _, left, right, size = heapq.heappop(queue)
            ls, rs = syms[left], syms[right]
            if not ls[0] or not rs[0] or len(ls[0]) + len(rs[0]) != size:
                continue
            ls[0] += rs[0]
            rs[0] = ""
            ls[2] = rs[2]
            if rs[2] >= 0:
                syms[rs[2]][1] = left
            try_add(ls[1], left)
            try_add(left, ls[2])
        i = 0
        while i != -1:
            self._resegment(syms[i][0], syms, rev_merge, out)
            i = syms[i][2]

    def _resegment(self, piece, syms, rev_merge, out):
        tid = self.index.get(piece)
        if tid is not None:
            out.append(tid)
            return
        p = rev_merge.get(piece)
        if p is None:
            out.extend(BYTE_BASE + b for b in piece.encode("utf-8"))
            return
        # As in llama.cpp this reads the symbols' current texts (not needed for this vocab:
        # every merged piece is itself a token).
        self._resegment(syms[p[0]][0], syms, rev_merge, out)
        self._resegment(syms[p[1]][0], syms, rev_merge, out)

    # ---- decoding ----------------------------------------------------------------------------
    def token_bytes(self, tid):
        t = self.types[tid]
        if t == TYPE_BYTE:
            return bytes([tid - BYTE_BASE])
        if t in (TYPE_CONTROL, TYPE_UNKNOWN):
            return b""
        return self.tokens[tid].replace(SPACE, " ").encode("utf-8")

    def decode(self, ids, strip_leading_space=False):
        b = b"".join(self.token_bytes(t) for t in ids)
        s = b.decode("utf-8", errors="replace")
        if strip_leading_space and s.startswith(" "):
            s = s[1:]
        return s

    def encode_doc_cached(self, doc, cache):
        """Same ids as encode(doc, add_bos=False) for text without runs of spaces: no piece
        contains ▁ except at its start, so words can be encoded independently."""
        out = []
        for w in doc.split(" "):
            ids = cache.get(w)
            if ids is None:
                ids = []
                self._spm(SPACE + w, ids)
                cache[w] = ids
            out.extend(ids)
        return out
