"""Static consistency check: each kind of finding on small hand-made repositories, silence on
consistent ones (every pattern the check must not misread), the demo repository, and this
project's own sandbox package as a realistic false-positive check."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest
import yaml

from sandbox.consistency import (
    ConsistencyReport,
    check_repository,
    check_sources,
    compare_reports,
)
from sandbox.tree import iter_text_files

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "paper2code" / "demo"


def check(files: dict[str, str], config: str | None = None) -> ConsistencyReport:
    sources = {p: textwrap.dedent(t) for p, t in files.items()}
    return check_sources(sources, config_yaml=textwrap.dedent(config) if config else None)


def kinds(report: ConsistencyReport) -> list[str]:
    return [f.kind for f in report.findings]


def only(report: ConsistencyReport, kind: str) -> str:
    """The message of the report's single finding, which must be of ``kind``."""
    assert kinds(report) == [kind], [f.message for f in report.findings]
    return report.findings[0].message


# ----------------------------------------------------------------------------- imports

TRAINER = """\
    def train(model, loader, steps):
        return [model, loader, steps]


    class Trainer:
        def __init__(self, model, lr: float = 1e-3):
            self.model = model
            self.lr = lr

        def fit(self, loader, *, epochs: int = 1):
            return loader, epochs

        @classmethod
        def from_config(cls, config):
            return cls(config["model"])

        @staticmethod
        def describe(name, verbose=False):
            return name
    """


def test_imported_name_that_does_not_exist() -> None:
    report = check(
        {
            "model.py": "class Transformer:\n    pass\n\n\ndef build():\n    return Transformer()\n",
            "main.py": "from model import TransformerModel\n\nTransformerModel()\n",
        }
    )
    message = only(report, "missing_name")
    assert message.startswith("main.py:1: `from model import TransformerModel` — model.py has no")
    assert "did you mean `Transformer`" in message
    finding = report.findings[0]
    assert finding.target is not None and finding.target.file == "model.py"
    assert "> 1 | from model import TransformerModel" in finding.excerpt


def test_missing_module_attribute_and_package_name() -> None:
    report = check(
        {
            "utils.py": "def seed_everything(seed):\n    return seed\n",
            "pkg/__init__.py": "from .layers import Attention\n",
            "pkg/layers.py": "class Attention:\n    pass\n",
            "main.py": """\
                import utils
                from pkg import Attenton

                utils.seed_all(0)
                """,
        }
    )
    assert kinds(report) == ["missing_name", "missing_name"]
    first, second = (f.message for f in report.findings)
    assert "`from pkg import Attenton` — pkg/ has no `Attenton`" in first
    assert "did you mean `Attention`" in first
    assert "`utils.seed_all` — utils.py has no `seed_all`" in second
    assert "seed_everything" in second


def test_unresolved_repository_imports() -> None:
    report = check(
        {
            "pkg/__init__.py": "",
            "pkg/model.py": "from .layer import Block\n",
            "pkg/layers.py": "class Block:\n    pass\n",
            "main.py": "import pkg.trainer\nfrom pkg.modle import x\n",
        }
    )
    assert kinds(report) == ["unresolved_import", "unresolved_import", "unresolved_import"]
    messages = [f.message for f in report.findings]
    assert "`import pkg.trainer` — the repository has no module `pkg.trainer`" in messages[0]
    assert "did you mean `pkg.model`" not in messages[0]
    assert "`from pkg.modle import x`" in messages[1] and "did you mean `model`" in messages[1]
    assert messages[2].startswith("pkg/model.py:1: `from .layer import Block`")
    assert "did you mean `layers`" in messages[2]


def test_third_party_and_stdlib_imports_are_left_alone() -> None:
    report = check(
        {
            "main.py": """\
                import os
                import numpy as np
                import torch.nn as nn
                from torch.utils.data import DataLoader
                from transformers import AutoModel

                np.zeros(3)
                nn.Linear(1, 2, 3, 4, 5, 6, 7)
                DataLoader(dataset=None, whatever=True)
                """,
        }
    )
    assert report.findings == []


