"""The requirements ledger's pure parts: static checks of config values, paper values as data,
evidence cut from the files, weighted coverage, and replies that must judge every id once."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from paper2code.ledger import (
    LedgerEntry,
    check_config,
    coverage,
    evidence_from,
    paper_value,
    same_value,
    verification_model,
)
from paper2code.schemas import (
    EvidenceRef,
    Requirement,
    RequirementsLedger,
    config_reply_model,
    ledger_reply_model,
)

CONFIG = """\
optimization:
  lr: 0.001   # assumption
  warmup_steps: 4000
  betas: [0.9, 0.98]
model:
  d_model: 512
  label_smoothing: 0.1
smoke:
  optimization: {lr: 0.5}
"""
CODE = {
    "train.py": "lr = cfg['optimization']['lr']\nwarm = cfg['optimization']['warmup_steps']\n",
    "model.py": "d = config.model.d_model\n",
    "config.yaml": CONFIG,
}


def req(rid: str, key: str | None, value: str | None, **kw) -> Requirement:
    data = {
        "id": rid,
        "text": "t",
        "category": "hyperparameter",
        "where": {"section": "5.3", "anchor": "", "quote": "q"},
        "value": value,
        "weight": 2,
        "files": ["config.yaml"],
        "config_key": key,
    }
    return Requirement.model_validate({**data, **kw})


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("4,000", 4000),
        ("1e-4", 1e-4),
        ("10^{-4}", 1e-4),
        ("$10^{-9}$", 1e-9),
        ("2×10^-5", 2e-5),
        ("[0.9, 0.98]", [0.9, 0.98]),
        ("{0, 0.1}", [0, 0.1]),
        ("0.1", 0.1),
        ("Adam", "Adam"),
    ],
)
def test_paper_values_read_as_data(text: str, value: object) -> None:
    assert same_value(paper_value(text), value)


def test_static_check_finds_a_config_value_that_differs_from_the_paper() -> None:
    # an expression is not a value: left to the verifier
    assert check_config(req("R1", "optimization.lr", "1e-3 * 0 + 4e-4"), CONFIG, CODE) is None
    verdict = check_config(req("R2", "optimization.lr", "4e-4"), CONFIG, CODE)
    assert verdict is not None
    status, reason, evidence = verdict
    assert status == "contradicted"
    assert "optimization.lr = 0.001" in reason and "4e-4" in reason
    assert evidence[0].file == "config.yaml" and evidence[0].start_line == 2
    assert "lr: 0.001" in evidence[0].excerpt


def test_static_check_implemented_missing_and_unread() -> None:
    ok = check_config(req("R3", "optimization.warmup_steps", "4,000"), CONFIG, CODE)
    assert ok is not None and ok[0] == "implemented"
    lists = check_config(req("R4", "optimization.betas", "[0.9, 0.98]"), CONFIG, CODE)
    assert lists is not None and lists[0] == "partial"  # in config.yaml, but no code reads betas
    missing = check_config(req("R5", "optimization.weight_decay", "0.01"), CONFIG, CODE)
    assert missing is not None and missing[0] == "missing"
    assert check_config(req("R6", None, "0.1"), CONFIG, CODE) is None  # no key: the verifier


def test_evidence_is_cut_from_the_files_themselves() -> None:
    texts = {"a.py": "\n".join(f"line {i}" for i in range(1, 31))}
    refs = [
        EvidenceRef(file="a.py", start_line=3, end_line=4),
        EvidenceRef(file="./a.py", start_line=25, end_line=99),  # clipped to the file and 8 lines
        EvidenceRef(file="ghost.py", start_line=1, end_line=2),  # no such file: dropped
    ]
    ev = evidence_from(refs, texts)
    assert [(e.start_line, e.end_line) for e in ev] == [(3, 4), (25, 30)]
    assert ev[0].excerpt == "line 3\nline 4"


def test_weighted_coverage_by_category() -> None:
    entries = [
        LedgerEntry(requirement=req("R1", None, None, category="method", weight=3)),
        LedgerEntry(requirement=req("R2", None, None, category="method", weight=1)),
        LedgerEntry(requirement=req("R3", None, None, category="data", weight=2)),
        LedgerEntry(requirement=req("R4", None, None, category="data", weight=2)),
    ]
    entries[0].decide("implemented", "verifier", "", [])
    entries[1].decide("contradicted", "verifier", "", [])
    entries[2].decide("partial", "verifier", "", [])  # R4 never checked: counts 0
    total, cats = coverage(entries)
    assert total == pytest.approx((3 + 0 + 1) / 8)
    assert cats["method"].weighted == pytest.approx(0.75)
    assert (cats["data"].partial, cats["data"].not_checked) == (1, 1)


def test_a_verification_reply_must_judge_each_requirement_once() -> None:
    model = verification_model(["R1", "R2"])
    verdict = {"status": "missing", "evidence": [], "reason": "r"}
    with pytest.raises(ValidationError, match="missing: R2"):
        model.model_validate({"verdicts": [{"id": "R1", **verdict}]})
    with pytest.raises(ValidationError):
        model.model_validate({"verdicts": [{"id": "R9", **verdict}, {"id": "R1", **verdict}]})
    ok = model.model_validate({"verdicts": [{"id": "R2", **verdict}, {"id": "R1", **verdict}]})
    assert [v.id for v in ok.verdicts] == ["R2", "R1"]


def test_the_extraction_schema_only_allows_planned_files_and_dotted_keys() -> None:
    model = ledger_reply_model(["model.py", "config.yaml"])
    good = req("R1", "optimization.lr", "0.5").model_dump()
    assert model.model_validate({"requirements": [good]})
    with pytest.raises(ValidationError):
        model.model_validate({"requirements": [{**good, "files": ["nope.py"]}]})
    with pytest.raises(ValidationError, match="dotted key"):
        model.model_validate({"requirements": [{**good, "config_key": "learning rate"}]})
    with pytest.raises(ValidationError, match="unique"):
        RequirementsLedger.model_validate({"requirements": [good, good]})


def test_the_configuration_must_hold_every_key_the_ledger_names() -> None:
    model = config_reply_model(["optimization.lr", "model.d_model"])
    with pytest.raises(ValidationError, match=r"missing: model\.d_model"):
        model.model_validate({"config_yaml": "optimization: {lr: 0.5}\nsmoke: {}\n"})
    ok = "optimization: {lr: 0.5}\nmodel: {d_model: 512}\nsmoke: {model: {d_model: 8}}\n"
    assert model.model_validate({"config_yaml": ok})
