"""The outbox worker: claim due actions through the safety gate, run them off the request path.

The gate runs in one transaction under a lock every replica takes in turn, so the hourly budget,
the per-target cooldown and the kill switch hold across replicas: an action is admitted (left
`running` for this worker), or finished as `skipped` with the reason, before anything runs.
Admitted actions run with a deadline; failures are retried with backoff up to `max_attempts`.

Outcomes are group-committed: an outcome is written as soon as no other write of outcomes is in
flight, together with every outcome reported meanwhile (the action's row and, when it is done,
its incident's response, in one transaction). A busy worker so writes many outcomes per commit,
and no outcome waits for anything but the write before it: the window in which a crash makes an
action run again (its lease runs out) is no wider than with one commit per action.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from wedwatch.config import Config
from wedwatch.errors import StoreError
from wedwatch.receiver.actions import ACTIONS, ActionContext, ActionFailure
from wedwatch.receiver.metrics import ReceiverMetrics
from wedwatch.store import Store
from wedwatch.store.records import ActionFinish
from wedwatch.store.transaction import Row, Transaction

__all__ = ["Worker", "Verdict", "BUILTIN_TYPES"]

log = logging.getLogger(__name__)

# Actions usable without a definition: their type is their name.
BUILTIN_TYPES = frozenset({"log", "scale", "cache_warm"})
_FREE = frozenset({"log"})  # no budget, no cooldown: logging changes nothing


@dataclass(frozen=True, slots=True)
class Verdict:
    """The gate's answer for one claimed action."""

    run: bool
    outcome: str = "admitted"  # or skipped / dry_run
    reason: str = ""


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
        batch: int = 16,
        max_attempts: int = 3,
        backoff_seconds: float = 5.0,
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
        self._outcomes = _GroupCommit(store)

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
        admitted: list[Row] = []
        lease = max(_timeout(config, a) for a in [*config.actions.definitions, *BUILTIN_TYPES]) + 60
        async with self.store.transaction() as tx:
            await self.store.lock_actions(tx=tx)
            spent = await self.store.count_actions_run_since(now - timedelta(hours=1), tx=tx)
            rows = await self.store.claim_actions(self.worker_id, self.batch, lease, now, tx=tx)
            automation = await self.store.get_automation(tx=tx)
            for row in rows:
                verdict = await self._gate(row, config, automation, spent, now, tx)
                if verdict.run:
                    if row["action"] not in _FREE and row["attempts"] == 1:
                        spent += 1
                    admitted.append(row)
                    continue
                # Finished at once: the cooldown of the rows gated after it no longer counts it.
                await self.store.finish_action(
                    row["id"], "skipped", {"outcome": verdict.outcome}, verdict.reason, now=now, tx=tx
                )
                self.metrics.action(row["action"], verdict.outcome)
        return admitted, len(rows)

    async def _gate(
        self, row: Row, config: Config, automation: Row | None, spent: int, now: datetime, tx: Transaction
    ) -> Verdict:
        actions = config.actions
        if not actions.enabled:
            return Verdict(False, "skipped", "automation is disabled in the configuration (actions.enabled: false)")
        if automation is not None and not automation["enabled"]:
            why = automation["reason"] or "no reason given"
            return Verdict(False, "skipped", f"automation was switched off through the API: {why}")
        if actions.dry_run:
            return Verdict(False, "dry_run", "dry run: decided and recorded, not executed")
        if row["action"] in _FREE or row["attempts"] > 1:
            return Verdict(True)  # a retry was admitted (and paid for) on its first attempt
        if spent >= actions.hourly_budget:
            return Verdict(False, "skipped", f"hourly budget of {actions.hourly_budget} actions is spent")
        # An emergency is not held back by a milder response's cooldown on the same target.
        emergency = (row["params"] or {}).get("strategy") == "emergency"
        if actions.cooldown_seconds > 0 and row["target"] and not emergency:
            since = now - timedelta(seconds=actions.cooldown_seconds)
            recent = await self.store.count_target_actions_since(
                row["action"], row["target"], since, exclude_id=row["id"], tx=tx
            )
            if recent:
                return Verdict(
                    False, "skipped", f"cooldown: {row['action']} ran on {row['target']} in the last {actions.cooldown_seconds:g}s"
                )
        return Verdict(True)

    async def _execute(self, row: Row) -> None:
        config = self._config()
        name = row["action"]
        definition = config.actions.definitions.get(name)
        kind = definition.type if definition is not None else name if name in BUILTIN_TYPES else None
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
            # Incidents not re-sent for six hours are stale (Alertmanager re-sends firing alerts).
            firing = await self.store.count_firing_emergency_incidents(now - timedelta(hours=6))
            last_end = await self.store.last_emergency_resolution()
            if firing == 0 and (last_end is None or now >= last_end + timedelta(seconds=hold)):
                closed = await self.store.exit_emergency(
                    exited_at=now, reason=f"every emergency incident resolved and {hold:g}s passed"
                )
                if closed is not None:
                    log.warning("emergency mode left (entered %s)", closed["entered_at"].isoformat())
                active = None
        self.metrics.emergency.set(1 if active is not None else 0)


class _GroupCommit:
    """Writes action outcomes: whoever finds no write in flight writes every outcome queued so far."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._queued: list[tuple[ActionFinish, int | None, asyncio.Future[None]]] = []
        self._writing = asyncio.Lock()

    async def write(self, finish: ActionFinish, incident_id: int | None) -> None:
        """Record the outcome (a done action also completes its incident's response); returns once committed."""
        committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queued.append((finish, incident_id, committed))
        async with self._writing:
            if not committed.done():  # not written by the write that held the lock before
                batch, self._queued = self._queued, []
                await self._commit(batch)
        await committed

    async def _commit(self, batch: list[tuple[ActionFinish, int | None, asyncio.Future[None]]]) -> None:
        completions = [(incident_id, f.finished_at) for f, incident_id, _ in batch if incident_id is not None and f.status == "done"]
        try:
            async with self._store.transaction() as tx:
                await self._store.finish_actions([f for f, _, _ in batch], tx=tx)
                await self._store.complete_response_actions(completions, tx=tx)
        except Exception as exc:
            for _, _, committed in batch:
                committed.set_exception(exc)
        except BaseException:
            for _, _, committed in batch:
                committed.cancel()
            raise
        else:
            for _, _, committed in batch:
                committed.set_result(None)


def _timeout(config: Config, name: str) -> float:
    definition = config.actions.definitions.get(name)
    return float(getattr(definition, "timeout_seconds", 30.0))