# ----------------------------------------------------------------------------- calls


def test_wrong_keyword_argument_names_both_places() -> None:
    report = check(
        {
            "trainer.py": TRAINER,
            "model.py": """\
                from trainer import train


                def run(model, data):
                    return train(model, data, epochs=3)
                """,
        }
    )
    message = only(report, "bad_call")
    assert message == (
        "model.py:5: `train(model, data, epochs=3)` — train() in trainer.py has no parameter "
        "'epochs'; is missing required argument 'steps'; it accepts (model, loader, steps)"
    )
    target = report.findings[0].target
    assert target is not None and (target.file, target.line, target.symbol) == (
        "trainer.py",
        1,
        "train",
    )
    assert "def train(model, loader, steps):" in target.excerpt


@pytest.mark.parametrize(
    ("call", "problem"),
    [
        ("train(1, 2, 3, 4)", "takes 3 positional arguments but 4 were given"),
        ("train(1, 2)", "is missing required argument 'steps'"),
        ("train(1, 2, 3, model=1)", "got multiple values for 'model'"),
        (
            "Trainer(m, learning_rate=0.1)",
            "Trainer() in trainer.py has no parameter 'learning_rate'",
        ),
        ("Trainer()", "is missing required argument 'model'"),
        ("Trainer(m).fit(x, 5)", "takes 1 positional argument but 2 were given"),
        ("Trainer.from_config(c, strict=True)", "Trainer.from_config() in trainer.py has no"),
        ("Trainer.describe()", "is missing required argument 'name'"),
        ("trainer.train(1, 2, 3, 4)", "takes 3 positional arguments"),
    ],
)
def test_bad_calls(call: str, problem: str) -> None:
    main = f"""\
        import trainer
        from trainer import Trainer, train


        def main(m, x, c):
            return {call}
        """
    report = check({"trainer.py": TRAINER, "main.py": main})
    assert problem in only(report, "bad_call")


def test_calls_on_obvious_instances_and_self() -> None:
    report = check(
        {
            "trainer.py": TRAINER
            + """

    class Runner:
        def step(self, batch):
            return batch

        def loop(self, batches):
            return [self.step(b, 0) for b in batches]
    """,
            "main.py": """\
                from trainer import Trainer


                def main(model, loader):
                    trainer = Trainer(model)
                    trainer.fit(loader, epochs=2, lr=0.1)
                """,
        }
    )
    messages = [f.message for f in report.findings]
    assert kinds(report) == ["bad_call", "bad_call"]
    assert "`trainer.fit(loader, epochs=2, lr=0.1)` — Trainer.fit() in trainer.py" in messages[0]
    assert "has no parameter 'lr'" in messages[0]
    assert "it accepts (loader, *, epochs=1)" in messages[0]
    assert (
        "Runner.step() in trainer.py takes 1 positional argument but 2 were given" in (messages[1])
    )


def test_calling_torch_modules_checks_forward() -> None:
    report = check(
        {
            "model.py": """\
                import torch
                from torch import nn


                class Encoder(nn.Module):
                    def forward(self, src, src_mask=None):
                        return src


                class Transformer(Encoder):
                    def __init__(self, d_model):
                        super().__init__()
                        self.d_model = d_model


                class Scorer:
                    def __call__(self, logits, *, temperature=1.0):
                        return logits


                class Wrapped(torch.nn.Module):
                    pass
                """,
            "tests/test_smoke.py": """\
                from model import Encoder, Scorer, Transformer, Wrapped


                def test_forward():
                    model = Transformer(d_model=16)
                    out = model([1, 2], src_mask=None)
                    bad = model([1, 2], [3], tgt_mask=None)
                    scorer = Scorer()
                    wrapped = Wrapped()
                    return Encoder()(out), scorer(bad, 0.5), wrapped(1, 2, 3)
                """,
        }
    )
    messages = [f.message for f in report.findings]
    assert kinds(report) == ["bad_call", "bad_call"]
    assert "Encoder.forward() in model.py has no parameter 'tgt_mask'" in messages[0]
    assert (
        "Scorer.__call__() in model.py takes 1 positional argument but 2 were given"
        in (messages[1])
    )


