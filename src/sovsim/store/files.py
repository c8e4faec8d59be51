"""Files of the results store: written whole or not at all, checksummed, read only when their
checksum holds (docs/design/0011-columnar-store.md)."""

from __future__ import annotations

import errno
import hashlib
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from sovsim.errors import StoreError

PARTIAL = ".partial"  # suffix of a file being written (``.NAME.PID.partial``)


def atomic_write(target: Path, write: Callable[[Path], None]) -> Path:
    """Write through a temporary file in the same directory, then rename into place: a
    reader sees the old file or the whole new one, never a part. The temporary name is
    unique per process, so two writers of the same file do not step on each other. A full
    disk (or any OS error) leaves the old file, no temporary, and a StoreError naming the
    file."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}{PARTIAL}")
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        tmp.replace(target)
    except OSError as exc:
        raise StoreError(f"{target}: cannot write it ({_why(exc)}); nothing was half-written"
                         ) from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def atomic_write_text(target: Path, text: str) -> Path:
    return atomic_write(target, lambda p: p.write_text(text, encoding="utf-8"))


def atomic_write_bytes(target: Path, data: bytes) -> Path:
    return atomic_write(target, lambda p: p.write_bytes(data))


def _why(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "no space left on the device"
    return exc.strerror or str(exc)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path, chunk: int = 1 << 22) -> str:
    """The SHA-256 of a file, read in chunks (little memory whatever its size)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_checked(path: Path, sha256: str | None) -> bytes:
    """A file's bytes if its checksum is ``sha256`` (not checked when None); otherwise a
    StoreError naming the file: a corrupt file is never used."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise StoreError(f"{path}: missing from the results store (run `sovsim runs repair`)"
                         ) from None
    except OSError as exc:
        raise StoreError(f"{path}: cannot read it ({_why(exc)})") from None
    if sha256 is not None and sha256_bytes(data) != sha256:
        raise StoreError(f"{path}: corrupt (its checksum differs from the one recorded when "
                         "it was written); it is not used (`sovsim runs repair` drops it)")
    return data


def records_table(records: Mapping[str, np.ndarray]):
    """Records (variable -> (rows, columns)) as an Arrow table with a row per variable and
    column (``variable``, ``column``: 0 the USSR, then the regions in ``REGIONS`` order) and
    the rows as a fixed-size list ``values``: exactly what the run produced."""
    import pyarrow as pa

    names, cols, parts = [], [], []
    for var, arr in records.items():
        for c in range(arr.shape[1]):
            names.append(var)
            cols.append(c)
            parts.append(arr[:, c])
    n = len(parts[0]) if parts else 0
    flat = np.concatenate(parts) if parts else np.zeros(0)
    return pa.table({"variable": pa.array(names), "column": pa.array(cols, pa.int16()),
                     "values": pa.FixedSizeListArray.from_arrays(pa.array(flat), n)})


def parquet_bytes(table, **kw) -> bytes:
    """A table as Parquet bytes (zstd; floats byte-split, which compresses them about a third
    better)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", write_statistics=False, **kw)
    return sink.getvalue().to_pybytes()


def write_records(path: Path, records: Mapping[str, np.ndarray]) -> str:
    """Write records (``records_table``) to ``path`` atomically; return the file's SHA-256."""
    data = parquet_bytes(records_table(records), use_dictionary=["variable"])
    atomic_write_bytes(path, data)
    return sha256_bytes(data)


def records_from_table(table) -> dict[str, np.ndarray]:
    names = table.column("variable").to_pylist()
    cols = table.column("column").to_numpy()
    flat = table.column("values").combine_chunks().flatten().to_numpy()
    rows = flat.reshape(len(names), -1) if names else flat.reshape(0, 0)
    out: dict[str, list[tuple[int, np.ndarray]]] = {}
    for name, c, row in zip(names, cols, rows):
        out.setdefault(name, []).append((int(c), row))
    return {v: np.column_stack([a for _, a in sorted(cs, key=lambda t: t[0])])
            for v, cs in out.items()}


def read_records(path: Path, sha256: str | None = None) -> dict[str, np.ndarray]:
    """Records written by ``write_records``, checked against ``sha256`` when given."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = read_checked(path, sha256)
    try:
        table = pq.read_table(pa.BufferReader(data))
        return records_from_table(table)
    except (OSError, ValueError, KeyError, pa.ArrowException) as exc:
        raise StoreError(f"{path}: cannot read stored records ({exc}); it is not used "
                         "(`sovsim runs repair` drops it)") from None


def read_table_checked(path: Path, sha256: str | None):
    """A stored tidy table (pandas) after its checksum is checked."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = read_checked(path, sha256)
    try:
        return pq.read_table(pa.BufferReader(data)).to_pandas()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise StoreError(f"{path}: cannot read it ({exc})") from None


def partial_leftovers(folder: Path, min_age: float = 0.0) -> list[Path]:
    """``.*.partial`` files under ``folder`` left by a writer that is gone (its process no
    longer runs) or older than ``min_age`` seconds when the pid cannot tell."""
    out = []
    if not folder.exists():
        return out
    now = time.time()
    for p in folder.rglob(f".*{PARTIAL}"):
        pid = p.name[: -len(PARTIAL)].rsplit(".", 1)[-1]
        if pid.isdigit():
            stale = not _alive(int(pid))
        else:  # no writer's pid in the name: stale once old enough
            stale = bool(min_age) and now - p.stat().st_mtime > min_age
        if stale:
            out.append(p)
    return out


def clean_partials(folder: Path) -> int:
    """Remove the leftovers of killed writers under ``folder``; return how many."""
    n = 0
    for p in partial_leftovers(folder):
        try:
            p.unlink()
            n += 1
        except OSError:
            pass
    return n


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
