"""This test process's descendants, read from ``/proc``: the browsers Playwright launched."""

from __future__ import annotations

import os
from pathlib import Path


def _tree() -> dict[int, tuple[int, bytes]]:
    """Every process's parent and command line."""
    tree: dict[int, tuple[int, bytes]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:  # the process ended meanwhile
            continue
        tree[int(entry.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), cmdline)
    return tree


def chromium_processes(*, main_only: bool = False) -> list[int]:
    """The Chromium processes this test process started (through Playwright drivers), read
    at once; ``main_only``: only each browser's own process, not its renderers and helpers."""
    tree = _tree()
    mine = {os.getpid()}
    for _ in range(3):  # walk down: playwright driver -> chromium -> its helpers
        mine |= {pid for pid, (ppid, _cmdline) in tree.items() if ppid in mine}
    return [
        pid
        for pid in mine
        if b"chrom" in tree[pid][1] and not (main_only and b"--type=" in tree[pid][1])
    ]
