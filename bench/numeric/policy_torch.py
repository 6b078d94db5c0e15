"""PyTorch CPU reference for bench/numeric/policy.bench.ts: the identical policy model
(causal pre-LN transformer, fused qkv, ReLU MLP, learned positions, untied head), Adam, the same
batch shapes. Prints one JSON object. Usage: python3 policy_torch.py '<json config>'"""
import json, math, sys, time
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
    def forward(s, x, mask):
        B, T, d = x.shape
        q, k, v = s.qkv(s.ln1(x)).split(d, dim=2)
        sh = lambda t: t.view(B, T, s.h, d // s.h).transpose(1, 2)  # [B, H, T, dh]
        q, k, v = sh(q), sh(k), sh(v)
        a = (q @ k.transpose(-2, -1)) / math.sqrt(d // s.h) + mask[:T, :T]
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
    def forward(s, idx):
        T = idx.shape[1]
        x = s.tok(idx) + s.pos(torch.arange(T))
        for b in s.blocks: x = b(x, s.mask)
        return s.head(s.lnf(x))

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
    P, N = c["promptLen"], c["newTokens"]
    def sample_naive():
        seq = torch.randint(0, V, (c["sampleBatch"], P))
        t0 = time.perf_counter()
        with torch.no_grad():
            for _ in range(N):
                p = model(seq)[:, -1].softmax(-1)
                seq = torch.cat([seq, torch.multinomial(p, 1)], 1)
        return time.perf_counter() - t0
    naive = sorted(sample_naive() for _ in range(3))[1]  # median of 3, as noisy as ours is
    print(json.dumps({"params": sum(p.numel() for p in model.parameters()), "stepMs": 1000 * times[len(times) // 2],
                      "sampleNaiveS": naive, "threads": torch.get_num_threads(), "version": torch.__version__}))

main()
