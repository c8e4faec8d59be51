"""Helpers of the interrupt tests (test_store_faults, test_dask_cluster): the processes a
command left behind."""

from __future__ import annotations

import os


def live_group(pgid: int) -> list[str]:
    """Live (not zombie) processes of a process group."""
    import psutil

    out = []
    for p in psutil.process_iter(["pid", "status"]):
        try:
            if os.getpgid(p.info["pid"]) == pgid and p.info["status"] != psutil.STATUS_ZOMBIE:
                out.append(" ".join(p.cmdline())[:80])
        except (ProcessLookupError, psutil.Error):
            pass
    return out
