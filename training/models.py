"""Plain-PyTorch models of the pipeline.

MarianTransformer   the autoregressive verifier. Parameter names are exactly Hugging Face
                    MarianMTModel's (``model.shared.weight``, ``model.encoder.layers.0.fc1.weight``,
                    ...), so the export is a dtype cast plus config.json. Semantics = HF Marian:
                    post-norm layers, sinusoidal positions computed as MarianSinusoidalPositionalEmbedding
                    (sin in the first half, cos in the second, positions from 0), token embeddings
                    scaled by sqrt(d_model), one shared embedding matrix (encoder input, decoder input,
                    output projection), ``final_logits_bias`` added to the logits.

SpecDrafter         the Spec-Drafter of SpecDec exactly as the authors' BlockNAT (hemingkx/SpecDec,
                    fairseq NATransformerEncoder/Decoder with --src-embedding-copy,
                    --encoder-learned-pos --decoder-learned-pos --share-all-embeddings, gelu, post-norm):
                    * encoder input  = E[src] + P_enc[i + 2]            (no sqrt(d) scaling)
                    * decoder input  = prefix tokens then k mask (<unk>) slots; a slot's embedding is a
                      soft copy of the source: softmax_j( (W_copy P_dec[t+2]) . (E[src_j] + P_enc[j+2]) )
                      weighted sum of E[src_j]; prefix tokens use E[token] (again unscaled)
                    * before EVERY decoder layer: x += P_dec[t + 2]
                    * decoder self-attention is bidirectional (no causal mask)
                    * logits = h . E^T (tied, no bias); the k slot positions are read out.
                    Position rows 0 and 1 exist (fairseq padding_idx = 1 offset) but are never read.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------------------------
# shared pieces


class Attention(nn.Module):
    """Multi-head attention with the HF/fairseq parameterisation (q, k, v, out projections with bias;
    q scaled by head_dim^-0.5 after projection)."""

    def __init__(self, d_model, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = d_model // heads
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)

    def split(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.head_dim).transpose(1, 2)

    def project_kv(self, kv):
        return self.split(self.k_proj(kv)), self.split(self.v_proj(kv))

    def forward(self, x, kv=None, mask=None, cache=None, dropout_p=0.0):
        """x: [B,T,D]. kv: keys/values source [B,S,D] (None = self-attention on x).
        mask: additive or boolean mask broadcastable to [B,H,T,S] (True = attend).
        cache: None, or a dict; for self-attention it accumulates 'k','v' (incremental decoding);
        for cross-attention it holds precomputed 'k','v'."""
        q = self.split(self.q_proj(x))
        if cache is not None and "static" in cache:
            k, v = cache["k"], cache["v"]
        else:
            k, v = self.project_kv(x if kv is None else kv)
            if cache is not None:
                if "k" in cache:
                    k = torch.cat([cache["k"], k], dim=2)
                    v = torch.cat([cache["v"], v], dim=2)
                cache["k"], cache["v"] = k, v
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
        b, h, t, hd = o.shape
        return self.out_proj(o.transpose(1, 2).reshape(b, t, h * hd))


class EncoderLayer(nn.Module):
    def __init__(self, d, heads, ffn, act):
        super().__init__()
        self.self_attn = Attention(d, heads)
        self.self_attn_layer_norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, ffn)
        self.fc2 = nn.Linear(ffn, d)
        self.final_layer_norm = nn.LayerNorm(d)
        self.act = act

    def forward(self, x, mask, p):
        h = self.self_attn(x, mask=mask, dropout_p=p["attn"])
        x = self.self_attn_layer_norm(x + F.dropout(h, p["drop"], self.training))
        h = self.fc2(F.dropout(self.act(self.fc1(x)), p["act"], self.training))
        return self.final_layer_norm(x + F.dropout(h, p["drop"], self.training))


class DecoderLayer(nn.Module):
    def __init__(self, d, heads, ffn, act):
        super().__init__()
        self.self_attn = Attention(d, heads)
        self.self_attn_layer_norm = nn.LayerNorm(d)
        self.encoder_attn = Attention(d, heads)
        self.encoder_attn_layer_norm = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, ffn)
        self.fc2 = nn.Linear(ffn, d)
        self.final_layer_norm = nn.LayerNorm(d)
        self.act = act

    def forward(self, x, enc, self_mask, enc_mask, p, cache=None):
        h = self.self_attn(x, mask=self_mask, dropout_p=p["attn"],
                           cache=None if cache is None else cache["self"])
        x = self.self_attn_layer_norm(x + F.dropout(h, p["drop"], self.training))
        h = self.encoder_attn(x, kv=enc, mask=enc_mask, dropout_p=p["attn"],
                              cache=None if cache is None else cache["cross"])
        x = self.encoder_attn_layer_norm(x + F.dropout(h, p["drop"], self.training))
        h = self.fc2(F.dropout(self.act(self.fc1(x)), p["act"], self.training))
        return self.final_layer_norm(x + F.dropout(h, p["drop"], self.training))


ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu, "swish": F.silu, "silu": F.silu}


def marian_sinusoids(n_pos, dim):
    """HF MarianSinusoidalPositionalEmbedding.create_weight, in float64 then cast."""
    pos = torch.arange(n_pos, dtype=torch.float64)[:, None]
    j = torch.arange(dim, dtype=torch.float64)[None, :]
    enc = pos / torch.pow(torch.tensor(10000.0, dtype=torch.float64), 2 * torch.div(j, 2, rounding_mode="floor") / dim)
    out = torch.empty(n_pos, dim, dtype=torch.float64)
    sentinel = dim // 2 if dim % 2 == 0 else dim // 2 + 1
    out[:, :sentinel] = torch.sin(enc[:, 0::2])
    out[:, sentinel:] = torch.cos(enc[:, 1::2])
    return out.float()


def key_padding_mask(ids, pad):
    """[B,S] ids -> boolean [B,1,1,S], True where attention is allowed."""
    return ids.ne(pad)[:, None, None, :]


# ----------------------------------------------------------------------------------------------
# verifier


class _MarianInner(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.shared = nn.Embedding(cfg["vocab_size"], cfg["d_model"], padding_idx=cfg["pad_token_id"])
        act = ACTIVATIONS[cfg["activation_function"]]
        self.encoder = nn.Module()
        self.encoder.layers = nn.ModuleList(
            [EncoderLayer(cfg["d_model"], cfg["encoder_attention_heads"], cfg["encoder_ffn_dim"], act)
             for _ in range(cfg["encoder_layers"])])
        self.decoder = nn.Module()
        self.decoder.layers = nn.ModuleList(
            [DecoderLayer(cfg["d_model"], cfg["decoder_attention_heads"], cfg["decoder_ffn_dim"], act)
             for _ in range(cfg["decoder_layers"])])


class MarianTransformer(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = dict(cfg)
        self.model = _MarianInner(cfg)
        self.register_buffer("final_logits_bias", torch.zeros(1, cfg["vocab_size"]))
        self.register_buffer("pos_table", marian_sinusoids(cfg["max_position_embeddings"], cfg["d_model"]),
                             persistent=False)
        self.scale = math.sqrt(cfg["d_model"]) if cfg.get("scale_embedding", True) else 1.0
        self.pad = cfg["pad_token_id"]
        self.p = {"drop": cfg.get("dropout", 0.1), "attn": cfg.get("attention_dropout", 0.0),
                  "act": cfg.get("activation_dropout", 0.0)}
        self.reset_parameters()

    def reset_parameters(self):
        std = self.cfg.get("init_std", 0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, std)
                nn.init.zeros_(m.bias)
        nn.init.normal_(self.model.shared.weight, 0.0, self.cfg["d_model"] ** -0.5)
        with torch.no_grad():
            self.model.shared.weight[self.pad].zero_()

    def _p(self):
        return self.p if self.training else {"drop": 0.0, "attn": 0.0, "act": 0.0}

    def encode(self, src):
        p = self._p()
        x = self.model.shared(src) * self.scale + self.pos_table[: src.size(1)]
        x = F.dropout(x, p["drop"], self.training)
        mask = key_padding_mask(src, self.pad)
        for layer in self.model.encoder.layers:
            x = layer(x, mask, p)
        return x, mask

    def decode(self, tgt_in, enc, enc_mask, cache=None, start=0):
        """tgt_in [B,T] decoder input ids (starting with decoder_start = pad). Returns logits [B,T,V].
        With cache (list of per-layer dicts), tgt_in holds only the new tokens at positions start.."""
        p = self._p()
        T = tgt_in.size(1)
        x = self.model.shared(tgt_in) * self.scale + self.pos_table[start: start + T]
        x = F.dropout(x, p["drop"], self.training)
        L = start + T
        if T > 1:
            causal = torch.ones(T, L, dtype=torch.bool, device=tgt_in.device).tril(diagonal=start)
            self_mask = causal[None, None]
        else:
            self_mask = None
        for i, layer in enumerate(self.model.decoder.layers):
            x = layer(x, enc, self_mask, enc_mask, p, cache=None if cache is None else cache[i])
        return F.linear(x, self.model.shared.weight) + self.final_logits_bias

    def forward(self, src, tgt_in):
        enc, enc_mask = self.encode(src)
        return self.decode(tgt_in, enc, enc_mask)

    def new_cache(self, enc):
        cache = []
        for layer in self.model.decoder.layers:
            k, v = layer.encoder_attn.project_kv(enc)
            cache.append({"self": {}, "cross": {"static": True, "k": k, "v": v}})
        return cache

    @staticmethod
    def reorder_cache(cache, idx):
        for c in cache:
            for kind in ("self", "cross"):
                if "k" in c[kind]:
                    c[kind]["k"] = c[kind]["k"].index_select(0, idx)
                    c[kind]["v"] = c[kind]["v"].index_select(0, idx)

    @staticmethod
    def truncate_cache(cache, length):
        """Roll the self-attention cache back to `length` positions (SpecDec's rejected drafts)."""
        for c in cache:
            if "k" in c["self"]:
                c["self"]["k"] = c["self"]["k"][:, :, :length]
                c["self"]["v"] = c["self"]["v"][:, :, :length]

    # -- decoding ------------------------------------------------------------------------------

    @torch.no_grad()
    def greedy(self, src, max_len=None):
        """Batched greedy decoding. src [B,S] (padded with pad, eos-terminated). Returns list of id lists
        (without decoder start and eos)."""
        eos = self.cfg["eos_token_id"]
        B = src.size(0)
        enc, enc_mask = self.encode(src)
        cache = self.new_cache(enc)
        if max_len is None:
            max_len = min(self.cfg["max_position_embeddings"] - 1, int(src.ne(self.pad).sum(1).max()) * 2 + 10)
        tok = torch.full((B, 1), self.cfg["decoder_start_token_id"], dtype=torch.long)
        out = torch.zeros(B, 0, dtype=torch.long)
        done = torch.zeros(B, dtype=torch.bool)
        for step in range(max_len):
            logits = self.decode(tok, enc, enc_mask, cache=cache, start=step)[:, -1]
            nxt = logits.argmax(-1)
            nxt = torch.where(done, torch.full_like(nxt, eos), nxt)
            out = torch.cat([out, nxt[:, None]], 1)
            done |= nxt.eq(eos)
            if bool(done.all()):
                break
            tok = nxt[:, None]
        res = []
        for row in out.tolist():
            res.append(row[: row.index(eos)] if eos in row else row)
        return res

    @torch.no_grad()
    def beam_search(self, src, beam=5, max_len=None, length_penalty=1.0):
        """Batched beam search (fairseq-style: finished hypotheses scored by sum logprob / len^lp,
        len including eos). Returns list of best id lists."""
        eos = self.cfg["eos_token_id"]
        B = src.size(0)
        enc, enc_mask = self.encode(src)
        if max_len is None:
            max_len = min(self.cfg["max_position_embeddings"] - 1, int(src.ne(self.pad).sum(1).max()) * 2 + 10)
        enc = enc.repeat_interleave(beam, 0)
        enc_mask = enc_mask.repeat_interleave(beam, 0)
        cache = self.new_cache(enc)
        V = self.cfg["vocab_size"]
        scores = torch.zeros(B, beam)
        scores[:, 1:] = float("-inf")
        tokens = torch.zeros(B * beam, 0, dtype=torch.long)
        tok = torch.full((B * beam, 1), self.cfg["decoder_start_token_id"], dtype=torch.long)
        finished = [[] for _ in range(B)]
        batch_done = [False] * B
        for step in range(max_len):
            logits = self.decode(tok, enc, enc_mask, cache=cache, start=step)[:, -1]
            lp = F.log_softmax(logits.float(), -1).view(B, beam, V)
            if step == max_len - 1:
                lp[:, :, :eos] = float("-inf")
                lp[:, :, eos + 1:] = float("-inf")
            cand = (scores[:, :, None] + lp).view(B, -1)
            top_s, top_i = cand.topk(2 * beam, dim=1)
            beam_idx = top_i // V
            tok_idx = top_i % V
            new_scores = torch.full((B, beam), float("-inf"))
            new_src = torch.zeros(B, beam, dtype=torch.long)
            new_tok = torch.full((B, beam), eos, dtype=torch.long)
            for b in range(B):
                if batch_done[b]:
                    new_src[b] = torch.arange(beam)
                    continue
                n = 0
                for s, bi, ti in zip(top_s[b].tolist(), beam_idx[b].tolist(), tok_idx[b].tolist()):
                    if s == float("-inf"):
                        break
                    if ti == eos:
                        hyp = tokens[b * beam + bi].tolist()
                        finished[b].append((s / ((len(hyp) + 1) ** length_penalty), hyp))
                    else:
                        new_scores[b, n] = s
                        new_src[b, n] = bi
                        new_tok[b, n] = ti
                        n += 1
                    if n == beam:
                        break
                if len(finished[b]) >= beam:
                    # fairseq stops a sentence once beam hypotheses have finished
                    batch_done[b] = True
                    new_scores[b] = float("-inf")
            if all(batch_done):
                break
            idx = (new_src + torch.arange(B)[:, None] * beam).view(-1)
            self.reorder_cache(cache, idx)
            tokens = torch.cat([tokens.index_select(0, idx), new_tok.view(-1, 1)], 1)
            scores = new_scores
            tok = new_tok.view(-1, 1)
        res = []
        for b in range(B):
            if finished[b]:
                res.append(max(finished[b], key=lambda x: x[0])[1])
            else:
                res.append(tokens[b * beam].tolist())
        return res


# ----------------------------------------------------------------------------------------------
# Spec-Drafter (BlockNAT)


class SpecDrafter(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = dict(cfg)
        d = cfg["d_model"]
        n_pos = cfg["max_position_embeddings"] + 2          # fairseq: max_positions + padding_idx(1) + 1
        act = ACTIVATIONS[cfg["activation_function"]]
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], d, padding_idx=cfg["pad_token_id"])
        self.encoder = nn.Module()
        self.encoder.embed_positions = nn.Embedding(n_pos, d)
        self.encoder.layers = nn.ModuleList(
            [EncoderLayer(d, cfg["encoder_attention_heads"], cfg["encoder_ffn_dim"], act)
             for _ in range(cfg["encoder_layers"])])
        self.decoder = nn.Module()
        self.decoder.embed_positions = nn.Embedding(n_pos, d)
        self.decoder.copy_attn = nn.Linear(d, d, bias=False)
        self.decoder.layers = nn.ModuleList(
            [DecoderLayer(d, cfg["decoder_attention_heads"], cfg["decoder_ffn_dim"], act)
             for _ in range(cfg["decoder_layers"])])
        self.pad = cfg["pad_token_id"]
        self.mask_id = cfg["mask_token_id"]
        self.p = {"drop": cfg.get("dropout", 0.1), "attn": cfg.get("attention_dropout", 0.0),
                  "act": cfg.get("activation_dropout", 0.0)}
        self.reset_parameters()

    def reset_parameters(self):
        """fairseq --apply-bert-init: N(0, 0.02) for every Linear and Embedding, zero biases and
        zero padding rows (positions: fairseq padding_idx = 1)."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Embedding):
                nn.init.normal_(m.weight, 0.0, 0.02)
        with torch.no_grad():
            self.embed_tokens.weight[self.pad].zero_()
            self.encoder.embed_positions.weight[:2].zero_()
            self.decoder.embed_positions.weight[:2].zero_()

    def _p(self):
        return self.p if self.training else {"drop": 0.0, "attn": 0.0, "act": 0.0}

    @staticmethod
    def positions(ids, pad):
        """fairseq make_positions with padding_idx = 1: non-pad tokens get 2, 3, ... (counting only
        non-pad tokens, so left padding works); pad tokens get row 1."""
        m = ids.ne(pad).long()
        return torch.cumsum(m, 1) * m + 1

    def encode(self, src):
        p = self._p()
        src_pos = self.encoder.embed_positions(self.positions(src, self.pad))
        emb = self.embed_tokens(src)
        x = emb + src_pos
        x = F.dropout(x, p["drop"], self.training)
        pad_mask = src.eq(self.pad)
        x = x * (~pad_mask).unsqueeze(-1).to(x.dtype)
        mask = key_padding_mask(src, self.pad)
        for layer in self.encoder.layers:
            x = layer(x, mask, p)
        return {"out": x, "mask": mask, "pad": pad_mask, "emb": emb, "pos": src_pos}

    def decode_features(self, prev, enc):
        """prev [B,T] = prefix + mask slots (+ pad). Returns features [B,T,D]."""
        p = self._p()
        pos = self.decoder.embed_positions(self.positions(prev, self.pad))       # [B,T,D]
        score = torch.bmm(self.decoder.copy_attn(pos), (enc["emb"] + enc["pos"]).transpose(1, 2))
        score = score.masked_fill(enc["pad"][:, None, :], float("-inf"))
        copy = torch.bmm(F.softmax(score, -1), enc["emb"])
        tok = self.embed_tokens(prev)
        x = torch.where(prev.eq(self.mask_id)[..., None], copy, tok)
        self_mask = key_padding_mask(prev, self.pad)
        for layer in self.decoder.layers:
            x = x + pos
            x = F.dropout(x, p["drop"], self.training)
            x = layer(x, enc["out"], self_mask, enc["mask"], p)
        return x

    def logits(self, features):
        return F.linear(features, self.embed_tokens.weight)

    def forward(self, src, prev):
        enc = self.encode(src)
        return self.logits(self.decode_features(prev, enc))

    @torch.no_grad()
    def draft(self, src_or_enc, prefix, k):
        """Batch-1 drafting: prefix = list of verified ids; returns (logits [k,V], ids list)."""
        enc = src_or_enc if isinstance(src_or_enc, dict) else self.encode(src_or_enc)
        prev = torch.tensor([list(prefix) + [self.mask_id] * k], dtype=torch.long)
        feats = self.decode_features(prev, enc)[0, len(prefix):]
        lg = self.logits(feats)
        return lg, lg.argmax(-1).tolist()
