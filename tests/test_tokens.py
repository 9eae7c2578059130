from paper2code import tokens


def test_counts_are_exact_offline() -> None:
    assert tokens.is_exact()
    assert tokens.count_tokens("") == 0
    assert tokens.count_tokens("hello world, this is a test") == 7


def test_long_texts_are_counted_in_chunks() -> None:
    line = "the quick brown fox jumps over the lazy dog\n"
    one = tokens.count_tokens(line)
    big = line * 30_000  # ~1.3 M characters, beyond the tokenizer's single-call limit
    assert tokens.count_tokens(big) == one * 30_000
