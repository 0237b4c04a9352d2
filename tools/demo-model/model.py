# SPDX-License-Identifier: GPL-3.0-or-later
"""The demo model: a plain Llama decoder, written so that its forward pass is exactly the
computation llama.cpp (and Batchscope's engine) performs for LLM_ARCH_LLAMA:

  h = token_embd[ids]
  per layer:  a = RMSNorm(h) * attn_norm;  q = Wq a, k = Wk a, v = Wv a
              RoPE "normal" (adjacent pairs (2i, 2i+1) of each head, theta_i = base^(-2i/hd))
              causal softmax(q k^T / sqrt(hd)) v, query head j uses KV head j // (n_head/n_kv)
              h = h + Wo attn;  f = RMSNorm(h) * ffn_norm;  h = h + Wdown(silu(Wgate f) * Wup f)
  logits = Woutput (RMSNorm(h) * output_norm)
  RMSNorm(x) = x * rsqrt(mean(x^2) + eps)
"""
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Config:
    vocab_size: int
    dim: int = 256
    n_layers: int = 4
    n_heads: int = 8
    n_kv_heads: int = 4
    ffn_dim: int = 704
    norm_eps: float = 1e-5
    rope_base: float = 10000.0
    context_length: int = 256

    @property
    def head_dim(self):
        return self.dim // self.n_heads


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(cfg, n_pos):
    hd = cfg.head_dim
    theta = cfg.rope_base ** (-torch.arange(0, hd, 2, dtype=torch.float64) / hd)  # [hd/2]
    ang = torch.arange(n_pos, dtype=torch.float64)[:, None] * theta[None, :]
    return torch.cos(ang).float(), torch.sin(ang).float()  # [n_pos, hd/2]


def apply_rope(x, cos, sin):
    """x: [B, H, T, hd]; rotates adjacent pairs (x[2i], x[2i+1]) (GGML rope mode 0)."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    r0 = x0 * cos - x1 * sin
    r1 = x0 * sin + x1 * cos
    return torch.stack((r0, r1), dim=-1).flatten(-2)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        hd = cfg.head_dim
        self.attn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.wq = nn.Linear(cfg.dim, cfg.n_heads * hd, bias=False)
        self.wk = nn.Linear(cfg.dim, cfg.n_kv_heads * hd, bias=False)
        self.wv = nn.Linear(cfg.dim, cfg.n_kv_heads * hd, bias=False)
        self.wo = nn.Linear(cfg.n_heads * hd, cfg.dim, bias=False)
        self.ffn_norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.w_gate = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)
        self.w_up = nn.Linear(cfg.dim, cfg.ffn_dim, bias=False)
        self.w_down = nn.Linear(cfg.ffn_dim, cfg.dim, bias=False)

    def forward(self, h, cos, sin, mask):
        cfg = self.cfg
        B, T, _ = h.shape
        hd = cfg.head_dim
        a = self.attn_norm(h)
        q = self.wq(a).view(B, T, cfg.n_heads, hd).transpose(1, 2)
        k = self.wk(a).view(B, T, cfg.n_kv_heads, hd).transpose(1, 2)
        v = self.wv(a).view(B, T, cfg.n_kv_heads, hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        rep = cfg.n_heads // cfg.n_kv_heads
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        att = att.masked_fill(mask, float("-inf")).softmax(-1)
        o = (att @ v).transpose(1, 2).reshape(B, T, cfg.n_heads * hd)
        h = h + self.wo(o)
        f = self.ffn_norm(h)
        return h + self.w_down(F.silu(self.w_gate(f)) * self.w_up(f))


class Llama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.dim)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        self.norm = RMSNorm(cfg.dim, cfg.norm_eps)
        self.output = nn.Linear(cfg.dim, cfg.vocab_size, bias=False)  # untied
        cos, sin = rope_tables(cfg, cfg.context_length)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.apply(self._init)
        for b in self.blocks:  # scaled residual projections (GPT-2 style)
            std = 0.02 / math.sqrt(2 * cfg.n_layers)
            nn.init.normal_(b.wo.weight, std=std)
            nn.init.normal_(b.w_down.weight, std=std)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)

    def forward(self, ids):
        T = ids.shape[1]
        assert T <= self.cfg.context_length
        mask = torch.ones(T, T, dtype=torch.bool, device=ids.device).triu(1)
        h = self.tok_emb(ids)
        for b in self.blocks:
            h = b(h, self.cos[:T], self.sin[:T], mask)
        return self.output(self.norm(h))

    @torch.no_grad()
    def greedy(self, ids, n):
        ids = list(ids)
        out = []
        for _ in range(n):
            logits = self(torch.tensor([ids[-self.cfg.context_length:]]))[0, -1]
            t = int(torch.argmax(logits))
            out.append(t)
            ids.append(t)
        return out
