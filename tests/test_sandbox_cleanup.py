"""``paper2code sandbox cleanup`` removes only what processes that are gone left behind: the
containers and volumes of a run still in progress stay, unless ``--all`` (``--run`` narrows it
to one sandbox run)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from sandbox.ownership import OWNER, RUN, Owner, labels, owner_alive, process_start
from sandbox.settings import SandboxSettings

BIN = Path(sys.executable).parent / "paper2code"


def owner_of(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}:{process_start(pid)}"


def test_owner_labels_name_a_live_process_and_survive_pid_reuse() -> None:
    mine = labels("run-1")
    assert mine["paper2code.run"] == "run-1" and owner_alive(mine[OWNER])
    gone = subprocess.Popen(["true"])
    gone.wait()
    assert process_start(gone.pid) is None
    assert not owner_alive(f"{socket.gethostname()}:{gone.pid}:12345")
    # the same pid with another start time is another process
    me = Owner.parse(mine[OWNER])
    assert me is not None and not owner_alive(f"{me.host}:{me.pid}:{int(me.start) + 1}")
    assert owner_alive("another-host:1:1")  # cannot be checked from here: left alone
    assert not owner_alive("") and not owner_alive("garbage")


@pytest.mark.docker
def test_cleanup_keeps_a_live_runs_containers(tmp_path: Path) -> None:
    """Without --all only the dead owner's container goes; ``--all --run`` removes a live run's
    containers but no other run's (this test never touches containers it did not make: other
    runs may be in progress on the same daemon)."""
    import docker

    client = docker.from_env()
    image = SandboxSettings().base_image
    live = subprocess.Popen(["sleep", "120"])
    dead = subprocess.Popen(["true"])
    dead_owner = owner_of(dead.pid)
    dead.wait()
    tag = tmp_path.name[-8:]
    runs = {name: f"{name}-{uuid.uuid4().hex[:8]}" for name in ("live", "dead", "other")}
    owners = {"live": owner_of(live.pid), "dead": dead_owner, "other": owner_of(live.pid)}
    made = {}
    try:
        for name, run in runs.items():
            made[name] = client.containers.create(
                image,
                ["true"],
                name=f"p2c-test-{name}-{tag}",
                labels={"paper2code": "1", OWNER: owners[name], RUN: run},
            )
        r = subprocess.run(
            [str(BIN), "sandbox", "cleanup"], capture_output=True, text=True, timeout=60
        )
        assert r.returncode == 0, r.stderr
        names = {
            c.name for c in client.containers.list(all=True, filters={"label": "paper2code=1"})
        }
        assert made["live"].name in names and made["other"].name in names
        assert made["dead"].name not in names
        said = " ".join(r.stderr.split())
        assert f"removed container {made['dead'].name} (run {runs['dead']}," in said
        r = subprocess.run(
            [str(BIN), "sandbox", "cleanup", "--all", "--run", runs["live"]],
            capture_output=True,
            text=True,
            timeout=60,
        )
        names = {
            c.name for c in client.containers.list(all=True, filters={"label": "paper2code=1"})
        }
        assert r.returncode == 0 and f"removed container {made['live'].name}" in r.stderr
        assert made["live"].name not in names and made["other"].name in names
        assert "removed 1 container(s)" in r.stderr
    finally:
        live.kill()
        for c in made.values():
            with contextlib.suppress(docker.errors.NotFound):
                c.remove(force=True)
