#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Trains Batchscope's demo model from scratch and exports it.

  /usr/bin/python3 tools/demo-model/train.py --out resources/models

Steps: generate the corpus and the chat conversations (corpus.py), learn the vocabulary
(spm_tokenizer.py), train a small Llama (model.py) with AdamW on one CPU thread, check the
capitals as completions and as chat answers, write demo.gguf,
demo-reference.json and demo-train-summary.json into --out. Deterministic for a given seed
(up to floating-point differences between machines).
"""
import argparse
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402
import export  # noqa: E402
import gguf_io  # noqa: E402
import spm_tokenizer as S  # noqa: E402
from model import Config, Llama  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--out", default="resources/models")
    p.add_argument("--work", default=os.path.join(os.path.dirname(__file__), "work"))
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--vocab", type=int, default=2048, help="upper bound on the vocabulary size")
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--dim", type=int, default=256)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--kv-heads", type=int, default=4)
    p.add_argument("--ffn", type=int, default=704)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--max-minutes", type=float, default=40.0, help="stop training after this")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--chats", type=int, default=12000, help="chat conversations in the corpus")
    p.add_argument("--skip-train", action="store_true", help="load work/checkpoint.pt, export")
    p.add_argument("--init-gguf", help="fine-tune: start from this demo.gguf's weights and "
                   "vocabulary (chat tokens appended if missing) instead of from scratch")
    return p.parse_args()


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def token_stream(docs, chats, vocab, seed):
    """Documents as <s> text </s>, conversations as the chat template lays them out followed by
    </s>, in a seeded random order."""
    cache, items = {}, []
    for d in docs:
        items.append([S.BOS] + vocab.encode_doc_cached(d, cache) + [S.EOS])
    for c in chats:
        items.append(vocab.encode_chat(c, cache=cache) + [S.EOS])
    random.Random(seed).shuffle(items)
    return torch.tensor([t for it in items for t in it], dtype=torch.long)


def chat_text(chat):
    """A conversation's contents as one document (for learning the vocabulary)."""
    return " ".join(content for _, content in chat)


@torch.no_grad()
def chat_capitals_score(model, vocab, verbose=False, every=1):
    """Chat "What is the capital of X?" (template with generation prompt): the greedy answer up
    to <|end|> (at most 16 tokens) must contain the capital as a word and end with <|end|>.
    Returns (passed, total, failures)."""
    model.eval()
    end = vocab.chat_id("<|end|>")
    ok, fails = 0, []
    countries = corpus.COUNTRIES[::every]
    for country, capital, _ in countries:
        ids = vocab.encode_chat([("user", "What is the capital of %s?" % country)], True)
        gen = []
        while len(gen) < 16 and (not gen or gen[-1] not in (end, S.EOS)):
            gen += model.greedy(ids + gen, 1)
        text = vocab.decode([t for t in gen if t != end])
        padded = " " + text.replace(".", " ").replace(",", " ") + " "
        if gen[-1] == end and (" " + capital + " ") in padded:
            ok += 1
        else:
            fails.append((country, capital, text))
    model.train()
    if verbose:
        for f in fails:
            log("  chat capital miss: %s -> %r (want %s)" % (f[0], f[2], f[1]))
    return ok, len(countries), fails


@torch.no_grad()
def capitals_score(model, vocab, verbose=False):
    """Greedy continuation of "The capital of X is" must be " <capital>" followed by a
    non-letter. Returns (passed, total, failures)."""
    model.eval()
    ok, fails = 0, []
    for country, capital, _ in corpus.COUNTRIES:
        ids = vocab.encode("The capital of %s is" % country, add_bos=True)
        gen = []
        want = " " + capital
        while len(gen) < 8:
            gen += model.greedy(ids + gen, 1)
            text = vocab.decode(gen)
            if len(text) > len(want) or not want.startswith(text) or gen[-1] == S.EOS:
                break
        text = vocab.decode(gen)
        if text.startswith(want) and (len(text) == len(want) or not text[len(want)].isalpha()):
            ok += 1
        else:
            fails.append((country, capital, text))
    model.train()
    if verbose:
        for f in fails:
            log("  capital miss: %s -> %r (want %s)" % (f[0], f[2], f[1]))
    return ok, len(corpus.COUNTRIES), fails