def test_dataclass_constructor() -> None:
    report = check(
        {
            "config.py": """\
                from dataclasses import KW_ONLY, dataclass, field


                @dataclass
                class Base:
                    seed: int


                @dataclass(frozen=True)
                class ModelConfig(Base):
                    d_model: int = 512
                    layers: list = field(default_factory=list)
                    cache: dict = field(init=False, default_factory=dict)
                    _: KW_ONLY
                    dropout: float = 0.1
                """,
            "main.py": """\
                from config import ModelConfig

                ok = ModelConfig(0, 256, [], dropout=0.2)
                bad = ModelConfig(seed=0, d_model=256, n_heads=8)
                worse = ModelConfig(0, 256, [], 0.2)
                also = ModelConfig(0, cache={})
                """,
        }
    )
    messages = [f.message for f in report.findings]
    assert kinds(report) == ["bad_call"] * 3
    assert "has no parameter 'n_heads'" in messages[0]
    assert "takes 3 positional arguments but 4 were given" in messages[1]
    assert "it accepts (seed, d_model=…, layers=…, *, dropout=…)" in messages[1]
    assert "has no parameter 'cache'" in messages[2]


def test_positional_only_and_keyword_only() -> None:
    report = check(
        {
            "ops.py": "def scale(x, /, factor, *, inplace=False):\n    return x\n",
            "main.py": "from ops import scale\n\nscale(x=1, factor=2)\nscale(1, 2, True)\n",
        }
    )
    messages = [f.message for f in report.findings]
    assert kinds(report) == ["bad_call", "bad_call"]
    assert "parameter 'x' is positional-only" in messages[0]
    assert "takes 2 positional arguments but 3 were given" in messages[1]


# ----------------------------------------------------------------------------- config keys

CONFIG = """\
    model:
      d_model: 512
      n_heads: 8
    optim:
      learning_rate: 0.001
      betas: [0.9, 0.98]
    training:
      steps: 1000
    smoke:
      training:
        steps: 2
        warmup: 1
    """


def test_unknown_config_keys() -> None:
    report = check(
        {
            "main.py": """\
                import yaml


                def main(path):
                    with open(path) as fh:
                        config = yaml.safe_load(fh)
                    lr = config["optim"]["lr"]
                    warm = config["training"]["warmup"]
                    heads = config["model"].get("heads")
                    layers = config["model"].get("n_layers", 6)
                    again = config["optim"]["lr"]
                    return lr, warm, heads, layers, again
                """,
        },
        CONFIG,
    )
    assert kinds(report) == ["unknown_config_key"] * 3
    lr, warmup, heads = (f.message for f in report.findings)
    assert lr.startswith('main.py:7: `config["optim"]["lr"]` — config.yaml has no key `optim.lr`')
    assert "`optim` has: learning_rate, betas" in lr or "`optim` has: betas, learning_rate" in lr
    assert "(also read at line 11)" in lr
    assert "only under `smoke:`" in warmup
    assert "`.get` without a default returns None" in heads
    target = report.findings[0].target
    assert target is not None and (target.file, target.symbol, target.line) == (
        "config.yaml",
        "optim",
        4,
    )
    assert "learning_rate: 0.001" in target.excerpt


def test_config_through_aliases_attributes_and_sections() -> None:
    report = check(
        {
            "main.py": """\
                from utils import load_config


                class Trainer:
                    def __init__(self, config):
                        self.cfg = config["training"]
                        self.model_cfg = config["model"]

                    def run(self):
                        return self.cfg["steps"], self.cfg["epochs"], self.model_cfg["n_heads"]


                def build(cfg):
                    return cfg["d_model"], cfg["d_ff"]


                def main():
                    config = load_config("config.yaml")
                    model, optim = config["model"], config["optim"]
                    return model["d_model"], optim["betas"], optim["eps"], build(config["model"])
                """,
            "utils.py": "def load_config(path):\n    return {}\n",
        },
        CONFIG,
    )
    messages = [f.message for f in report.findings]
    assert kinds(report) == ["unknown_config_key"] * 3
    assert messages[0].startswith(
        'main.py:10: `self.cfg["epochs"]` — no section of config.yaml has the key path '
        "`training.epochs`; `training` has: steps (the variable may hold"
    )
    assert '`cfg["d_ff"]` — no section of config.yaml has the key path `d_ff`' in messages[1]
    assert '`optim["eps"]` — config.yaml has no key `optim.eps`' in messages[2]


