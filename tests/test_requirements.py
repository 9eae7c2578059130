"""Requirement lines read with ``packaging``: names, normalization, merging, wheel names."""

from __future__ import annotations

import pytest

from sandbox.requirements import (
    canonical,
    merge_requirements,
    normalize_requirements,
    requirement_lines,
    requirement_name,
    requirement_names,
    wheel_name,
)


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("numpy", "numpy"),
        ("PyYAML>=6.0  # config", "pyyaml"),
        ("scikit_learn==1.5", "scikit-learn"),
        ("torch[cpu]>=2.1; python_version >= '3.9'", "torch"),
        ("Pillow @ https://example.org/pillow.whl", "pillow"),
        ("sklearn>=", "sklearn"),  # not a valid requirement: the leading name still counts
        ("  opencv-python-headless  ", "opencv-python-headless"),
        ("# a comment", None),
        ("", None),
        ("-r other.txt", None),
        ("--index-url https://example.org/simple", None),
    ],
)
def test_requirement_name(line: str, name: str | None) -> None:
    assert requirement_name(line) == name


def test_normalize_drops_comments_and_duplicates_and_sorts() -> None:
    text = "torch>=2.1\n# comment\n\nnumpy\nnumpy\nPyYAML  # cfg\n"
    assert requirement_lines(text) == ["torch>=2.1", "numpy", "numpy", "PyYAML"]
    assert normalize_requirements(text) == ["PyYAML", "numpy", "torch>=2.1"]
    assert requirement_names(requirement_lines(text)) == {"torch", "numpy", "pyyaml"}


def test_merge_keeps_the_first_line_per_distribution() -> None:
    merged = merge_requirements(["numpy>=1.24", "PyYAML", "torch"], ["pyyaml", "pytest", "numpy"])
    assert merged == ["numpy>=1.24", "PyYAML", "torch", "pytest"]


def test_canonical_and_wheel_names() -> None:
    assert canonical("Scikit_Learn") == "scikit-learn"
    assert wheel_name("torch-2.13.0+cpu-cp311-cp311-linux_x86_64.whl") == "torch"
    assert wheel_name("PyYAML-6.0.2-cp311-cp311-manylinux_2_17_x86_64.whl") == "pyyaml"
    assert wheel_name("not_a_wheel.txt") == "not-a-wheel-txt"
