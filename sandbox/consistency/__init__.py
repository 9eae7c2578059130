"""Static consistency check: does a generated repository hang together, without running it?

Four checks, no model and no execution:

- **imports**: every import of a repository module resolves to a module of the repository
  (root, packages, ``src/`` layout, relative imports), and every name imported from one
  (``from model import Transformer``, ``model.Transformer``) is defined at its top level, is
  re-exported there, or is a submodule;
- **calls**: calls whose callee resolves to a function, method or class of the repository
  (through imports, ``module.func``, ``Class.method``, ``Class(...)`` → ``__init__`` or the
  fields of a dataclass, and instances whose class is obvious: ``x = Class(...)`` once in the
  scope, ``self`` in a method) pass arguments the signature accepts;
- **config keys**: keys read from the configuration (``config["optim"]["lr"]``,
  ``cfg.get("lr")``, through aliases such as ``opt = config["optim"]`` and ``self.cfg``) exist
  in ``config.yaml`` outside its ``smoke:`` overrides. A variable assigned from a loader
  (``yaml.safe_load``, ``load_config``…) is the whole config; a parameter named ``config``,
  ``cfg``, ``conf``, ``params`` or ``hparams`` may be any section of it, so its key path must
  exist under some section, and is judged only when another read through it does resolve.
  Reads with a default, and keys the code sets, tests with ``in`` or ``setdefault``s anywhere,
  are never reported;
- **lint**: ruff's serious diagnostics (syntax errors, undefined names; see
  :func:`sandbox.localize.is_serious`).

Every finding is written for a model: where, what is wrong, and the other side (the definition,
the config section) so a fixer sees both places. The check never reports when unsure: a false
positive costs a model call. Third-party and standard-library imports are not checked; nor are
names behind star imports or a module ``__getattr__``, decorated callables (except a known
signature-preserving few), classes with a metaclass, Enum, NamedTuple, TypedDict or Protocol
bases, and calls on objects of unknown type.

:func:`check_sources` is the pure core (file texts in, findings out); :func:`check_repository`
reads a repository and runs ruff. One module per idea; imports point down this list:

- ``report``: findings, the report, comparing two reports;
- ``astutil``, ``wording``: AST helpers; how findings show code and names to a model;
- ``signatures``: signatures as data, and what is wrong with a call against one;
- ``index``: the repository's modules, their top-level names, where an import leads;
- ``entities``: what a name or expression stands for at one point of a module;
- ``callables``: what calling a repository function, class or instance accepts;
- ``calls``: the imports-and-calls check of one module;
- ``config_tree``, ``config_keys``: the config file; the check of the keys code reads;
- ``lint``: ruff's serious diagnostics as findings;
- ``check``: the entry points.
"""

from sandbox.consistency.check import MAX_FILE_BYTES as MAX_FILE_BYTES
from sandbox.consistency.check import check_repository, check_sources
from sandbox.consistency.config_keys import CONFIG_NAMES as CONFIG_NAMES
from sandbox.consistency.report import (
    FINDING_KINDS,
    ConsistencyReport,
    Finding,
    FindingKind,
    ReportDelta,
    Target,
    compare_reports,
)
from sandbox.consistency.wording import EXCERPT_CONTEXT as EXCERPT_CONTEXT

__all__ = [
    "FINDING_KINDS",
    "ConsistencyReport",
    "Finding",
    "FindingKind",
    "ReportDelta",
    "Target",
    "check_repository",
    "check_sources",
    "compare_reports",
]
