"""Signed checkpoints of the event log, and the audit that checks the log against them (`log verify`).

The checkpointer is a reader of the log with its own cursor: the last checkpoint's tree size. It hashes
only the entries after it, onto the stored right edge, signs the new tree head and stores it with those
leaf hashes. The audit re-hashes every entry from its stored columns and compares, checks every
checkpoint's signature and recomputes its root from the stored leaf hashes; the first `seq` where the
entries and the signed history part is what it names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.merkle import Frontier, leaf_hash
from domain.notes import CheckpointBody, NoteError, NoteSigner, NoteVerifier, open_note, sign
from domain.ports import CheckpointStore, Clock, EventLog, StoredCheckpoint

PAGE = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpointer:
    """Signs a checkpoint of whatever the log holds beyond the last one (the first one even when empty)."""

    events: EventLog
    store: CheckpointStore
    signer: NoteSigner
    origin: str
    clock: Clock

    async def __call__(self) -> StoredCheckpoint | None:
        """The new checkpoint, or None when no entry arrived since the last one (or a racing replica
        stored the same size first)."""
        last = await self.store.latest()
        frontier = Frontier(last.tree_size, list(last.frontier)) if last else Frontier()
        hashes: list[bytes] = []
        while page := await self.events.leaves(frontier.size - 1, PAGE):
            for seq, leaf in page:
                if seq != frontier.size:
                    raise NoteError(f"the log has no entry {frontier.size} (found {seq}): run `log verify`")
                hashed = leaf_hash(leaf)
                frontier.append(hashed)
                hashes.append(hashed)
        if last is not None and not hashes:
            return None
        body = CheckpointBody(self.origin, frontier.size, frontier.root())
        checkpoint = StoredCheckpoint(
            tree_size=frontier.size,
            root=body.root,
            frontier=tuple(frontier.hashes),
            note=sign(body.text(), self.signer),
            at=self.clock.now(),
        )
        return checkpoint if await self.store.add(checkpoint, hashes) else None

    def __str__(self) -> str:
        return f"checkpointer of {self.origin}"


@dataclass(frozen=True, slots=True)
class Problem:
    seq: int
    problem: str


@dataclass(slots=True)
class AuditReport:
    """`log verify`'s answer: `ok` when nothing is wrong; `first_bad_seq` the lowest seq named."""

    entries: int = 0
    checkpoints: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_bad_seq(self) -> int | None:
        return min((p.seq for p in self.problems), default=None)


@dataclass(frozen=True, slots=True, kw_only=True)
class LogAudit:
    """Recomputes the tree from the stored entries and checks it against every signed checkpoint."""

    events: EventLog
    store: CheckpointStore
    verifier: NoteVerifier

    async def __call__(self) -> AuditReport:
        report = AuditReport()
        checkpoints = await self.store.all()
        report.checkpoints = len(checkpoints)
        covered = max((c.tree_size for c in checkpoints), default=0)
        stored = await self.store.leaf_hashes(covered)
        recomputed = await self._entries(report, stored)
        self._checkpoints(report, checkpoints, stored)
        if recomputed < covered:
            report.problems.append(Problem(recomputed, f"entries from seq {recomputed} on are missing"))
        report.problems.sort(key=lambda p: p.seq)
        return report

    async def _entries(self, report: AuditReport, stored: list[bytes]) -> int:
        """Every entry in seq order: a gap names the first missing seq; a leaf that hashes otherwise than
        when it was checkpointed names its seq (changed, inserted or swapped). Returns the seq after the
        last entry."""
        expected, after = 0, -1
        while page := await self.events.leaves(after, PAGE):
            for seq, leaf in page:
                if seq != expected:
                    report.problems.append(Problem(expected, f"entry {expected} is missing (the next is {seq})"))
                if seq < len(stored) and leaf_hash(leaf) != stored[seq]:
                    report.problems.append(Problem(seq, f"entry {seq} differs from the one checkpointed"))
                report.entries += 1
                after = seq
                expected = seq + 1
        return expected

    def _checkpoints(self, report: AuditReport, checkpoints: list[StoredCheckpoint], stored: list[bytes]) -> None:
        """Each checkpoint's signature, and its root against the stored leaf hashes."""
        frontier, proven = Frontier(), 0
        for checkpoint in checkpoints:
            try:
                body = CheckpointBody.parse(open_note(checkpoint.note, self.verifier))
            except NoteError as error:
                report.problems.append(Problem(checkpoint.tree_size, f"checkpoint {checkpoint.tree_size}: {error}"))
                continue
            while frontier.size < min(body.size, len(stored)):
                frontier.append(stored[frontier.size])
            if frontier.size != body.size or frontier.root() != body.root:
                # Only what the last good checkpoint covered is proven: the difference lies after it.
                report.problems.append(
                    Problem(proven, f"checkpoint {body.size}: the log's hashes do not give its root")
                )
            else:
                proven = body.size
