"""Token counting that works offline.

``bpe-openai`` ships the o200k and cl100k encodings inside its wheel, so counts never need the
network (tiktoken downloads its files on first use and fails on air-gapped machines). Should the
encoding still be unavailable, a labelled estimate (characters / 4) is used instead. Exact usage
of model calls always comes from the API's replies, not from here.
"""

from __future__ import annotations

import functools
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
