"""Workload 15: a real interpreter's allocation pattern (CPython).

The driver runs this script with the system python3 and PYTHONMALLOC=malloc,
so every object the interpreter creates (ints, strings, tuples, dicts, lists,
frames, instances) comes from the preloaded malloc instead of CPython's own
small-object pool.  The script does ordinary interpreter work: parses and
serialises JSON, builds and sorts records, formats strings, uses classes and
dictionaries, and checks its own results (exit status 1 on a mismatch).

usage: python3 interp.py [rounds]
"""
import json
import sys
import time


class Record:
    def __init__(self, key, name, tags, score):
        self.key = key
        self.name = name
        self.tags = tags
        self.score = score

    def as_dict(self):
        return {"key": self.key, "name": self.name, "tags": list(self.tags), "score": self.score}


def make_records(seed, count):
    state = seed
    records = []
    for i in range(count):
        state = (state * 6364136223846793005 + 1442695040888963407) & ((1 << 64) - 1)
        name = "item-%d-%x" % (i, state >> 40)
        tags = tuple("t%d" % ((state >> shift) & 31) for shift in (3, 11, 19, 27)[: 1 + (state >> 60) % 4])
        records.append(Record(i, name, tags, (state >> 20) % 100000))
    return records


def one_round(seed):
    records = make_records(seed, 4000)
    text = json.dumps([r.as_dict() for r in records])
    loaded = json.loads(text)
    if len(loaded) != len(records) or loaded[-1]["name"] != records[-1].name:
        raise SystemExit("interp: JSON round trip lost data")
    by_tag = {}
    for entry in loaded:
        for tag in entry["tags"]:
            by_tag.setdefault(tag, []).append(entry["key"])
    if sum(len(keys) for keys in by_tag.values()) != sum(len(r.tags) for r in records):
        raise SystemExit("interp: tag index is inconsistent")
    ranked = sorted(records, key=lambda r: (-r.score, r.name))
    for a, b in zip(ranked, ranked[1:]):
        if a.score < b.score:
            raise SystemExit("interp: sort order is wrong")
    words = " ".join(r.name for r in ranked[:500]).split()
    counts = {}
    for word in words:
        for part in word.split("-"):
            counts[part] = counts.get(part, 0) + 1
    report = "\n".join("%s=%d" % (k, v) for k, v in sorted(counts.items()))
    return len(report) + len(by_tag)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    start = time.monotonic()
    total = 0
    for i in range(rounds):
        total += one_round(i + 1)
    print("workload=interp rounds=%d checksum=%d seconds=%.3f" % (rounds, total, time.monotonic() - start))


if __name__ == "__main__":
    main()
