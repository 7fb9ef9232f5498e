"""Child process for the crash test: append batches forever, report each acknowledgement.

Usage: python crash_child.py DB FIRST_BATCH

Batch n goes to stream `s{n % 3}` with `1 + n % 4` records keyed `b{n}:{i}`. Before an
append the child prints `SEND n`, after it returns `ACK n <positions> <dedup>`; the
parent kills it with SIGKILL at a random moment and restarts it from the first batch
it has not seen acknowledged, so that batch is re-sent with the same keys.
"""

import sys

from agentic.store import NewRecord, SQLiteEventStore


def batch(n: int) -> list[NewRecord]:
    return [
        NewRecord(
            "crash.tick", {"batch": n, "i": i, "pad": "x" * (n % 50)}, idempotency_key=f"b{n}:{i}"
        )
        for i in range(1 + n % 4)
    ]


def main() -> None:
    path, first = sys.argv[1], int(sys.argv[2])
    store = SQLiteEventStore(path, durability="full")
    out = sys.stdout
    out.write("READY\n")
    out.flush()
    n = first
    while True:
        out.write(f"SEND {n}\n")
        out.flush()
        result = store.append(f"s{n % 3}", batch(n))
        positions = ",".join(map(str, result.positions))
        out.write(f"ACK {n} {positions} {int(result.deduplicated)}\n")
        out.flush()
        n += 1


if __name__ == "__main__":
    main()
