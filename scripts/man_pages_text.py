#!/usr/bin/python3
"""A real text classification set from this machine's manual pages: one document per English
page of sections 1, 2, 3, 5, 7 and 8 (/usr/share/man/manN/), labelled by its section, as
label<TAB>text lines. troff requests (lines starting with . or ') and font escapes are dropped;
each page is cut at --max-chars. At most --per-section pages per section (sorted by name, every
k-th page), so that the large sections do not drown the small ones. Pages whose name hashes to
the last --test-percent buckets go to the test file.
usage: man_pages_text.py TRAIN.txt TEST.txt [--per-section N] [--max-chars C] [--test-percent P]"""
import argparse
import glob
import gzip
import os
import re
import zlib

p = argparse.ArgumentParser()
p.add_argument("train")
p.add_argument("test")
p.add_argument("--per-section", type=int, default=3000)
p.add_argument("--max-chars", type=int, default=20000)
p.add_argument("--test-percent", type=int, default=20)
a = p.parse_args()
escape = re.compile(r"\\f[BIRP]|\\f\(..|\\\(..|\\[-&|^e]|\\s[-+]?\d")
counts = {}
with open(a.train, "w") as train, open(a.test, "w") as test:
    for section in ["1", "2", "3", "5", "7", "8"]:
        pages = sorted(glob.glob(f"/usr/share/man/man{section}/*"))
        pages = [p for p in pages if os.path.isfile(p) and not os.path.islink(p)]
        step = max(1, len(pages) // a.per_section)
        for path in pages[::step][: a.per_section]:
            opener = gzip.open if path.endswith(".gz") else open
            try:
                with opener(path, "rt", errors="replace") as f:
                    raw = f.read(4 * a.max_chars)
            except OSError:
                continue
            if raw.startswith(".so "):  # a page that only includes another one
                continue
            lines = [l for l in raw.splitlines() if not l.startswith((".", "'"))]
            text = escape.sub(" ", " ".join(lines))[: a.max_chars].replace("\t", " ")
            if len(text.split()) < 5:
                continue
            name = os.path.basename(path)
            out = test if zlib.crc32(name.encode()) % 100 < a.test_percent else train
            out.write(f"man{section}\t{text}\n")
            counts[section] = counts.get(section, 0) + 1
print("pages per section:", counts)
