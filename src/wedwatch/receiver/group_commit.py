"""Group commit of action outcomes: whoever finds no write in flight writes every outcome queued so far.

An outcome is written as soon as no other write of outcomes is in flight, together with every
outcome reported meanwhile (the action's row and, when it is done, its incident's response, in one
transaction). A busy worker so writes many outcomes per commit, and no outcome waits for anything
but the write before it: the window in which a crash makes an action run again (its lease runs
out) is no wider than with one commit per action.
"""

from __future__ import annotations

import asyncio

from wedwatch.store import Store
from wedwatch.store.records import ActionFinish

__all__ = ["GroupCommit"]


class GroupCommit:
    """Writes action outcomes in groups; each writer returns once its own outcome is committed."""

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
