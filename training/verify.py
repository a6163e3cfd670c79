#!/usr/bin/env python3
"""Checks the exported GGUF against the trained PyTorch weights on held-out RULER samples (CPU).

1. argmax: for each sample, BOS + prompt + reference answer + EOS goes through PyTorch (fp32, the
   F16 weights the trainer saved) and through llama.cpp (llama_decode, all logits) via
   VerifyGguf.java; the argmax at every position is compared (all positions; answer positions).
2. greedy: both generate the answer greedily from BOS + prompt; both are scored with RULER's metric.

usage: verify.py --weights DIR|WEIGHTS.gguf --gguf MODEL.gguf --vocab VOCAB.gguf --eval EVAL_DIR [--lengths 4096]
                 [--samples 2] [--tasks all] [--out report.json] [--jars 'harness/target/lib/*']
Environment: JAVA_HOME (JDK 25), RBENCH_LLAMACPP_DIR (llama.cpp libraries).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train as T  # noqa: E402


def java(mode, gguf, seqs, jars, threads):
    here = os.path.dirname(os.path.abspath(__file__))
    with tempfile.TemporaryDirectory() as tmp:
        inp, out = os.path.join(tmp, "in.txt"), os.path.join(tmp, "out.txt")
        with open(inp, "w") as f:
            for s in seqs:
                f.write(" ".join(map(str, s)) + "\n")
        jhome = os.environ.get("JAVA_HOME", "/usr/lib/jvm/temurin-25-jdk-amd64")
        cmd = [os.path.join(jhome, "bin", "java"), "--enable-native-access=ALL-UNNAMED", "-cp", jars,
               os.path.join(here, "VerifyGguf.java"), mode, gguf, inp, out, str(threads)]
        subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)
        with open(out) as f:
            return [[int(x) for x in line.split()] for line in f.read().splitlines()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--vocab", required=True)
    ap.add_argument("--eval", required=True)
    ap.add_argument("--lengths", default="4096")
    ap.add_argument("--samples", type=int, default=2)
    ap.add_argument("--tasks", default="all")
    ap.add_argument("--out")
    ap.add_argument("--jars", default="harness/target/lib/*")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    if args.weights.endswith(".gguf"):  # e.g. the GGUF itself: checks train.py --init's reader too
        model = T.Model(T.gguf_config(T.read_gguf(args.weights)[0]))
        T.load_gguf_weights(model, args.weights)
    else:
        man = json.load(open(os.path.join(args.weights, "manifest.json")))
        model = T.Model(man["config"])
        T.load_weights(model, args.weights)
    model.eval()
    detok = T.Detokenizer(args.vocab)
    amp = lambda: torch.autocast("cpu", enabled=False)
    lengths = {int(x) for x in args.lengths.split(",")}
    sets = [s for s in T.load_eval(args.eval, args.samples) if s[0] in lengths
            and (args.tasks == "all" or s[1] in args.tasks.split(","))]

    seqs, ans_starts, names, items = [], [], [], []
    for L, task, its in sets:
        for it in its:
            ids = json.loads(open(os.path.join(args.eval, str(L), task + ".ids.jsonl")).readlines()[it["index"]])
            assert ids["input_ids"] == it["input_ids"]
            seqs.append([T.BOS] + ids["input_ids"] + ids["output_ids"] + [T.EOS])
            ans_starts.append(1 + len(ids["input_ids"]))
            names.append(f"{task}@{L}#{it['index']}")
            items.append(it)

    t0 = time.time()
    torch_argmax, margins = [], []
    with torch.no_grad():
        for s in seqs:
            logits = model(torch.tensor([s]))[0]
            top = logits.topk(2, dim=-1).values
            torch_argmax.append(logits.argmax(-1).tolist())
            margins.append((top[:, 0] - top[:, 1]).tolist())
    t1 = time.time()
    cpp_argmax = java("argmax", args.gguf, seqs, args.jars, args.threads)
    t2 = time.time()
    copies = total = agree = ans_total = ans_agree = confident = confident_agree = 0
    per_sample = []
    for name, s, a, ta, ca, mg in zip(names, seqs, ans_starts, torch_argmax, cpp_argmax, margins):
        eq = [int(x == y) for x, y in zip(ta, ca)]
        total += len(eq)
        agree += sum(eq)
        ans = eq[a - 1:len(s) - 1]  # positions whose next token is an answer token
        ans_total += len(ans)
        ans_agree += sum(ans)
        for e, m in zip(eq, mg):
            if m > 1.0:
                confident += 1
                confident_agree += e
        copies += sum(int(x == y) for x, y in zip(ta, s))
        per_sample.append({"sample": name, "positions": len(eq), "agree": sum(eq), "answer_positions": len(ans),
                           "answer_agree": sum(ans)})
    report = {"gguf": os.path.basename(args.gguf), "gguf_bytes": os.path.getsize(args.gguf),
              "argmax_agreement_all_positions": agree / total, "positions": total,
              "argmax_agreement_answer_positions": ans_agree / max(1, ans_total), "answer_positions": ans_total,
              "argmax_agreement_where_pytorch_margin_gt_1": confident_agree / max(1, confident),
              "positions_margin_gt_1": confident,
              "pytorch_argmax_equals_current_token": copies / total, "per_sample": per_sample,
              "seconds": {"pytorch": t1 - t0, "llama_cpp": t2 - t1}}
    print(json.dumps({k: v for k, v in report.items() if k != "per_sample"}, indent=1), flush=True)

    # greedy answers: PyTorch vs llama.cpp, scored with RULER's metric
    prompts = [[it["max_new"], T.BOS] + it["input_ids"] for it in items]
    cpp_gen = java("greedy", args.gguf, prompts, args.jars, args.threads)
    rows = []
    for name, it, cg in zip(names, items, cpp_gen):
        tg = T.greedy(model, it["input_ids"], it["max_new"], "cpu", amp)
        pt, pc = detok(tg), detok(cg)
        rows.append({"sample": name, "same_tokens": tg == cg, "score_pytorch": T.score(pt, it["outputs"], it["metric"]),
                     "score_llama_cpp": T.score(pc, it["outputs"], it["metric"]), "llama_cpp": pc[:120],
                     "refs": it["outputs"]})
        print(f"{name:28s} same={tg == cg} torch={rows[-1]['score_pytorch']:.2f} llama.cpp={rows[-1]['score_llama_cpp']:.2f} "
              f"{pc[:70]!r}", flush=True)
    report["greedy"] = rows
    report["greedy_same_tokens"] = sum(r["same_tokens"] for r in rows) / max(1, len(rows))
    report["greedy_score_pytorch"] = 100 * float(np.mean([r["score_pytorch"] for r in rows]))
    report["greedy_score_llama_cpp"] = 100 * float(np.mean([r["score_llama_cpp"] for r in rows]))
    print(f"greedy: identical generations {100 * report['greedy_same_tokens']:.0f}%, score PyTorch "
          f"{report['greedy_score_pytorch']:.1f}, llama.cpp {report['greedy_score_llama_cpp']:.1f}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
