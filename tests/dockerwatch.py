"""Watching what the Docker sandbox leaves behind, for the tests that run it: every container
and volume labelled ``paper2code=1`` that a module (or one sandbox) creates must be gone when it
ends."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

LABEL_FILTER = {"label": "paper2code=1"}


def labelled() -> tuple[set[str], set[str]] | None:
    """(container ids, volume names) labelled ``paper2code=1``; None without a daemon (the
    tests are then skipped, or failed under CI, by conftest)."""
    try:
        import docker

        c = docker.from_env(timeout=10)
        c.ping()
    except Exception:
        return None
    return (
        {ct.id for ct in c.containers.list(all=True, filters=LABEL_FILTER)},
        {v.name for v in c.volumes.list(filters=LABEL_FILTER)},
    )


@pytest.fixture(scope="module", autouse=True)
def no_leftovers_after_the_module() -> Iterator[None]:
    """No container or volume labelled ``paper2code=1`` is left by the module's tests (autouse
    in every module that imports it). Ones
    that existed before are not ours; other sandbox users may run concurrently, so what appears
    meanwhile gets a short grace period to go away."""
    before = labelled()
    yield
    if before is None:
        return
    deadline = time.monotonic() + 20
    while True:
        now = labelled()
        assert now is not None
        left = (now[0] - before[0], now[1] - before[1])
        if left == (set(), set()) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert left == (set(), set()), f"left behind (containers, volumes): {left}"


class _Creating:
    """A docker-py collection whose ``create`` notes what it made."""

    def __init__(self, collection: Any, made: list[str], key: str) -> None:
        self._collection, self._made, self._key = collection, made, key

    def __getattr__(self, name: str) -> Any:
        return getattr(self._collection, name)

    def create(self, *args: Any, **kwargs: Any) -> Any:
        obj = self._collection.create(*args, **kwargs)
        self._made.append(getattr(obj, self._key))
        return obj


class RecordingClient:
    """Wraps the sandbox's docker client to note every container and volume it creates, so a
    test can check that exactly those are gone (whatever else runs on the daemon)."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.containers_made: list[str] = []
        self.volumes_made: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    @property
    def containers(self) -> _Creating:
        return _Creating(self._client.containers, self.containers_made, "id")

    @property
    def volumes(self) -> _Creating:
        return _Creating(self._client.volumes, self.volumes_made, "name")

    def assert_all_removed(self) -> None:
        import docker.errors

        assert self.containers_made and self.volumes_made
        for cid in self.containers_made:
            with pytest.raises(docker.errors.NotFound):
                self._client.containers.get(cid)
        for name in self.volumes_made:
            with pytest.raises(docker.errors.NotFound):
                self._client.volumes.get(name)
