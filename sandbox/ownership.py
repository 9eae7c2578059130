"""Who owns a sandbox container: labels naming the run and the process that made it, and the
rule ``paper2code sandbox cleanup`` follows — remove only what a process that is gone left
behind, so another run in progress keeps its containers.

Every container and volume carries ``paper2code=1``, ``paper2code.run`` (an id per sandbox
instance) and ``paper2code.owner`` = ``host:pid:start`` (the process's start time from
``/proc``, so a reused pid does not pass for the owner). An owner on another host cannot be
checked and is left alone; a resource without an owner label (made by an older paper2code) has
no live owner to protect and is removed.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from functools import cache

__all__ = ["OWNER", "RUN", "labels", "owner_alive", "process_start"]

OWNER = "paper2code.owner"
RUN = "paper2code.run"


def process_start(pid: int) -> str | None:
    """The start time of ``pid`` in clock ticks since boot (``/proc/<pid>/stat``), or None when
    no such process exists (or ``/proc`` is not there)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            stat = fh.read()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # the command name may contain spaces
    return fields[19] if len(fields) > 19 else None


@cache
def _me() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{process_start(os.getpid()) or '?'}"


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    start: str

    @classmethod
    def parse(cls, text: str) -> Owner | None:
        """``host:pid:start``; None for anything else."""
        parts = text.rsplit(":", 2)
        if len(parts) != 3 or not parts[1].isdigit():
            return None
        return cls(host=parts[0], pid=int(parts[1]), start=parts[2])


def labels(run_id: str | None = None) -> dict[str, str]:
    """The labels of a container or volume made by this process for run ``run_id``."""
    return {"paper2code": "1", RUN: run_id or uuid.uuid4().hex[:12], OWNER: _me()}


def owner_alive(label: str | None) -> bool:
    """True when the process named by an owner label still runs, or cannot be checked (another
    host); False when it is gone, or the resource has no owner label."""
    owner = Owner.parse(label) if label else None
    if owner is None:
        return False
    if owner.host != socket.gethostname():
        return True
    return process_start(owner.pid) == owner.start
