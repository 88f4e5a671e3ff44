"""The safety gate: whether one claimed action runs now, a pure function of what the worker read.

As Alertmanager's dedup stage reads the notification log and then asks `needsUpdate`, the worker
reads under the outbox lock what the rails need (the kill switch, the hour's spend and, when it can
change the answer, the target's recent runs) and then asks `admit`. First match wins:

1. automation off in the configuration (`actions.enabled: false`)   -> skipped
2. automation switched off through the API                          -> skipped, with its reason
3. dry run                                                          -> dry_run (decided, not run)
4. `log`, or a retry (admitted and paid for on its first attempt)   -> admitted
5. the hourly budget spent                                          -> skipped
6. the same action ran on the same target within the cooldown,
   unless this is an emergency (a milder response's cooldown does
   not hold an emergency back)                                      -> skipped
7. otherwise                                                        -> admitted
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from wedwatch.config.actions import ActionsConfig
from wedwatch.store.transaction import Row

__all__ = ["Claim", "Verdict", "admit", "cooldown_applies", "switched_off", "FREE"]

FREE = frozenset({"log"})  # no budget, no cooldown: logging changes nothing

Outcome = Literal["admitted", "skipped", "dry_run"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The gate's answer for one claimed action."""

    run: bool
    outcome: Outcome = "admitted"
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Claim:
    """What the gate looks at in one claimed outbox row."""

    action: str
    attempts: int
    target: str | None
    emergency: bool

    @classmethod
    def of(cls, row: Row) -> Claim:
        """The claim of an outbox row as `claim_actions` returns it."""
        emergency = (row["params"] or {}).get("strategy") == "emergency"
        return cls(row["action"], row["attempts"], row["target"], emergency)

    @property
    def spends_budget(self) -> bool:
        """Whether running it counts against the hourly budget (first attempts of everything but `log`)."""
        return self.action not in FREE and self.attempts == 1


def switched_off(actions: ActionsConfig, automation: Row | None) -> str | None:
    """Why automation is off (the configuration's kill switch, then the API's), or None while it is on."""
    if not actions.enabled:
        return "automation is disabled in the configuration (actions.enabled: false)"
    if automation is not None and not automation["enabled"]:
        return f"automation was switched off through the API: {automation['reason'] or 'no reason given'}"
    return None


def cooldown_applies(claim: Claim, actions: ActionsConfig) -> bool:
    """Whether the per-target cooldown can hold `claim` back (only then are the target's recent runs read)."""
    return actions.cooldown_seconds > 0 and bool(claim.target) and not claim.emergency and claim.spends_budget


def admit(claim: Claim, actions: ActionsConfig, automation: Row | None, *, spent: int, recent: int = 0) -> Verdict:
    """The verdict for `claim`: `spent` actions ran this hour, `recent` runs of it on its target within the cooldown."""
    off = switched_off(actions, automation)
    if off is not None:
        return Verdict(False, "skipped", off)
    if actions.dry_run:
        return Verdict(False, "dry_run", "dry run: decided and recorded, not executed")
    if not claim.spends_budget:
        return Verdict(True)
    if spent >= actions.hourly_budget:
        return Verdict(False, "skipped", f"hourly budget of {actions.hourly_budget} actions is spent")
    if recent and cooldown_applies(claim, actions):
        return Verdict(
            False, "skipped", f"cooldown: {claim.action} ran on {claim.target} in the last {actions.cooldown_seconds:g}s"
        )
    return Verdict(True)
