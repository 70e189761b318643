#!/usr/bin/python3
"""Synthetic text classification data: label<TAB>text lines.

Background words follow a Zipf law over a vocabulary of --vocab made-up words; each of --classes
classes has --topic-words planted words (drawn from the middle of the frequency range), and each
token of a document is one of its class's planted words with probability --signal. Labels are
class names ("topic07"). Deterministic for a given --seed.
usage: gen_text.py OUT --docs N [--classes K] [--vocab V] [--seed S] ..."""
import argparse
import numpy as np

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--docs", type=int, required=True)
p.add_argument("--classes", type=int, default=20)
p.add_argument("--vocab", type=int, default=200000)
p.add_argument("--zipf", type=float, default=1.1)
p.add_argument("--topic-words", type=int, default=40)
p.add_argument("--signal", type=float, default=0.08)
p.add_argument("--min-len", type=int, default=20)
p.add_argument("--max-len", type=int, default=120)
p.add_argument("--seed", type=int, default=1)
a = p.parse_args()
rng = np.random.default_rng(a.seed)
syllables = np.array(["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "qu", "xi", "do", "be", "fu", "gi"])
words = np.array(["".join(rng.choice(syllables, size=int(rng.integers(2, 5)))) + str(i % 97) for i in range(a.vocab)])
weights = 1.0 / np.arange(1, a.vocab + 1) ** a.zipf
weights /= weights.sum()
topics = rng.choice(np.arange(a.vocab // 100, a.vocab // 5), size=(a.classes, a.topic_words), replace=False)
with open(a.out, "w") as f:
    for d in range(a.docs):
        y = int(rng.integers(0, a.classes))
        n = int(rng.integers(a.min_len, a.max_len + 1))
        ids = rng.choice(a.vocab, size=n, p=weights)
        planted = rng.random(n) < a.signal
        ids[planted] = rng.choice(topics[y], size=int(planted.sum()))
        f.write(f"topic{y:02d}\t{' '.join(words[ids])}\n")