def test_config_keys_not_reported_when_unsure() -> None:
    report = check(
        {
            "main.py": """\
                import yaml


                def load(path):
                    with open(path) as fh:
                        config = yaml.safe_load(fh)
                    config.setdefault("seed", 0)
                    if "device" in config:
                        print(config["device"])
                    data = yaml.safe_load(open("data/splits.yaml"))
                    return config, data["train"], config["seed"]


                def step(params, grads):
                    return params["w"] - grads["w"]


                def other(config):
                    config = {"anything": 1}
                    return config["anything"]


                def merged(cfg, extra):
                    cfg.update(extra)
                    return cfg["extra_key"], cfg.get("optional", None)
                """,
        },
        CONFIG,
    )
    assert report.findings == []


def test_no_config_file_means_no_config_check() -> None:
    report = check({"main.py": "def f(config):\n    return config['nope']\n"})
    assert report.findings == [] and report.config is None
    assert "config.yaml not found" in report.notes[0]


# ----------------------------------------------------------------------------- consistent repos


CONSISTENT = {
    "src/tfm/__init__.py": """\
        from .layers import Attention, FeedForward
        from .model import Transformer

        __all__ = ["Attention", "FeedForward", "Transformer", "VERSION"]
        VERSION = "1"
        """,
    "src/tfm/layers.py": """\
        from __future__ import annotations

        import functools
        from dataclasses import dataclass

        try:
            import torch
            from torch import nn
        except ImportError:  # optional dependency
            torch = None
            nn = None

        try:
            from .fast_ops import fused
        except ImportError:
            fused = None


        class Attention(nn.Module):
            def __init__(self, d_model: int, n_heads: int = 8, *args, **kwargs) -> None:
                super().__init__()
                self.d_model = d_model

            def forward(self, x, mask=None):
                return self.project(x, mask)

            @functools.lru_cache(maxsize=None)
            def project(self, x, mask):
                return x


        class FeedForward(nn.Module):
            def forward(self, x):
                return x


        @dataclass
        class Block:
            d_model: int
            dropout: float = 0.1
        """,
    "src/tfm/model.py": """\
        from . import layers
        from .layers import *  # noqa: F403
        from .layers import Attention


        def registered(fn):
            return fn


        @registered
        def make(*parts, **options):
            return parts, options


        class Transformer:
            def __init__(self, config, **overrides):
                self.attn = Attention(config["d_model"], n_heads=4, extra=1)
                self.ff = layers.FeedForward(1, 2, 3)
                self.block = layers.Block(8)
                self.helper = FeedForward  # noqa: F405  (from the star import)

            @classmethod
            def from_dict(cls, data, *, strict=False):
                return cls(data, **data)

            def __call__(self, x):
                return self.attn.forward(x, mask=None)
        """,
    "src/tfm/utils/__init__.py": "",
    "src/tfm/utils/io.py": """\
        import sys


        def __getattr__(name):
            return name


        def save(obj, path, *, fmt="json"):
            return obj, path, fmt
        """,
    "main.py": """\
        from enum import Enum
        from typing import TYPE_CHECKING, NamedTuple

        from pydantic import BaseModel

        from tfm import VERSION, Transformer
        from tfm.utils import io
        from tfm.utils.io import anything_goes

        if TYPE_CHECKING:
            from tfm.layers import OnlyInStubs


        class Mode(Enum):
            TRAIN = 1


        class Point(NamedTuple):
            x: int
            y: int = 0


        class Settings(BaseModel):
            lr: float = 0.1


        def main(argv=None):
            model = Transformer.from_dict({}, strict=True)
            model = Transformer({}, dropout=0.1)
            io.save(model, "out.json", fmt="json")
            io.whatever()
            Mode(1)
            Point(1)
            Settings(lr=0.2, extra=1)
            return VERSION, anything_goes


        if __name__ == "__main__":
            main()
        """,
    "tests/test_smoke.py": """\
        from main import main


        def test_main():
            assert main([]) is None or True
        """,
}
"""A repository using every pattern the check must read right: src layout, package
re-exports, relative, star and guarded imports, dataclasses, *args/**kwargs, classmethods,
defaults, decorators, module __getattr__, outside bases, ``if __name__ == "__main__"``."""


