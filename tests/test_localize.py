"""Localization: real traceback shapes → ranked repository suspects, stable signatures, ruff."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sandbox.localize import (
    diagnose,
    excerpt,
    failure_signature,
    map_path,
    normalize_message,
    parse_pytest,
    parse_python_tracebacks,
    ruff_diagnostics,
    undefined_names,
)

FILES = {
    "train.py": """\
        import numpy as np


        def load(cfg):
            return cfg["optimization"]["lr"]


        def build(cfg):
            lr = load(cfg)
            return lr


        def read(cfg, key):
            try:
                return cfg[key]
            except KeyError as exc:
                raise ValueError(f"missing key {key}") from exc


        def step(model, x):
            return model(x)
        """,
    "model.py": """\
        import numpy as np


        class SoftmaxRegression:
            def __init__(self, dim, k):
                self.W = np.zeros((dim, k))

            def predict_proba(self, X):
                return np.asarray(X @ self.W).normalise()


        def smooth_targets(labels, k, eps):
            return [row / 0 for row in labels]
        """,
    "main.py": """\
        import argparse

        from train import build


        def main():
            parser = argparse.ArgumentParser()
            parser.add_argument("--config")
            args = parser.parse_args()
            build({"optimization": {}})


        if __name__ == "__main__":
            main()
        """,
    "broken.py": """\
        def f(x):
            return x +

        print(f(1))
        """,
    "reproduce.sh": """\
        #!/usr/bin/env bash
        set -e
        pythonx main.py --smoke
        """,
    "tests/test_train.py": """\
        import numpy as np

        from train import step


        def add(a, b):
            return a + b


        def test_train_shapes():
            X = np.zeros((6, 2))
            assert step(lambda x: x @ np.zeros((6, 3)), X).shape == (2, 3)


        def test_add():
            assert add(1, 2) == 4
        """,
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def where(failure) -> list[tuple[str, int, str | None, str]]:
    return [(s.file, s.line, s.function, s.kind) for s in failure.suspects]


# ------------------------------------------------------------------ plain Python tracebacks


def test_keyerror_in_nested_call_ranks_innermost_frame_first(repo: Path) -> None:
    out = """\
Traceback (most recent call last):
  File "/workspace/main.py", line 14, in <module>
    main()
  File "/workspace/main.py", line 10, in main
    build({"optimization": {}})
  File "/workspace/train.py", line 9, in build
    lr = load(cfg)
         ^^^^^^^^^
  File "/workspace/train.py", line 5, in load
    return cfg["optimization"]["lr"]
           ~~~~~~~~~~~~~~~~~~~^^^^^^
KeyError: 'lr'
"""
    f = diagnose(out, repo)
    assert (f.error_type, f.message, f.source) == ("KeyError", "'lr'", "python")
    assert where(f) == [
        ("train.py", 5, "load", "exception"),
        ("train.py", 9, "build", "frame"),
        ("main.py", 10, "main", "frame"),
        ("main.py", 14, "<module>", "frame"),
    ]
    top = f.suspects[0]
    assert top.message == "KeyError: 'lr'"
    assert '> 5 |     return cfg["optimization"]["lr"]' in top.excerpt
    assert "  4 | def load(cfg):" in top.excerpt
    assert f.signature == "KeyError|train.py:load|'lr'"


def test_chained_direct_cause_ranks_raised_then_cause(repo: Path) -> None:
    out = """\
Traceback (most recent call last):
  File "/workspace/train.py", line 16, in read
    return cfg[key]
           ~~~^^^^^
KeyError: 'steps'

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/workspace/main.py", line 14, in <module>
    main()
  File "/workspace/train.py", line 18, in read
    raise ValueError(f"missing key {key}") from exc
ValueError: missing key steps
"""
    f = diagnose(out, repo)
    assert f.error == "ValueError: missing key steps"
    assert where(f)[:3] == [
        ("train.py", 18, "read", "exception"),
        ("train.py", 16, "read", "exception"),
        ("main.py", 14, "<module>", "frame"),
    ]
    assert f.suspects[1].message == "KeyError: 'steps'"


def test_chained_during_handling_drops_stdlib_frames(repo: Path) -> None:
    out = """\
