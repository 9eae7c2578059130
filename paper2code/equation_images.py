"""The printed equations a planning model that accepts images is shown: which ones, read from
the run's paper folder.

Ingestion crops each display equation of a PDF to ``paper/equations/eq-NNN.png`` and records the
path on its ``Equation`` (``paper.json``). Here those records are taken in reading order (the
appendix last), capped at ``PipelineSettings.max_equation_images``; a recorded image that is
missing, unreadable or outside the paper folder is skipped and named, never fatal.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from autogen_core import Image
from PIL import Image as PILImage

from agents.planner import EquationImage
from paper2code.schemas import Equation, Paper, Section


@dataclass(frozen=True)
class EquationImages:
    """The equation images to send, and what was left out."""

    images: list[EquationImage] = field(default_factory=list)
    """The images to send, in reading order."""
    total: int = 0
    """Equations whose image is readable (``len(images)`` unless capped)."""
    missing: list[str] = field(default_factory=list)
    """Recorded images that could not be read, each with the reason."""

    @property
    def capped(self) -> bool:
        return self.total > len(self.images)


def equations_with_images(paper: Paper) -> Iterator[tuple[Section, Equation]]:
    """The equations of ``paper`` that have a cropped image, in reading order."""
    for section in paper.sections:
        for equation in section.equation_records:
            if equation.image:
                yield section, equation


def _locate(folder: Path, relative: str) -> Path:
    """``folder/relative``; ``FileNotFoundError`` when it is absent or would lie outside
    ``folder``."""
    path = (folder / relative).resolve()
    if not path.is_relative_to(folder.resolve()) or not path.is_file():
        raise FileNotFoundError(relative)
    return path


def _read(path: Path, *, decode: bool) -> Image | None:
    """The image at ``path`` (None unless ``decode``: only its header is checked);
    ``UnidentifiedImageError`` (an ``OSError``) when it is none."""
    with PILImage.open(path) as pil:
        return Image.from_pil(pil) if decode else None


def load_equation_images(paper: Paper, folder: Path, limit: int) -> EquationImages:
    """The first ``limit`` readable equation images of ``paper``, read from its paper folder
    ``folder`` (where ``paper.json`` is). Past the cap, images are counted when their header
    reads as an image, not decoded."""
    images: list[EquationImage] = []
    missing: list[str] = []
    total = 0
    for section, equation in equations_with_images(paper):
        assert equation.image is not None
        try:
            path = _locate(folder, equation.image)
            image = _read(path, decode=len(images) < limit)
        except FileNotFoundError:
            missing.append(f"{equation.image}: no such file in the paper folder")
            continue
        except OSError as exc:  # PIL's UnidentifiedImageError included
            missing.append(f"{equation.image}: not a readable image ({exc})")
            continue
        total += 1
        if image is not None:
            images.append(
                EquationImage(
                    number=equation.number,
                    section_number=section.number,
                    section_heading=section.heading,
                    image=image,
                )
            )
    return EquationImages(images=images, total=total, missing=missing)