def test_consistent_repository_has_no_findings() -> None:
    report = check(CONSISTENT)
    assert report.findings == [], [f.message for f in report.findings]
    assert report.checked["calls"] >= 6
    assert report.checked["imports"] >= 8


def test_shadowing_and_ambiguity_are_not_reported() -> None:
    report = check(
        {
            "ops.py": """\
                import sys

                if sys.platform == "win32":
                    def run(a):
                        return a
                else:
                    def run(a, b):
                        return a, b


                def helper(x):
                    return x
                """,
            "main.py": """\
                from ops import helper, run


                def f(helper, items):
                    run(1, 2, 3)
                    local = [helper(1, 2, 3) for _ in items]
                    g = lambda helper: helper(1, 2, 3)  # noqa: E731
                    return local, g


                class Sub:
                    def run(self, a):
                        return a

                    def go(self):
                        return self.run(1)


                class Child(Sub):
                    def run(self, a, b):
                        return a, b

                    def go2(self):
                        return self.run(1, 2)
                """,
        }
    )
    assert report.findings == [], [f.message for f in report.findings]


def test_generated_repository_idioms() -> None:
    """Idioms of LLM-written repositories (as in the reference system's published outputs): a
    Config class reading YAML with computed keys, a method named like the module function it
    calls, callables stored on ``self``, instances built from repository classes."""
    report = check(
        {
            "config.py": """\
                import yaml


                class Config:
                    def __init__(self, model_size="base", config_path=None):
                        with open(config_path or "config.yaml") as fh:
                            config = yaml.safe_load(fh)
                        section = config["model"][model_size]
                        self.d_model = section["d_model"]
                        self.steps = config["training"]["steps"]

                    def training_params(self):
                        return {"steps": self.steps}
                """,
            "utils.py": """\
                def save_checkpoint(model, optimizer, step, path):
                    return model, optimizer, step, path


                def get_scheduler(optimizer, d_model, warmup):
                    return lambda step: step
                """,
            "train.py": """\
                from config import Config
                from utils import get_scheduler, save_checkpoint


                class Trainer:
                    def __init__(self, config: Config, model, optimizer=None):
                        params = config.training_params()
                        self.steps = params["steps"]
                        self.model, self.optimizer = model, optimizer
                        self.scheduler = get_scheduler(optimizer, config.d_model, 4000)

                    def save_checkpoint(self, path):
                        save_checkpoint(self.model, self.optimizer, self.steps, path)

                    def step(self, batch):
                        self.save_checkpoint("last.pt")
                        return self.scheduler(self.steps), self.model(batch)


                if __name__ == "__main__":
                    trainer = Trainer(Config(model_size="big"), model=None)
                    trainer.step([1, 2])
                """,
        },
        "model:\n  base: {d_model: 512}\n  big: {d_model: 1024}\ntraining:\n  steps: 10\nsmoke: {}\n",
    )
    assert report.findings == [], [f.message for f in report.findings]
    assert report.checked["calls"] >= 6 and report.checked["config_reads"] >= 2


def test_script_folder_and_root_modules_both_count() -> None:
    report = check(
        {
            "evaluate.py": "def judge():\n    return 1\n",
            "scripts/evaluate.py": "def accuracy(p, y):\n    return 1.0\n",
            "scripts/run.py": "from evaluate import accuracy, judge\n\naccuracy(1, 2, 3)\n",
        }
    )
    assert report.findings == [], [f.message for f in report.findings]