Traceback (most recent call last):
  File "/workspace/train.py", line 16, in read
    return cfg[key]
           ^^^^^^^^
  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads
    return _default_decoder.decode(s)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/usr/lib/python3.11/json/decoder.py", line 353, in raw_decode
    obj, end = self.scan_once(s, idx)
               ^^^^^^^^^^^^^^^^^^^^^^
json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/workspace/main.py", line 14, in <module>
    main()
  File "/workspace/train.py", line 18, in read
    raise ValueError(f"missing key {key}") from exc
           ^^^^^^^^^^^^^^^^^^
NameError: name 'undefined_fallback' is not defined
"""
    f = diagnose(out, repo)
    assert f.error_type == "NameError"
    assert f.undefined_name == "undefined_fallback"
    assert all("python3.11" not in s.file and "json" not in s.file for s in f.suspects)
    assert where(f)[1] == ("train.py", 16, "read", "exception")
    assert "JSONDecodeError" in f.suspects[1].message


def test_syntax_error_reached_through_import(repo: Path) -> None:
    out = """\
Traceback (most recent call last):
  File "/workspace/main.py", line 3, in <module>
    from train import build
  File "/workspace/broken.py", line 2
    return x +
              ^
SyntaxError: invalid syntax
"""
    f = diagnose(out, repo)
    assert f.error == "SyntaxError: invalid syntax"
    assert where(f) == [("broken.py", 2, None, "syntax"), ("main.py", 3, "<module>", "frame")]
    assert f.signature == "SyntaxError|broken.py:syntax|invalid syntax"


def test_syntax_error_of_the_script_itself_has_no_traceback_header(repo: Path) -> None:
    out = """\
  File "/workspace/broken.py", line 2
    return x +
              ^
SyntaxError: invalid syntax
"""
    f = diagnose(out, repo)
    assert where(f) == [("broken.py", 2, None, "syntax")]
    assert "> 2 |     return x +" in f.suspects[0].excerpt


def test_indentation_error(repo: Path) -> None:
    out = """\
  File "/workspace/model.py", line 9
    return np.asarray(X @ self.W).normalise()
    ^
IndentationError: expected an indented block after function definition on line 8
"""
    f = diagnose(out, repo)
    assert f.error_type == "IndentationError"
    assert where(f) == [("model.py", 9, None, "syntax")]
    # the line number inside the message does not change the signature
    assert f.signature.endswith("expected an indented block after function definition on line N")


def test_tab_error_without_caret(repo: Path) -> None:
    out = """\
  File "/workspace/train.py", line 10
    return lr
TabError: inconsistent use of tabs and spaces in indentation
"""
    f = diagnose(out, repo)
    assert f.error_type == "TabError"
    assert where(f) == [("train.py", 10, None, "syntax")]


def test_module_not_found_reports_top_level_module(repo: Path) -> None:
    out = """\
Traceback (most recent call last):
  File "/workspace/main.py", line 14, in <module>
    main()
  File "/workspace/main.py", line 3, in main
    from train import build
  File "/workspace/train.py", line 1, in <module>
    import sklearn.linear_model
ModuleNotFoundError: No module named 'sklearn'
"""
    f = diagnose(out, repo)
    assert f.missing_module == "sklearn"
    assert where(f)[0] == ("train.py", 1, "<module>", "exception")

    dotted = out.replace("No module named 'sklearn'", "No module named 'sklearn.linear_model'")
    assert diagnose(dotted, repo).missing_module == "sklearn"


def test_cannot_import_name_points_at_the_closest_definition(repo: Path) -> None:
    out = """\
Traceback (most recent call last):
  File "/workspace/main.py", line 3, in <module>
    from model import SoftmaxRegresion
