"""The ``verify`` stage: check the coded repository against the plan's requirements ledger and
refine it before anything runs.

    static checks (config.yaml values) ─▶ verifier per file (batched) ─▶ ledger
        ─▶ up to ``refine_rounds`` × (refiner per file ─▶ apply edits ─▶ re-verify the unmet)

It works on ``verify/repo/`` (a copy of what the coder wrote); the pipeline snapshots the result
as ``repo.generated/``, so the changed-line ratio keeps measuring only the execute-repair loop,
while the ledger records what refinement changed. Every verifier and refiner reply is saved the
moment it exists (``verify/pass-N/<file>.json``, ``verify/refine-N/<file>.json``): an interrupted
stage resumes without paying for them again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from agents.verifier import Refiner, Verifier
from paper2code.ledger import (
    UNMET,
    Ledger,
    LedgerEntry,
    RefineRound,
    VerificationReply,
    check_config,
    coverage,
    evidence_from,
)
from paper2code.llm import usage_context
from paper2code.progress import Reporter
from paper2code.runstore import RunStore, flat
from paper2code.schemas import Plan
from sandbox.loop import RejectedEdit, rejected_edits
from sandbox.patch import ApplyReport, apply_edits
from sandbox.ratio import ratio_texts
from sandbox.tree import read_text_tree

CONFIG = "config.yaml"


def home_file(entry: LedgerEntry) -> str:
    """The file a requirement is checked with: its first assigned file that is not the config
    (the verifier reads the others through its tools)."""
    files = entry.requirement.files
    return next((f for f in files if f != CONFIG), files[0] if files else CONFIG)


def batches(entries: Iterable[LedgerEntry]) -> dict[str, list[LedgerEntry]]:
    """Entries grouped by :func:`home_file`, in the order first seen."""
    out: dict[str, list[LedgerEntry]] = {}
    for e in entries:
        out.setdefault(home_file(e), []).append(e)
    return out


class VerifyStage:
    """One run of the verify stage over a run directory's ``verify/repo/``."""

    def __init__(
        self,
        store: RunStore,
        plan: Plan,
        *,
        verifier: Verifier,
        refiner: Refiner,
        rounds: int,
        limit: asyncio.Semaphore,
        reporter: Reporter,
        trace: dict[str, dict[str, str]],
    ) -> None:
        self.store, self.plan = store, plan
        self.verifier, self.refiner = verifier, refiner
        self.rounds, self.limit, self.reporter = rounds, limit, reporter
        self.trace = trace
        """File → requirement id → the symbol the coder named."""
        self.draft = store.path("verify", "repo")

    async def run(self) -> Ledger:
        reqs = self.plan.requirements.requirements
        entries = [LedgerEntry(requirement=r) for r in reqs if r.category != "assumption"]
        await self.check(entries, pass_n=1)
        before, _ = coverage(entries)
        rounds: list[RefineRound] = []
        for n in range(1, self.rounds + 1):
            unmet = [e for e in entries if e.status in UNMET]
            if not unmet:
                break
            done = await self.refine(n, unmet)
            rounds.append(done)
            if not done.edits_applied:
                break
            await self.check(unmet, pass_n=n + 1)
            done.fixed = [e.requirement.id for e in unmet if e.status == "implemented"]
        after, by_category = coverage(entries)
        ledger = Ledger(
            entries=entries,
            assumptions=[r for r in reqs if r.category == "assumption"],
            rounds=rounds,
            coverage_before=before,
            coverage_after=after,
            by_category=by_category,
        )
        self.store.write_json("verify/ledger.json", ledger.model_dump(mode="json"))
        return ledger

    # ------------------------------------------------------------------ verification
    async def check(self, entries: Sequence[LedgerEntry], *, pass_n: int) -> None:
        """Decide ``entries``: statically where reliable, else by the verifier, one call per
        file; the verdicts of the pass are saved under ``verify/pass-N/``."""
        texts = read_text_tree(self.draft)
        config = texts.get(CONFIG) or ""
        rest: list[LedgerEntry] = []
        for e in entries:
            verdict = check_config(e.requirement, config, texts)
            if verdict is None:
                rest.append(e)
            else:
                e.decide(verdict[0], "static", verdict[1], verdict[2])
        static = [e.model_dump(mode="json") for e in entries if e not in rest]
        self.store.write_json(f"verify/pass-{pass_n}/static.json", static)
        groups = batches(rest)
        await asyncio.gather(*(self._verify(path, g, texts, pass_n) for path, g in groups.items()))

    async def _verify(
        self, path: str, group: list[LedgerEntry], texts: dict[str, str | None], pass_n: int
    ) -> None:
        artifact = f"verify/pass-{pass_n}/{flat(path)}.json"
        if self.store.exists(artifact):
            reply = VerificationReply.model_validate(self.store.read_json(artifact)["reply"])
            self.reporter.advance("verify", path, f"pass {pass_n} (saved)")
        else:
            async with self.limit:
                with usage_context(stage="verify", agent="verifier", file=path):
                    answer = await self.verifier.verify(
                        path,
                        texts.get(path),
                        [e.requirement for e in group],
                        self.trace.get(path, {}),
                        pass_n,
                    )
            reply = answer.value
            data = {"raw": answer.raw, "reply": reply.model_dump(mode="json")}
            self.store.write_json(artifact, data)
            self.reporter.advance("verify", path, f"pass {pass_n}")
        by_id = {v.id: v for v in reply.verdicts}
        for e in group:
            v = by_id[e.requirement.id]
            evidence = evidence_from(v.evidence, texts)
            status, reason = v.status, v.reason
            if status == "implemented" and not evidence:
                status, reason = "partial", f"no evidence the code does it ({reason})"
            e.decide(status, "verifier", reason, evidence)

    # ------------------------------------------------------------------ refinement
    async def refine(self, n: int, unmet: Sequence[LedgerEntry]) -> RefineRound:
        """One round of targeted edits for ``unmet``, one refiner call per file."""
        before = read_text_tree(self.draft)
        groups = batches(unmet)
        reports = await asyncio.gather(*(self._refine(path, g, n) for path, g in groups.items()))
        delta = ratio_texts(before, read_text_tree(self.draft))
        return RefineRound(
            n=n,
            requirements=[e.requirement.id for e in unmet],
            files_changed=sorted(delta.files),
            lines_added=delta.added,
            lines_deleted=delta.deleted,
            edits_applied=sum(len(r.applied) for rs in reports for r in rs),
            edits_rejected=sum(len(rs[-1].rejected) for rs in reports if rs),
        )

    async def _refine(self, path: str, group: list[LedgerEntry], n: int) -> list[ApplyReport]:
        artifact = f"verify/refine-{n}/{flat(path)}.json"
        if self.store.exists(artifact):
            self.reporter.advance("verify", path, f"refinement {n} (saved)")
            saved = self.store.read_json(artifact)["attempts"]
            return [ApplyReport.model_validate(a["report"]) for a in saved]
        attempts: list[dict] = []
        reports: list[ApplyReport] = []
        rejected: list[RejectedEdit] = []
        for _ in range(2):  # the proposal, then one reflection on edits that did not apply
            text = read_text_tree(self.draft).get(path)
            async with self.limit:
                with usage_context(stage="verify", agent="refiner", file=path):
                    answer = await self.refiner.propose(path, text, group, n, rejected)
            report = apply_edits(self.draft, answer.value.edits)
            reports.append(report)
            attempts.append({"raw": answer.raw, "report": report.model_dump(mode="json")})
            rejected = rejected_edits(report)
            if not rejected:
                break
        self.store.write_json(artifact, {"attempts": attempts})
        self.reporter.advance("verify", path, f"refinement {n}")
        return reports


def load_trace(coding: Path) -> dict[str, dict[str, str]]:
    """File → requirement id → symbol, from the coder's saved ``implements`` lists."""
    out: dict[str, dict[str, str]] = {}
    for f in sorted(coding.glob("*.trace.json")):
        data = json.loads(f.read_text(encoding="utf-8"))
        out[data["path"]] = {t["requirement"]: t["symbol"] for t in data.get("implements", [])}
    return out
