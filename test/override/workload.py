#!/usr/bin/env python3
# -----------------------------------------------------------------------------
# Allocation-heavy, multithreaded Python workload for override-python.
#
# Runs with PYTHONMALLOC=malloc (set by the test) so that every Python object
# is allocated with malloc, then:
#   - six threads each build and tear down dicts, lists, sets, strings, bytes
#     and nested structures from a seeded random generator, and report a
#     digest of what they computed;
#   - the main thread does the same kind of work concurrently;
#   - the results are printed in a fixed order, so stdout is identical from run
#     to run (the test compares a run with the system allocator to a run with
#     LD_PRELOAD=libmimalloc.so).
# When the allocator is present in the process (LD_PRELOAD), the script also
# checks through ctypes that Python's own objects and a malloc'ed block live
# in mimalloc's heap; that report goes to stderr, and a failure exits with 1.
# -----------------------------------------------------------------------------
import ctypes
import hashlib
import json
import random
import sys
import threading

THREADS = 6
ROUNDS = 30


def churn(seed):
    rng = random.Random(seed)
    digest = hashlib.sha256()
    kept = []
    for round_index in range(ROUNDS):
        words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(1, 12)))
                 for _ in range(3000)]
        counts = {}
        for word in words:
            counts[word] = counts.get(word, 0) + 1
        table = {word: [len(word), word.upper(), word[::-1] * (count % 5 + 1)] for word, count in counts.items()}
        unique = set(words)
        nested = [{"id": i, "tags": sorted(rng.sample(words, 5)), "blob": bytes(rng.getrandbits(8) for _ in range(64))}
                  for i in range(400)]
        text = json.dumps({"round": round_index, "top": sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:20],
                           "sizes": [len(v[2]) for _, v in sorted(table.items())][:200]}, sort_keys=True)
        joined = " ".join(sorted(unique))
        big = bytearray(joined.encode()) * 3
        big[::7] = b"x" * len(big[::7])
        digest.update(text.encode())
        digest.update(hashlib.md5(bytes(big)).digest())
        digest.update(str(sum(len(n["blob"]) for n in nested)).encode())
        # keep a little of each round alive across rounds, drop the rest
        kept.append(table)
        if len(kept) > 3:
            kept.pop(0)
    return digest.hexdigest(), len(kept)


def main():
    results = [None] * THREADS

    def worker(index):
        results[index] = churn(1000 + index)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    main_result = churn(42)
    for t in threads:
        t.join()

    for index, (digest, kept) in enumerate(results):
        print(f"thread {index}: {digest} kept={kept}")
    print(f"main: {main_result[0]} kept={main_result[1]}")

    # Ownership check, only when our allocator is in the process.
    process = ctypes.CDLL(None)
    try:
        in_heap = process.mi_is_in_heap_region
    except AttributeError:
        return 0
    in_heap.restype = ctypes.c_bool
    in_heap.argtypes = [ctypes.c_void_p]
    process.malloc.restype = ctypes.c_void_p
    process.malloc.argtypes = [ctypes.c_size_t]
    process.free.argtypes = [ctypes.c_void_p]
    block = process.malloc(1000)
    objects = [dict(a=i) for i in range(100)] + [list(range(i)) for i in range(100)] + ["s" * (i + 100) for i in range(100)]
    foreign = sum(1 for o in objects if not in_heap(id(o)))
    block_ok = bool(in_heap(block))
    process.free(block)
    print(f"python: malloc block ours: {block_ok}; {len(objects) - foreign} of {len(objects)} objects in mimalloc's heap",
          file=sys.stderr)
    if foreign != 0 or not block_ok:
        print("python: FAILED: memory not served by mimalloc", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