ImportError: cannot import name 'SoftmaxRegresion' from 'model' (/workspace/model.py)
"""
    f = diagnose(out, repo)
    assert f.missing_module is None
    assert where(f) == [
        ("main.py", 3, "<module>", "exception"),
        ("model.py", 4, "<module>", "import"),
    ]
    assert "it defines SoftmaxRegression" in f.suspects[1].message
    assert "> 4 | class SoftmaxRegression:" in f.suspects[1].excerpt


def test_attribute_error_on_numpy_array(repo: Path) -> None:
    out = """\
Traceback (most recent call last):
  File "/workspace/main.py", line 14, in <module>
    main()
  File "/workspace/model.py", line 9, in predict_proba
    return np.asarray(X @ self.W).normalise()
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
AttributeError: 'numpy.ndarray' object has no attribute 'normalise'
"""
    f = diagnose(out, repo)
    assert f.error == "AttributeError: 'numpy.ndarray' object has no attribute 'normalise'"
    assert where(f)[0] == ("model.py", 9, "predict_proba", "exception")


def test_torch_shape_error_skips_site_packages(repo: Path) -> None:
    out = """\
Traceback (most recent call last):
  File "/workspace/main.py", line 14, in <module>
    main()
  File "/workspace/train.py", line 22, in step
    return model(x)
           ^^^^^^^^
  File "/opt/venv/lib/python3.11/site-packages/torch/nn/modules/module.py", line 1736, in _wrapped_call_impl
    return self._call_impl(*args, **kwargs)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/opt/venv/lib/python3.11/site-packages/torch/nn/modules/module.py", line 1747, in _call_impl
    return forward_call(*args, **kwargs)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/opt/venv/lib/python3.11/site-packages/torch/nn/modules/linear.py", line 125, in forward
    return F.linear(input, self.weight, self.bias)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
RuntimeError: mat1 and mat2 shapes cannot be multiplied (32x784 and 128x10)
"""
    f = diagnose(out, repo)
    assert f.error_type == "RuntimeError"
    assert where(f) == [("train.py", 22, "step", "exception"), ("main.py", 14, "<module>", "frame")]
    assert f.signature == (
        "RuntimeError|train.py:step|mat1 and mat2 shapes cannot be multiplied (N and N)"
    )


def test_recursion_error_with_repeated_frames(repo: Path) -> None:
    out = """\
Traceback (most recent call last):
  File "/workspace/main.py", line 14, in <module>
    main()
  File "/workspace/train.py", line 9, in build
    lr = load(cfg)
         ^^^^^^^^^
  File "/workspace/train.py", line 9, in build
    lr = load(cfg)
         ^^^^^^^^^
  File "/workspace/train.py", line 9, in build
    lr = load(cfg)
         ^^^^^^^^^
  [Previous line repeated 996 more times]
RecursionError: maximum recursion depth exceeded
"""
    f = diagnose(out, repo)
    assert f.error == "RecursionError: maximum recursion depth exceeded"
    assert where(f) == [("train.py", 9, "build", "exception"), ("main.py", 14, "<module>", "frame")]


def test_exception_in_list_comprehension_and_lambda(repo: Path) -> None:
    out = """\
Traceback (most recent call last):
  File "/workspace/main.py", line 14, in <module>
    main()
  File "/workspace/train.py", line 22, in <lambda>
    return model(x)
           ^^^^^^^^
  File "/workspace/model.py", line 13, in smooth_targets
    return [row / 0 for row in labels]
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/workspace/model.py", line 13, in <listcomp>
    return [row / 0 for row in labels]
            ~~~~^~~
