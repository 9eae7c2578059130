from paper2code.order import break_cycles, levels, transitive


def test_levels_group_independent_files() -> None:
    order = ["utils.py", "data.py", "model.py", "train.py", "main.py"]
    deps = {
        "data.py": ["utils.py"],
        "model.py": ["utils.py"],
        "train.py": ["model.py", "data.py"],
        "main.py": ["train.py", "data.py"],
    }
    assert levels(order, deps) == [["utils.py"], ["data.py", "model.py"], ["train.py"], ["main.py"]]


def test_forward_dependency_is_dropped_to_break_a_cycle() -> None:
    order = ["a.py", "b.py"]
    deps = {"a.py": ["b.py"], "b.py": ["a.py"]}
    assert break_cycles(order, deps) == {"a.py": [], "b.py": ["a.py"]}
    assert levels(order, deps) == [["a.py"], ["b.py"]]


def test_unknown_and_self_dependencies_are_ignored() -> None:
    order = ["a.py", "b.py"]
    deps = {"a.py": ["a.py", "missing.py"], "b.py": ["a.py", "a.py"]}
    assert break_cycles(order, deps) == {"a.py": [], "b.py": ["a.py"]}


def test_no_dependencies_is_one_level() -> None:
    assert levels(["x.py", "y.py", "z.py"], {}) == [["x.py", "y.py", "z.py"]]
    assert levels([], {}) == []


def test_transitive_nearest_first() -> None:
    deps = {"main.py": ["train.py"], "train.py": ["model.py", "data.py"], "model.py": ["utils.py"]}
    assert transitive("main.py", deps) == ["train.py", "model.py", "data.py", "utils.py"]
    assert transitive("utils.py", deps) == []