def test_namespace_packages_and_shadowed_names() -> None:
    report = check(
        {
            "models/transformer.py": "class Transformer:\n    def __init__(self, d_model):\n        pass\n",
            "datasets/download.py": "URL = 'x'\n",
            "logging.py": "LEVEL = 1\n",
            "main.py": """\
                import logging

                from datasets import load_dataset
                from models.transformer import Transformer

                logging.getLogger(__name__)
                load_dataset("wmt14")
                Transformer(d_model=512, heads=8)
                """,
        }
    )
    assert "Transformer() in models/transformer.py has no parameter 'heads'" in only(
        report, "bad_call"
    )


def test_keys_set_in_another_file_and_deep_overrides() -> None:
    report = check(
        {
            "main.py": """\
                from trainer import Base, fit


                def main(config):
                    config["device"] = "cpu"
                    return fit(config), Base()
                """,
            "trainer.py": """\
                def fit(config):
                    return config["device"], config["training"]["steps"]


                class Base:
                    def go(self):
                        return self.step(1)

                    def step(self, x):
                        return x


                class Middle(Base):
                    pass


                class Leaf(Middle):
                    def step(self, x, y):
                        return x, y
                """,
        },
        CONFIG,
    )
    assert report.findings == [], [f.message for f in report.findings]


# ----------------------------------------------------------------------------- lint and whole repos


def write_repo(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def test_lint_syntax_errors_and_undefined_names(tmp_path: Path) -> None:
    repo = write_repo(
        tmp_path,
        {
            "broken.py": "def f(:\n    pass\n",
            "model.py": "def f():\n    return np.zeros(3) + np.ones(3)\n\n\ndef g():\n    return np.eye(2)\n",
            "main.py": "from broken import anything\nimport model\n\nmodel.f(1)\n",
        },
    )
    report = check_repository(repo)
    assert report.lint
    assert kinds(report) == ["lint", "bad_call", "lint"]
    syntax, call, undefined = (f.message for f in report.findings)
    assert syntax.startswith("broken.py:1: SyntaxError")
    assert "f() in model.py takes 0 positional arguments but 1 was given" in call
    assert undefined == "model.py:2: F821 Undefined name `np` (also at line 6)"


def test_extension_modules_folders_dunders_and_dynamic_names(tmp_path: Path) -> None:
    repo = write_repo(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/fast.cpython-311-x86_64-linux-gnu.so": "not really a shared object",
            "pkg/data/README.txt": "a folder without Python files is a namespace package too\n",
            "pkg/registry.py": """\
                __all__ = []


                def register(cls):
                    from pkg import registry

                    setattr(registry, cls.__name__, cls)
                    __all__.append(cls.__name__)
                """,
            "main.py": """\
                import pkg.data
                from pkg import __file__ as where
                from pkg.fast import kernel
                from pkg.registry import Registered
                """,
        },
    )
    report = check_repository(repo, lint=False)
    assert report.findings == [], [f.message for f in report.findings]


def test_report_is_json_and_compares_by_key(tmp_path: Path) -> None:
    files = {
        "trainer.py": "def train(model, steps):\n    return model\n",
        "main.py": "from trainer import train\n\ntrain(1, epochs=2)\n",
    }
    before = check_repository(write_repo(tmp_path, files), lint=False)
    again = ConsistencyReport.model_validate(json.loads(before.model_dump_json()))
    assert again == before
    (tmp_path / "main.py").write_text(
        "# fixed\nfrom trainer import train\n\ntrain(1, steps=2)\ntrain(1)\n", encoding="utf-8"
    )
    after = check_repository(tmp_path, lint=False)
    delta = compare_reports(before, after)
    assert [f.line for f in delta.fixed] == [3]
    assert delta.remaining == []
    assert [f.line for f in delta.new] == [5]
    assert after.summary() == "1 finding (1 bad_call) in 2 files"