ZeroDivisionError: division by zero
"""
    f = diagnose(out, repo)
    assert where(f)[0] == ("model.py", 13, "<listcomp>", "exception")
    assert ("train.py", 22, "<lambda>", "frame") in where(f)
    assert f.signature == "ZeroDivisionError|model.py:<listcomp>|division by zero"


def test_exception_group_gutter_is_stripped(repo: Path) -> None:
    out = """\
  + Exception Group Traceback (most recent call last):
  |   File "/workspace/main.py", line 14, in <module>
  |     main()
  |   File "/workspace/main.py", line 10, in main
  |     build({"optimization": {}})
  | ExceptionGroup: work failed (2 sub-exceptions)
  +-+---------------- 1 ----------------
    | Traceback (most recent call last):
    |   File "/workspace/train.py", line 5, in load
    |     return cfg["optimization"]["lr"]
    | KeyError: 'lr'
    +---------------- 2 ----------------
    | Traceback (most recent call last):
    |   File "/workspace/train.py", line 16, in read
    |     return cfg[key]
    | KeyError: 'steps'
    +------------------------------------
"""
    errors = parse_python_tracebacks(out)
    assert [e.error_type for e in errors] == ["ExceptionGroup", "KeyError", "KeyError"]
    f = diagnose(out, repo)
    assert {("train.py", 16), ("train.py", 5), ("main.py", 10)} <= {
        (s.file, s.line) for s in f.suspects
    }


# ------------------------------------------------------------------ pytest


PYTEST_LONG = """\
============================= test session starts ==============================
platform linux -- Python 3.11.2, pytest-8.3.4, pluggy-1.5.0
rootdir: /workspace
collected 2 items

tests/test_train.py FF                                                   [100%]

=================================== FAILURES ===================================
______________________________ test_train_shapes _______________________________

    def test_train_shapes():
        X = np.zeros((6, 2))
>       assert step(lambda x: x @ np.zeros((6, 3)), X).shape == (2, 3)

tests/test_train.py:12:
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _

model = <function test_train_shapes.<locals>.<lambda> at 0x7f3a2c1b5e40>
x = array([[0., 0.],
       [0., 0.]])

    def step(model, x):
>       return model(x)
E       ValueError: matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature (n?,k),(k,m?)->(n?,m?) (size 6 is different from 2)

train.py:22: ValueError
___________________________________ test_add ___________________________________

    def test_add():
>       assert add(1, 2) == 4
E       assert 3 == 4
E        +  where 3 = add(1, 2)

tests/test_train.py:16: AssertionError
=========================== short test summary info ============================
FAILED tests/test_train.py::test_train_shapes - ValueError: matmul: Input ope...
FAILED tests/test_train.py::test_add - assert 3 == 4
============================== 2 failed in 0.12s ===============================
""".replace("tests/test_train.py:12:\n", "tests/test_train.py:12: \n")  # pytest's trailing space


def test_pytest_long_style(repo: Path) -> None:
    f = diagnose(PYTEST_LONG, repo)
    assert f.source == "pytest"
    assert f.error_type == "ValueError"
    assert f.message.startswith("matmul: Input operand 1 has a mismatch")
    assert where(f) == [
        ("train.py", 22, "step", "exception"),
        ("tests/test_train.py", 16, "test_add", "exception"),
        ("tests/test_train.py", 12, "test_train_shapes", "frame"),
    ]
    assert f.suspects[1].message == "AssertionError: assert 3 == 4"


def test_pytest_short_style(repo: Path) -> None:
    out = """\
=================================== FAILURES ===================================
______________________________ test_train_shapes _______________________________
tests/test_train.py:12: in test_train_shapes
    assert step(lambda x: x @ np.zeros((6, 3)), X).shape == (2, 3)
           ^^^^^^^^^^^^^^
train.py:22: in step
    return model(x)
           ^^^^^^^^
tests/test_train.py:12: in <lambda>
    assert step(lambda x: x @ np.zeros((6, 3)), X).shape == (2, 3)
E   ValueError: matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc signature (n?,k),(k,m?)->(n?,m?) (size 6 is different from 2)
___________________________________ test_add ___________________________________
tests/test_train.py:16: in test_add
    assert add(1, 2) == 4
