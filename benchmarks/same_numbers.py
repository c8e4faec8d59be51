"""The same numbers: every variable, month by month, of the four shipped scenarios (and of a
small household-engine run) against a recorded baseline, to 1e-12 relative.

Made for refactorings that must not change the model (issue 14, "The same numbers"):
record the baseline from the engine before the change, then compare after it.

    python benchmarks/same_numbers.py record /tmp/month-baseline
    python benchmarks/same_numbers.py compare /tmp/month-baseline

``compare`` prints one line per run and, for each variable that differs, the largest relative
difference and where; it exits 1 if anything differs by more than ``RTOL``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

SCENARIOS = ("historical", "nep", "left", "permanent-revolution")
RTOL = 1e-12
# The household run: small, heterogeneity on (every household-level draw exercised), a
# traced panel, a fixed seed; and the same with heterogeneity off (the exact transitions).
HOUSEHOLDS = 3000
PANEL = 25
SEED = 7


def runs() -> dict[str, dict[str, np.ndarray]]:
    """Each run's arrays by name: the monthly records of every variable, and for the
    household runs also every numeric column of their tables."""
    from sovsim.api import run

    out: dict[str, dict[str, np.ndarray]] = {}
    for name in SCENARIOS:
        out[name] = dict(run(name).records)
    for hetero in (True, False):
        res = run("historical", seed=SEED, households=HOUSEHOLDS, panel=PANEL if hetero else 0,
                  heterogeneity=hetero)
        arrays = {f"records/{k}": v for k, v in res.records.items()}
        for table, df in res.tables.items():
            for col in df.columns:
                values = df[col].to_numpy()
                if values.dtype.kind in "fiub":
                    arrays[f"{table}/{col}"] = values.astype(float)
                else:
                    arrays[f"{table}/{col}"] = values.astype(str)
        out[f"households-{'hetero' if hetero else 'exact'}"] = arrays
    return out


def record(where: Path) -> None:
    where.mkdir(parents=True, exist_ok=True)
    for name, arrays in runs().items():
        np.savez_compressed(where / f"{name}.npz", **arrays)
        print(f"recorded {name}: {len(arrays)} arrays")


def differences(saved: dict[str, np.ndarray], now: dict[str, np.ndarray]) -> list[str]:
    """One line per array that differs by more than RTOL (relative to the larger value;
    NaN equals NaN)."""
    lines = []
    for key in sorted(set(saved) | set(now)):
        if key not in saved or key not in now:
            lines.append(f"  {key}: only in {'the baseline' if key in saved else 'this run'}")
            continue
        a, b = np.asarray(saved[key]), np.asarray(now[key])
        if a.shape != b.shape:
            lines.append(f"  {key}: shape {a.shape} -> {b.shape}")
            continue
        if a.dtype.kind in "US" or b.dtype.kind in "US":
            if not np.array_equal(a.astype(str), b.astype(str)):
                lines.append(f"  {key}: text differs")
            continue
        both_nan = np.isnan(a) & np.isnan(b)
        scale = np.maximum(np.abs(a), np.abs(b))
        diff = np.where(both_nan, 0.0, np.abs(a - b))
        rel = np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), diff)
        rel = np.where(np.isnan(rel), np.inf, rel)
        if rel.size and rel.max() > RTOL:
            i = np.unravel_index(int(rel.argmax()), rel.shape)
            lines.append(f"  {key}: {rel.max():.3e} relative at {tuple(map(int, i))} "
                         f"({a[i]!r} -> {b[i]!r})")
    return lines


def compare(where: Path) -> int:
    failed = 0
    for name, now in runs().items():
        with np.load(where / f"{name}.npz", allow_pickle=False) as f:
            saved = {k: f[k] for k in f.files}
        lines = differences(saved, now)
        print(f"{name}: {len(now)} arrays, "
              + ("the same to 1e-12" if not lines else f"{len(lines)} differ"))
        for line in lines[:40]:
            print(line)
        failed += bool(lines)
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("record", "compare"):
        sys.exit("usage: same_numbers.py record|compare DIRECTORY")
    path = Path(sys.argv[2])
    if sys.argv[1] == "record":
        record(path)
    else:
        sys.exit(compare(path))
