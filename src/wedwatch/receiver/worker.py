"""The outbox worker: claim due actions through the safety gate, run them off the request path.

The gate runs in one transaction under a lock every replica takes in turn, so the hourly budget,
the per-target cooldown and the kill switch hold across replicas: the worker reads what the rails
need, and `gate.admit` (pure) admits each action (left `running` for this worker) or finishes it
as `skipped` with the reason, before anything runs. Admitted actions run with a deadline; failures
are retried with backoff up to `max_attempts`. Outcomes are group-committed (`group_commit`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from wedwatch.config import Config
from wedwatch.config.actions import BUILTIN_ACTIONS
from wedwatch.errors import StoreError
from wedwatch.receiver.actions import ACTIONS, ActionContext, ActionFailure
from wedwatch.receiver.gate import Claim, admit, cooldown_applies
from wedwatch.receiver.group_commit import GroupCommit
from wedwatch.receiver.metrics import ReceiverMetrics
from wedwatch.receiver.oncall import FIRING_WINDOW
from wedwatch.store import Store
from wedwatch.store.records import ActionFinish
from wedwatch.store.transaction import Row

__all__ = ["Worker"]

log = logging.getLogger(__name__)


class Worker:
    """Runs the outbox for one receiver process."""

    def __init__(
        self,
        store: Store,
        config: Callable[[], Config],
        session: aiohttp.ClientSession,
        metrics: ReceiverMetrics,
        *,
        worker_id: str,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        poll_seconds: float = 1.0,
        batch: int,
        max_attempts: int,
        backoff_seconds: float,
    ) -> None:
        self.store = store
        self._config = config
        self.session = session
        self.metrics = metrics
        self.worker_id = worker_id
        self._now = now
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self._wake = asyncio.Event()
        self._outcomes = GroupCommit(store)

    def wake(self) -> None:
        """Look at the outbox now (a notification queued something)."""
        self._wake.set()

    async def run(self) -> None:
        """Work until cancelled; a store outage only delays the next round."""
        while True:
            try:
                ran = await self.tick()
            except StoreError as exc:
                log.warning("outbox round failed, will retry: %s", exc)
                ran = 0
            if ran >= self.batch:
                continue  # a full batch: more are probably due, so do not wait for the next poll
            self._wake.clear()
            try:
                async with asyncio.timeout(self.poll_seconds):
                    await self._wake.wait()
            except TimeoutError:
                pass

    async def tick(self) -> int:
        """One round: gate and claim, run what was admitted, check emergency mode. Actions claimed."""
        now = self._now()
        admitted, claimed = await self._claim(now)
        if admitted:
            await asyncio.gather(*(self._execute(row) for row in admitted))
        await self._emergency(self._now())
        return claimed

    async def _claim(self, now: datetime) -> tuple[list[Row], int]:
        config = self._config()
        actions = config.actions
        admitted: list[Row] = []
        lease = max(_timeout(config, a) for a in [*actions.definitions, *BUILTIN_ACTIONS]) + 60
        async with self.store.transaction() as tx:
            await self.store.lock_actions(tx=tx)
            spent = await self.store.count_actions_run_since(now - timedelta(hours=1), tx=tx)
            rows = await self.store.claim_actions(self.worker_id, self.batch, lease, now, tx=tx)
            automation = await self.store.get_automation(tx=tx)
            for row in rows:
                claim = Claim.of(row)
                verdict = admit(claim, actions, automation, spent=spent)
                if verdict.run and cooldown_applies(claim, actions):
                    # Read only when it can change the answer: with no recent run counted, admitted.
                    since = now - timedelta(seconds=actions.cooldown_seconds)
                    recent = await self.store.count_target_actions_since(
                        claim.action, row["target"], since, exclude_id=row["id"], tx=tx
                    )
                    verdict = admit(claim, actions, automation, spent=spent, recent=recent)
                if verdict.run:
                    if claim.spends_budget:
                        spent += 1
                    admitted.append(row)
                    continue
                # Finished at once: the cooldown of the rows gated after it no longer counts it.
                await self.store.finish_action(
                    row["id"], "skipped", {"outcome": verdict.outcome}, verdict.reason, now=now, tx=tx
                )
                self.metrics.action(row["action"], verdict.outcome)
        return admitted, len(rows)

    async def _execute(self, row: Row) -> None:
        config = self._config()
        name = row["action"]
        definition = config.actions.definitions.get(name)
        kind = definition.type if definition is not None else name if name in BUILTIN_ACTIONS else None
        now = self._now()
        if kind is None:
            await self._finish(row, "failed", None, f"no definition for action {name!r}", "failed")
            return
        ctx = ActionContext(
            name=name,
            definition=definition,
            params=row["params"],
            config=config,
            session=self.session,
            store=self.store,
            action_id=int(row["id"]),
            now=now,
        )
        try:
            async with asyncio.timeout(_timeout(config, name)):
                result = await ACTIONS[kind](ctx)
        except (ActionFailure, TimeoutError) as exc:
            retryable = getattr(exc, "retryable", True)
            message = str(exc) or f"no result within {_timeout(config, name):g}s"
            if retryable and row["attempts"] < self.max_attempts:
                delay = self.backoff_seconds * 2 ** (row["attempts"] - 1)
                await self.store.release_action(row["id"], not_before=now + timedelta(seconds=delay), error=message)
                log.warning("action %s (outbox %s) failed, retry in %gs: %s", name, row["id"], delay, message)
                return
            await self._finish(row, "failed", None, message, "failed")
            return
        except Exception as exc:  # an action bug must not stop the worker
            log.exception("action %s (outbox %s) crashed", name, row["id"])
            await self._finish(row, "failed", None, f"{type(exc).__name__}: {exc}", "failed")
            return
        await self._finish(row, "done", dict(result.detail), None, "succeeded", now=self._now())

    async def _finish(
        self, row: Row, status: str, result: dict[str, Any] | None, error: str | None, outcome: str,
        now: datetime | None = None,
    ) -> None:
        await self._outcomes.write(ActionFinish(row["id"], status, now or self._now(), result, error), row["incident_id"])
        self.metrics.action(row["action"], outcome)
        if error:
            log.warning("action %s (outbox %s) %s: %s", row["action"], row["id"], status, error)

    async def _emergency(self, now: datetime) -> None:
        """Leave emergency mode once every emergency incident resolved and the hold time passed."""
        active = await self.store.active_emergency()
        if active is not None:
            hold = self._config().receiver.emergency_hold_seconds
            firing = await self.store.count_firing_emergency_incidents(now - FIRING_WINDOW)
            last_end = await self.store.last_emergency_resolution()
            if firing == 0 and (last_end is None or now >= last_end + timedelta(seconds=hold)):
                closed = await self.store.exit_emergency(
                    exited_at=now, reason=f"every emergency incident resolved and {hold:g}s passed"
                )
                if closed is not None:
                    log.warning("emergency mode left (entered %s)", closed["entered_at"].isoformat())
                active = None
        self.metrics.emergency.set(1 if active is not None else 0)


def _timeout(config: Config, name: str) -> float:
    definition = config.actions.definitions.get(name)
    return float(getattr(definition, "timeout_seconds", 30.0))
