"""Token counting that works offline.

``bpe-openai`` ships the o200k and cl100k encodings inside its wheel, so counts never need the
network (tiktoken downloads its files on first use and fails on air-gapped machines). Should the
encoding still be unavailable, a labelled estimate (characters / 4) is used instead. Exact usage
of model calls always comes from the API's replies, not from here. Images are counted at a flat
estimate from their size (:func:`image_tokens`), never by their encoded bytes.
"""

from __future__ import annotations

import functools
import io
import math
from typing import Any

ENCODING = "o200k_base"


@functools.cache
def _encoding() -> Any | None:
    try:
        import bpe_openai

        return bpe_openai.get_encoding(ENCODING)
    except Exception:  # the estimate below is labelled as such by is_exact()
        return None


def is_exact() -> bool:
    """True when counts come from the real o200k tokenizer, False when they are estimates."""
    return _encoding() is not None


CHUNK_CHARS = 50_000
"""bpe-openai refuses inputs over 200,000 tokens at once: long texts are counted in chunks cut
at line ends (a cut can shift a count by a token or two, never more)."""


def count_tokens(text: str) -> int:
    """Number of o200k tokens in ``text`` (an estimate of len/4 if the tokenizer is missing)."""
    if not text:
        return 0
    enc = _encoding()
    if enc is None:
        return max(1, len(text) // 4)
    total = 0
    start = 0
    while start < len(text):
        end = min(len(text), start + CHUNK_CHARS)
        if end < len(text):
            cut = text.rfind("\n", start, end)
            end = cut + 1 if cut > start else end
        total += len(enc.encode_ordinary(text[start:end]))
        start = end
    return total


IMAGE_BASE_TOKENS = 85
"""Prompt tokens OpenAI charges for any image (the whole image at low detail)."""
IMAGE_TILE_TOKENS = 170
"""Prompt tokens per 512-pixel tile of an image at high detail."""


def image_tokens(width: int, height: int) -> int:
    """Prompt tokens of a ``width`` × ``height`` image by OpenAI's tile rule (GPT-4o, detail
    ``auto`` taken as high; what AutoGen itself counts): scaled to fit 2048 × 2048, then its
    short side down to 768, then 85 + 170 per 512-pixel tile. An estimate for the cost budget:
    the usage actually billed comes from the endpoint's reply. For the wide, short crops of
    display equations it is above what the patch-based rule of the gpt-4.1-mini family bills,
    so the budget errs on the safe side."""
    if width <= 0 or height <= 0:
        return IMAGE_BASE_TOKENS
    scale = min(1.0, 2048 / max(width, height))
    w, h = width * scale, height * scale
    if min(w, h) > 768:
        shrink = 768 / min(w, h)
        w, h = w * shrink, h * shrink
    tiles = math.ceil(w / 512) * math.ceil(h / 512)
    return IMAGE_BASE_TOKENS + IMAGE_TILE_TOKENS * tiles


def image_data_tokens(data: bytes) -> int:
    """:func:`image_tokens` of an encoded image (PNG, JPEG…); an image PIL cannot read counts
    as :data:`IMAGE_BASE_TOKENS`."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            return image_tokens(*image.size)
    except (UnidentifiedImageError, OSError, ValueError):
        return IMAGE_BASE_TOKENS