@torch.no_grad()
def eval_loss(model, stream, seq, n=32, seed=7):
    model.eval()
    g = torch.Generator().manual_seed(seed)
    starts = torch.randint(0, len(stream) - seq - 1, (n,), generator=g)
    x = torch.stack([stream[s:s + seq + 1] for s in starts])
    logits = model(x[:, :-1])
    loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1))
    model.train()
    return float(loss)


def lr_at(step, args, elapsed=0.0):
    """Linear warm-up, then cosine decay to 10 %. Progress is the larger of the step fraction
    and the fraction of --max-minutes used, so that on a loaded machine the schedule still
    anneals fully before the time budget stops training."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    t = (step - args.warmup) / max(1, args.steps - args.warmup)
    t = max(t, elapsed / (args.max_minutes * 60))
    return args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def train(model, stream, held_out, vocab, args):
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    g = torch.Generator().manual_seed(args.seed)
    t0, run_loss, hist = time.time(), [], []
    step = 0
    for step in range(args.steps):
        for grp in opt.param_groups:
            grp["lr"] = lr_at(step, args, time.time() - t0)
        starts = torch.randint(0, len(stream) - args.seq - 1, (args.batch,), generator=g)
        x = torch.stack([stream[s:s + args.seq + 1] for s in starts])
        logits = model(x[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        run_loss.append(float(loss))
        if (step + 1) % 50 == 0:
            el = time.time() - t0
            avg = sum(run_loss[-50:]) / 50
            hist.append((step + 1, avg))
            log("step %d/%d loss %.4f lr %.2e %.0f tok/s elapsed %.1f min" % (
                step + 1, args.steps, avg, lr_at(step, args, el),
                (step + 1) * args.batch * args.seq / el, el / 60))
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            ok, tot, _ = capitals_score(model, vocab)
            cok, ctot, _ = chat_capitals_score(model, vocab, every=5)  # a sample: this is slow
            log("eval step %d: held-out loss %.4f, capitals %d/%d, chat capitals %d/%d" % (
                step + 1, eval_loss(model, held_out, args.seq), ok, tot, cok, ctot))
            torch.save({"model": model.state_dict(), "cfg": model.cfg.__dict__, "step": step + 1},
                       os.path.join(args.work, "checkpoint.pt"))
        if time.time() - t0 > args.max_minutes * 60 and step + 1 < args.steps:
            log("time budget reached at step %d" % (step + 1))
            torch.save({"model": model.state_dict(), "cfg": model.cfg.__dict__, "step": step + 1},
                       os.path.join(args.work, "checkpoint.pt"))
            break
    final = sum(run_loss[-100:]) / max(1, len(run_loss[-100:]))
    return {"steps_done": step + 1, "train_seconds": round(time.time() - t0, 1),
            "final_train_loss_last100": round(final, 4), "loss_history": hist}


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.work, exist_ok=True)
    os.makedirs(args.out, exist_ok=True)

    docs = corpus.generate(seed=args.seed)
    held_docs = corpus.generate(seed=args.seed + 1, n_fact_docs=300, n_story_docs=100,
                                n_plain_docs=60)
    chats = corpus.generate_chats(seed=args.seed + 100, n=args.chats)
    held_chats = corpus.generate_chats(seed=args.seed + 101, n=args.chats // 100)
    init = None
    if args.init_gguf:
        kv, init = gguf_io.read(args.init_gguf)
        vocab = S.Vocab.with_chat_tokens(kv["tokenizer.ggml.tokens"], kv["tokenizer.ggml.scores"],
                                         kv["tokenizer.ggml.token_type"])
        log("starting from %s (%d tokens, now %d)" % (args.init_gguf,
                                                       len(kv["tokenizer.ggml.tokens"]), len(vocab)))
    else:
        vocab = S.train_vocab(docs + [chat_text(c) for c in chats], args.vocab)
    export.check_chat_layout(vocab, chats[:300] + export.CHAT_PROMPTS)
    stream = token_stream(docs, chats, vocab, args.seed)
    held_out = token_stream(held_docs, held_chats, vocab, args.seed + 1)
    cache = {}
    n_chat_tokens = sum(len(vocab.encode_chat(c, cache=cache)) + 1 for c in chats)
    log("corpus: %d documents, %d conversations (%d tokens), %d characters, %d tokens; "
        "vocabulary %d tokens" % (len(docs), len(chats), n_chat_tokens,
                                  sum(len(d) for d in docs) + sum(len(chat_text(c)) for c in chats),
                                  len(stream), len(vocab)))
    with open(os.path.join(args.work, "corpus.txt"), "w") as f:
        f.write("\n".join(docs) + "\n")
    with open(os.path.join(args.work, "chats.txt"), "w") as f:
        f.write("\n".join(export.render_chat(c, False) for c in chats) + "\n")

    cfg = Config(vocab_size=len(vocab), dim=args.dim, n_layers=args.layers, n_heads=args.heads,
                 n_kv_heads=args.kv_heads, ffn_dim=args.ffn)
    model = Llama(cfg)
    if init is not None:
        export.load_gguf_weights(model, init)
    n_params = sum(p.numel() for p in model.parameters())
    log("model: %s, %d parameters" % (cfg, n_params))
    summary = {"config": cfg.__dict__, "parameters": n_params, "vocab_size": len(vocab),
               "corpus_documents": len(docs), "corpus_characters": sum(len(d) for d in docs),
               "chat_conversations": len(chats), "chat_tokens": n_chat_tokens,
               "corpus_tokens": len(stream), "batch": args.batch, "seq": args.seq,
               "lr": args.lr, "warmup": args.warmup, "seed": args.seed, "threads": args.threads,
               "init_gguf": os.path.basename(args.init_gguf) if args.init_gguf else None}
    if args.skip_train:
        ck = torch.load(os.path.join(args.work, "checkpoint.pt"))
        model.load_state_dict(ck["model"])
        summary.update({"steps_done": ck["step"]})
        prev = os.path.join(args.out, "demo-train-summary.json")
        if os.path.exists(prev):  # keep the training figures of the run that made the checkpoint
            with open(prev) as f:
                old = json.load(f)
            for key in ("train_seconds", "final_train_loss_last100", "loss_history"):
                if key in old:
                    summary[key] = old[key]
    else:
        summary.update(train(model, stream, held_out, vocab, args))

    model16 = export.rounded_f16(model)
    model16.eval()
    ok, tot, fails = capitals_score(model16, vocab, verbose=True)
    held = eval_loss(model16, held_out, args.seq)
    log("FINAL (F16 weights): capitals %d/%d = %.1f%%, held-out loss %.4f" % (
        ok, tot, 100.0 * ok / tot, held))
    cok, _, cfails = chat_capitals_score(model16, vocab, verbose=True)
    log("FINAL (F16 weights): chat capitals %d/%d = %.1f%%" % (cok, tot, 100.0 * cok / tot))
    summary.update({"capitals_passed": ok, "capitals_total": tot,
                    "capitals_failures": fails, "chat_capitals_passed": cok,
                    "chat_capitals_failures": cfails, "held_out_loss_f16": round(held, 4)})

    gguf_path = os.path.join(args.out, "demo.gguf")
    n_t = export.export_gguf(gguf_path, model16, vocab)
    summary["gguf_bytes"] = os.path.getsize(gguf_path)
    log("wrote %s: %d tensors, %d bytes" % (gguf_path, n_t, summary["gguf_bytes"]))
    ref = export.reference(model16, vocab)
    export.write_reference(os.path.join(args.out, "demo-reference.json"), ref)
    for c in ref["cases"]:
        log("  %r -> %r" % (c["prompt"], c["greedy_text"]))
    for c in ref["chat_cases"]:
        log("  chat %r -> %r" % (c["messages"][-1]["content"], c["greedy_text"]))
    with open(os.path.join(args.out, "demo-train-summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
        f.write("\n")
    if ok < 0.95 * tot or cok < 0.95 * tot:
        log("CAPITALS CHECK FAILED (< 95% as completions or as chat answers)")
        return 1
    log("capitals check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
