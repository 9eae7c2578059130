"""Headless Chromium for the report tests: the DOM a page renders to, and a screenshot."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    """The browser, or a skip (a failure under CI=true, where .ci/run installs it)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("CI=true but chromium is not installed (.ci/run installs it)")
        pytest.skip("chromium not installed (apt-get install chromium)")
    return browser


def rendered_dom(page: Path, *, screenshot: Path | None = None) -> str:
    """The DOM of ``page`` after Chromium rendered it (and a PNG of it when asked)."""
    browser = chromium()
    profile = tempfile.mkdtemp(prefix="p2c-chromium-")
    flags = [*FLAGS, f"--user-data-dir={profile}"]
    try:
        dom = subprocess.run(
            [browser, *flags, "--dump-dom", page.as_uri()],
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert dom.returncode == 0, dom.stderr[-2000:]
        if screenshot is not None:
            subprocess.run(
                [
                    browser,
                    *flags,
                    f"--screenshot={screenshot}",
                    "--window-size=1000,1600",
                    page.as_uri(),
                ],
                capture_output=True,
                timeout=90,
            )
        return dom.stdout
    finally:
        shutil.rmtree(profile, ignore_errors=True)
