"""PyTorch CPU reference for bench/numeric/policy.bench.ts: the identical policy model
(causal pre-LN transformer, fused qkv, ReLU MLP, learned positions, untied head), Adam, the same
batch shapes. Measures the train step, sampling without a KV cache (the prefix re-run every token)
and sampling with a per-layer KV cache (prefill once, then one token per row per step).
Prints one JSON object. Usage: python3 policy_torch.py '<json config>'"""
import json, math, os, sys, time
# Debian's torch calls the system BLAS (OpenBLAS when installed), which sizes its own thread pool and
# ignores torch.set_num_threads: pin it to the measured thread count before torch loads it.
_threads = json.loads(sys.argv[1]).get("threads")
if _threads: os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(_threads)
import torch
import torch.nn as nn
import torch.nn.functional as F

class Block(nn.Module):
    def __init__(s, d, h, m):
        super().__init__()
        s.h = h
        s.ln1, s.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        s.qkv, s.o = nn.Linear(d, 3 * d), nn.Linear(d, d)
        s.w1, s.w2 = nn.Linear(d, m), nn.Linear(m, d)
    def forward(s, x, mask, cache=None, t=0):
        """x [B, T, d] at positions t..t+T-1. With a cache [K, V] (each [B, H, t, dh], None when
        t = 0), the step's keys and values are appended to it and the queries attend over positions
        0..t+T-1 (causally: the mask rows t..t+T-1; one new token sees every cached position).
        Appending with torch.cat (contiguous caches) measured faster here than writing into a
        preallocated [B, H, capacity, dh] buffer and attending over a strided slice of it."""
        B, T, d = x.shape
        q, k, v = s.qkv(s.ln1(x)).split(d, dim=2)
        sh = lambda u: u.view(B, T, s.h, d // s.h).transpose(1, 2)  # [B, H, T, dh]
        q, k, v = sh(q), sh(k), sh(v)
        if cache is not None:
            if cache[0] is not None: k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
            cache[0], cache[1] = k, v
        a = (q @ k.transpose(-2, -1)) / math.sqrt(d // s.h)
        if T > 1: a = a + mask[t:t + T, :t + T]  # a single new token attends to all it has: no mask needed
        y = (a.softmax(-1) @ v).transpose(1, 2).reshape(B, T, d)
        x = x + s.o(y)
        return x + s.w2(F.relu(s.w1(s.ln2(x))))

class LM(nn.Module):
    def __init__(s, V, C, d, L, h, m):
        super().__init__()
        s.tok, s.pos = nn.Embedding(V, d), nn.Embedding(C, d)
        s.blocks = nn.ModuleList([Block(d, h, m) for _ in range(L)])
        s.lnf, s.head = nn.LayerNorm(d), nn.Linear(d, V)
        s.register_buffer("mask", torch.triu(torch.full((C, C), -1e9), 1))
    def forward(s, idx, caches=None, t=0, last=False):
        """Logits [B, T, V] for tokens idx [B, T] at positions t..t+T-1 (caches: one [K, V] per
        layer holding positions 0..t-1, or None for a plain causal pass from position 0); last: only
        the last position's logits [B, V]."""
        T = idx.shape[1]
        x = s.tok(idx) + s.pos(torch.arange(t, t + T))
        for i, b in enumerate(s.blocks): x = b(x, s.mask, None if caches is None else caches[i], t)
        return s.head(s.lnf(x[:, -1] if last else x))
    def new_caches(s):
        return [[None, None] for _ in s.blocks]

def main():
    c = json.loads(sys.argv[1])
    torch.manual_seed(0)
    if c.get("threads"): torch.set_num_threads(c["threads"])
    V, C, d, L, h, m = c["vocabSize"], c["contextLength"], c["dModel"], c["nLayers"], c["nHeads"], c["dMlp"]
    B, T = c["batch"], c["seq"]
    model = LM(V, C, d, L, h, m)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randint(0, V, (B, T + 1))  # inputs of length T, as the tfjs step
    def step():
        logits = model(x[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, V), x[:, 1:].reshape(-1))
        opt.zero_grad(); loss.backward(); opt.step()
    for _ in range(2): step()
    times = []
    for _ in range(c["steps"]):
        t0 = time.perf_counter(); step(); times.append(time.perf_counter() - t0)
    times.sort()
    # naive sampling: no KV cache, re-run the prefix every token
    P, N, SB = c["promptLen"], c["newTokens"], c["sampleBatch"]
    def sample_naive():
        seq = torch.randint(0, V, (SB, P))
        t0 = time.perf_counter()
        with torch.no_grad():
            for _ in range(N):
                p = model(seq)[:, -1].softmax(-1)
                seq = torch.cat([seq, torch.multinomial(p, 1)], 1)
        return time.perf_counter() - t0
    naive = sorted(sample_naive() for _ in range(3))[1]  # median of 3, as noisy as ours is

    # KV-cache sampling, as tfjs `sample` does it: one prefill over the prompt gives every layer's
    # keys/values and the first token's logits; then N-1 steps feed one token per row, append its
    # keys/values and attend over the cache. Temperature 1, full softmax, one multinomial draw per row
    # and token, and the drawn token's log-prob kept (tfjs records it too). The caches are built
    # inside the timed region, as tfjs allocates its own per call.
    def sample_kv(seq):
        t0 = time.perf_counter()
        with torch.no_grad():
            caches = model.new_caches()
            logits = model(seq, caches, 0, last=True)  # [SB, V]
            toks, lps = [], []
            for i in range(N):
                lp = logits.log_softmax(-1)
                tok = torch.multinomial(lp.exp(), 1)  # [SB, 1]
                toks.append(tok); lps.append(lp.gather(1, tok))
                if i + 1 < N: logits = model(tok, caches, P + i, last=True)
            out = torch.cat(toks, 1)
        return time.perf_counter() - t0, out

    # the cache is exact: its logits match the plain causal pass over the same tokens
    with torch.no_grad():
        full_seq = torch.randint(0, V, (SB, P + N))
        full = model(full_seq)  # [SB, P+N, V]
        caches = model.new_caches()
        got = [model(full_seq[:, :P], caches, 0, last=True)]
        got += [model(full_seq[:, P + i:P + i + 1], caches, P + i, last=True) for i in range(N - 1)]
        kv_diff = (torch.stack(got, 1) - full[:, P - 1:P + N - 1]).abs().max().item()
    if not kv_diff < 1e-4: raise SystemExit(f"kv cache check failed: max |logit difference| {kv_diff}")

    # teacher scoring, as tfjs `scoreResponses` does it: one no-grad pass over (prompt ++ response), the
    # log-probs of every response position over the whole vocabulary
    def score():
        seq = torch.randint(0, V, (SB, P + N))
        t0 = time.perf_counter()
        with torch.no_grad():
            lp = model(seq)[:, P - 1:P + N - 1].log_softmax(-1)
        assert lp.shape == (SB, N, V)
        return time.perf_counter() - t0
    for _ in range(2): score()
    score_ms = 1000 * sorted(score() for _ in range(5))[2]

    runs = c.get("sampleRuns", 7)
    for _ in range(2): sample_kv(torch.randint(0, V, (SB, P)))  # warm-up
    kv = []
    for _ in range(runs):
        dt, out = sample_kv(torch.randint(0, V, (SB, P)))
        assert out.shape == (SB, N)
        kv.append(dt)
    kv.sort()
    print(json.dumps({"params": sum(p.numel() for p in model.parameters()), "stepMs": 1000 * times[len(times) // 2],
                      "sampleNaiveS": naive, "sampleKvS": kv[len(kv) // 2], "scoreMs": score_ms, "sampleKvRuns": runs, "kvCheckMaxDiff": kv_diff,
                      "threads": torch.get_num_threads(), "version": torch.__version__}))

main()