E   assert 3 == 4
E    +  where 3 = add(1, 2)
=========================== short test summary info ============================
FAILED tests/test_train.py::test_train_shapes - ValueError: matmul: Input ope...
FAILED tests/test_train.py::test_add - assert 3 == 4
2 failed in 0.11s
"""
    f = diagnose(out, repo)
    assert f.error_type == "ValueError"
    assert where(f)[:2] == [
        ("tests/test_train.py", 12, "<lambda>", "exception"),
        ("tests/test_train.py", 16, "test_add", "exception"),
    ]
    assert ("train.py", 22, "step", "frame") in where(f)
    second = parse_pytest(out)[1]
    assert (second.error_type, second.message) == ("AssertionError", "assert 3 == 4")


def test_pytest_line_style_ignores_warning_lines(repo: Path) -> None:
    out = """\
/opt/venv/lib/python3.11/site-packages/pytest_asyncio/plugin.py:306: PytestDeprecationWarning: The configuration option "asyncio_default_fixture_loop_scope" is unset.
  warnings.warn(PytestDeprecationWarning(_DEFAULT_FIXTURE_LOOP_SCOPE_UNSET))
FF                                                                       [100%]
=================================== FAILURES ===================================
E   ValueError: matmul: Input operand 1 has a mismatch in its core dimension 0
/workspace/train.py:22: ValueError: matmul: Input operand 1 has a mismatch in its core dimension 0
E   assert 3 == 4
     +  where 3 = add(1, 2)
/workspace/tests/test_train.py:16: assert 3 == 4
=========================== short test summary info ============================
FAILED tests/test_train.py::test_train_shapes - ValueError: matmul: Input ope...
FAILED tests/test_train.py::test_add - assert 3 == 4
2 failed in 0.08s
"""
    f = diagnose(out, repo)
    assert f.error == "ValueError: matmul: Input operand 1 has a mismatch in its core dimension 0"
    assert [(s.file, s.line) for s in f.suspects] == [("train.py", 22), ("tests/test_train.py", 16)]


def test_pytest_collection_syntax_error_inside_e_block(repo: Path) -> None:
    out = """\