def demo_repo(tmp_path: Path) -> Path:
    """The demo's scripted repository with the config.yaml its plan writes."""
    repo = tmp_path / "repo"
    shutil.copytree(DEMO / "replies" / "repo", repo, symlinks=True)
    transcript = yaml.safe_load((DEMO / "transcript.yaml").read_text(encoding="utf-8"))
    config = next(
        r["json"]["config_yaml"] for r in transcript["rules"] if "config_yaml" in r.get("json", {})
    )
    (repo / "config.yaml").write_text(config, encoding="utf-8")
    return repo


def test_demo_repository_reports_only_its_missing_import(tmp_path: Path) -> None:
    report = check_repository(demo_repo(tmp_path))
    # model.py uses numpy without importing it (the demo's first deliberate bug); the other
    # (a transposed gradient) only shows when the code runs.
    assert [f.message.split(" (also")[0] for f in report.findings] == [
        "model.py:8: F821 Undefined name `np`"
    ]
    assert report.config == "config.yaml"
    assert report.checked["calls"] >= 10 and report.checked["config_reads"] >= 15


def test_demo_repository_mismatches_are_caught(tmp_path: Path) -> None:
    repo = demo_repo(tmp_path)
    main = repo / "main.py"
    text = main.read_text(encoding="utf-8")
    text = text.replace('weight_decay=opt["weight_decay"]', 'decay=opt["decay"]')
    text = text.replace("from evaluate import accuracy,", "from evaluate import top1_accuracy,")
    main.write_text(text, encoding="utf-8")
    report = check_repository(repo, lint=False)
    found = {(f.kind, f.line) for f in report.findings}
    assert found == {("missing_name", 11), ("bad_call", 33), ("unknown_config_key", 33)}


def test_own_sandbox_package_has_no_import_or_call_findings() -> None:
    sources = {
        f"sandbox/{rel}": text
        for rel, text in iter_text_files(ROOT / "sandbox", suffixes=frozenset({".py"}))
    }
    report = check_sources(sources)
    assert report.findings == [], [f.message for f in report.findings]
    assert report.checked["imports"] >= 30 and report.checked["calls"] >= 300


def test_thirty_consistent_files_of_five_thousand_lines_have_no_findings() -> None:
    """The workload of ``bench/consistency_bench.py`` (which prints its time): every call and
    import checked, nothing reported."""
    sources = synthetic_repo(files=30, lines=5000)
    assert 5000 <= sum(t.count("\n") for t in sources.values()) <= 5600
    report = check_sources(sources, config_yaml=SYNTHETIC_CONFIG)
    assert report.findings == [], [f.message for f in report.findings[:3]]
    assert report.checked["calls"] > 1000


SYNTHETIC_CONFIG = "model:\n  width: 8\nsmoke:\n  model: {}\n"
"""The config.yaml the synthetic repository reads."""


def synthetic_repo(files: int, lines: int) -> dict[str, str]:
    """``files`` modules of about ``lines`` lines in all, each calling into the ones before."""
    per_file = lines // files
    out: dict[str, str] = {}
    for i in range(files):
        imports = [f"from mod{j} import Layer{j}, func{j}_0" for j in range(max(0, i - 3), i)]
        body = ["import math", *imports, "", ""]
        body += [
            f"class Layer{i}:",
            "    def __init__(self, width, depth=2):",
            "        self.width = width",
            "",
        ]
        body += ["    def forward(self, x, *, scale=1.0):", "        return x * scale", "", ""]
        n = 0
        while len(body) < per_file:
            body += [f"def func{i}_{n}(config, x, y=0):", '    width = config["model"]["width"]']
            body += [f"    layer = Layer{i}(width, depth=3)", "    x = layer.forward(x, scale=0.5)"]
            for j in range(max(0, i - 3), i):
                body += [f"    x = func{j}_0(config, x, y=1) + Layer{j}(width).width"]
            body += ["    return math.sqrt(x)", "", ""]
            n += 1
        out[f"mod{i}.py"] = "\n".join(body) + "\n"
    return out
