"""`log` actions recorded final at decision time, in the ingest transaction.

A `log` action only writes a line, so ingest does not queue it for the worker: it is recorded
done (or skipped, when the kill switch or dry run says so, as the worker's gate would say) in the
same insert as the actions that are queued, and its line is written once the transaction has
committed. A storm of low alerts then costs the worker nothing (issue 16).
"""

from __future__ import annotations

from collections.abc import Sequence

from wedwatch.config.actions import ActionsConfig
from wedwatch.receiver.actions import log as log_action
from wedwatch.receiver.gate import Claim, Verdict, admit
from wedwatch.store import Store
from wedwatch.store.outbox import FinishedAction
from wedwatch.store.records import ActionRow
from wedwatch.store.transaction import Transaction

__all__ = ["record", "outcome", "write"]


async def record(
    store: Store, tx: Transaction, logs: Sequence[tuple[ActionRow, bool]], actions: ActionsConfig
) -> list[FinishedAction]:
    """The `log` actions (row, whether it is its response's only action) as final rows."""
    if not logs:
        return []
    # A `log` is free (no budget, no cooldown): only the switches and dry run can hold it back,
    # and those are the same for every row of the notification.
    automation = await store.get_automation(tx=tx)
    verdicts: dict[str, Verdict] = {}  # by action name: neither target nor budget changes a `log`'s verdict
    finished: list[FinishedAction] = []
    for row, only in logs:
        verdict = verdicts.get(row.action)
        if verdict is None:
            verdict = verdicts[row.action] = admit(
                Claim(row.action, 1, row.target, False), actions, automation, spent=0
            )
        if verdict.run:
            finished.append(FinishedAction(row, "done", log_action.RESULT, completes_response=only))
        else:
            finished.append(FinishedAction(row, "skipped", {"outcome": verdict.outcome}, verdict.reason))
    return finished


def outcome(f: FinishedAction) -> str:
    """The outcome label of a recorded `log` action for wedwatch_receiver_actions_total."""
    return "succeeded" if f.status == "done" else str((f.result or {}).get("outcome", f.status))


def write(finished: Sequence[FinishedAction]) -> None:
    """The lines of the `log` actions recorded done; called once their transaction committed."""
    for f in finished:
        if f.status == "done":
            log_action.write(f.row.params)