==================================== ERRORS ====================================
_____________________ ERROR collecting tests/test_train.py _____________________
/usr/local/lib/python3.11/site-packages/_pytest/python.py:528: in importtestmodule
    mod = import_path(
<frozen importlib._bootstrap>:1204: in _gcd_import
    ???
tests/test_train.py:3: in <module>
    from train import step
E     File "/workspace/broken.py", line 2
E       return x +
E                 ^
E   SyntaxError: invalid syntax
=========================== short test summary info ============================
ERROR tests/test_train.py
!!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!!
1 error in 0.11s
"""
    f = diagnose(out, repo)
    assert f.error == "SyntaxError: invalid syntax"
    assert where(f) == [
        ("broken.py", 2, None, "syntax"),
        ("tests/test_train.py", 3, "<module>", "frame"),
    ]


def test_pytest_collection_module_not_found(repo: Path) -> None:
    out = """\
==================================== ERRORS ====================================
_____________________ ERROR collecting tests/test_train.py _____________________
ImportError while importing test module '/workspace/tests/test_train.py'.
Hint: make sure your test modules/packages have valid Python names.
Traceback:
/usr/lib/python3.11/importlib/__init__.py:126: in import_module
    return _bootstrap._gcd_import(name[level:], package, level)
tests/test_train.py:3: in <module>
    from train import step
train.py:1: in <module>
    import numpy as np
E   ModuleNotFoundError: No module named 'numpy'
=========================== short test summary info ============================
ERROR tests/test_train.py
1 error in 0.07s
"""
    f = diagnose(out, repo)
    assert f.missing_module == "numpy"
    assert where(f)[0] == ("train.py", 1, "<module>", "exception")


# ------------------------------------------------------------------ non-Python failures


def test_shell_command_not_found_in_reproduce_sh(repo: Path) -> None:
    out = "/workspace/reproduce.sh: line 3: pythonx: command not found\n"
    f = diagnose(out, repo)
    assert (f.error_type, f.message, f.source) == (
        "ShellError",
        "pythonx: command not found",
        "shell",
    )
    assert where(f) == [("reproduce.sh", 3, None, "shell")]
    assert "> 3 | pythonx main.py --smoke" in f.suspects[0].excerpt


def test_argparse_usage_error(repo: Path) -> None:
    out = "usage: main.py [-h] [--config CONFIG]\nmain.py: error: unrecognized arguments: --smoke\n"
    f = diagnose(out, repo)
    assert f.error == "UsageError: unrecognized arguments: --smoke"
    assert where(f) == [("main.py", 7, "main", "usage")]


def test_output_without_error_keeps_last_line(repo: Path) -> None:
    f = diagnose("loading data\nloss is nan, giving up\n", repo)
    assert f.error_type is None
    assert f.message == "loss is nan, giving up"
    assert f.suspects == []


# ------------------------------------------------------------------ signature, paths, excerpt


def test_signature_is_stable_across_reruns(repo: Path) -> None:
    run1 = """\
Traceback (most recent call last):
  File "/workspace/train.py", line 22, in step
    return model(x)
RuntimeError: CUDA out of memory at 0x7f3a2c1b5e40: tried 20.00 MiB (step 3)
"""
    # same failure after an edit above it moved the line; other address and numbers
    run2 = (
        run1.replace("line 22", "line 25")
        .replace("0x7f3a2c1b5e40", "0x55d1")
        .replace("step 3", "step 17")
    )
    other = run1.replace("RuntimeError", "ValueError")
    s1, s2, s3 = (diagnose(o, repo).signature for o in (run1, run2, other))
    assert s1 == s2
    assert s1 != s3
    assert normalize_message("tried 20.00 MiB at 0xdeadBEEF") == "tried N MiB at <addr>"
    assert failure_signature("KeyError", "'lr'", []) == "KeyError||'lr'"


def test_map_path(repo: Path, tmp_path: Path) -> None:
    assert map_path("/workspace/train.py", repo) == "train.py"
    assert map_path(str(repo / "tests" / "test_train.py"), repo) == "tests/test_train.py"
    assert map_path("tests/test_train.py", repo) == "tests/test_train.py"
    # a local sandbox's temporary copy maps by its longest existing suffix
    assert map_path("/tmp/p2c-abc123/work/tests/test_train.py", repo) == "tests/test_train.py"
    assert map_path("/usr/lib/python3.11/json/decoder.py", repo) is None
    assert map_path("/opt/venv/lib/python3.11/site-packages/train.py", repo) is None
    assert map_path("<frozen runpy>", repo) is None
    assert map_path("/workspace/nope.py", repo) is None
    assert map_path("../repo/train.py", repo) is None
    assert map_path("/srv/code/train.py", repo, workdirs=("/srv/code",)) == "train.py"


def test_excerpt_marks_line_and_clamps() -> None:
    lines = [f"line {i}" for i in range(1, 11)]
    text = excerpt(lines, 1, context=2)
    assert text.splitlines() == ["> 1 | line 1", "  2 | line 2", "  3 | line 3"]
    assert excerpt(lines, 99, context=1).splitlines()[-1] == "> 10 | line 10"
    assert excerpt([], 3) == ""


# ------------------------------------------------------------------ ruff


def test_ruff_diagnostics_reports_breaking_codes_only(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        '"""Doc."""\n\nimport os\n\n\ndef f(x):\n    return np.mean(x)\n'
    )
    (tmp_path / "b.py").write_text("def g(:\n    pass\n")
    lint = ruff_diagnostics(tmp_path)
    by_file = {(s.file, s.line): s for s in lint}
    assert ("a.py", 7) in by_file
    assert by_file[("a.py", 7)].message == "F821 Undefined name `np`"
    assert by_file[("a.py", 7)].function == "f"
    assert by_file[("a.py", 7)].kind == "lint"
    assert any(s.file == "b.py" for s in lint)
    assert not any("F401" in s.message for s in lint)  # unused import is not a failure
    assert undefined_names(lint) == {"a.py": {"np"}}
