"""The safety gate as one table: `admit` over what the worker read (the integration tests of the
same rails, through the outbox and a real store, are in test_receiver_safety.py)."""

from __future__ import annotations

from typing import Any

import pytest

from wedwatch.config.actions import ActionsConfig
from wedwatch.receiver.gate import Claim, Verdict, admit, cooldown_applies, switched_off

RAILS = ActionsConfig(hourly_budget=10, cooldown_seconds=300)
SCALE = Claim("scale", attempts=1, target="w-123", emergency=False)
OFF = {"enabled": False, "reason": "vendor maintenance"}
ON = {"enabled": True, "reason": None}
ADMITTED = Verdict(True)
BUDGET = Verdict(False, "skipped", "hourly budget of 10 actions is spent")
COOLDOWN = Verdict(False, "skipped", "cooldown: scale ran on w-123 in the last 300s")
DRY_RUN = Verdict(False, "dry_run", "dry run: decided and recorded, not executed")
CONFIG_OFF = Verdict(False, "skipped", "automation is disabled in the configuration (actions.enabled: false)")
API_OFF = Verdict(False, "skipped", "automation was switched off through the API: vendor maintenance")


def rails(**changes: Any) -> ActionsConfig:
    return RAILS.model_copy(update=changes)


@pytest.mark.parametrize(
    ("claim", "actions", "automation", "spent", "recent", "verdict"),
    [
        # Nothing holds it back.
        (SCALE, RAILS, None, 0, 0, ADMITTED),
        (SCALE, RAILS, ON, 9, 0, ADMITTED),
        # 1. The configuration's kill switch comes first, before everything else.
        (SCALE, rails(enabled=False), OFF, 10, 1, CONFIG_OFF),
        (Claim("log", 1, "w-123", False), rails(enabled=False), None, 0, 0, CONFIG_OFF),
        # 2. The API's kill switch, with its reason (or none given).
        (SCALE, RAILS, OFF, 0, 0, API_OFF),
        (SCALE, RAILS, {"enabled": False, "reason": None}, 0, 0,
         Verdict(False, "skipped", "automation was switched off through the API: no reason given")),
        (Claim("scale", 2, "w-123", False), RAILS, OFF, 0, 0, API_OFF),  # retries too
        # 3. Dry run: decided, recorded, not run; after the kill switches.
        (SCALE, rails(dry_run=True), None, 0, 0, DRY_RUN),
        (Claim("log", 1, None, False), rails(dry_run=True), None, 0, 0, DRY_RUN),
        (SCALE, rails(dry_run=True, enabled=False), None, 0, 0, CONFIG_OFF),
        # 4. `log` is free, and a retry was paid for on its first attempt: no budget, no cooldown.
        (Claim("log", 1, "w-123", False), RAILS, None, 10, 1, ADMITTED),
        (Claim("scale", 2, "w-123", False), RAILS, None, 10, 1, ADMITTED),
        # 5. The hourly budget, before the cooldown; an emergency is not exempt from it.
        (SCALE, RAILS, None, 10, 0, BUDGET),
        (SCALE, RAILS, None, 11, 1, BUDGET),
        (Claim("scale", 1, "w-123", True), RAILS, None, 10, 0, BUDGET),
        # 6. The cooldown per action and target.
        (SCALE, RAILS, None, 0, 1, COOLDOWN),
        (Claim("page", 1, "platform", False), RAILS, None, 0, 3,
         Verdict(False, "skipped", "cooldown: page ran on platform in the last 300s")),
        # ... not for an emergency, not without a target, not when the cooldown is 0.
        (Claim("scale", 1, "w-123", True), RAILS, None, 0, 1, ADMITTED),
        (Claim("scale", 1, None, False), RAILS, None, 0, 1, ADMITTED),
        (SCALE, rails(cooldown_seconds=0), None, 0, 1, ADMITTED),
    ],
)  # fmt: skip
def test_admit(
    claim: Claim, actions: ActionsConfig, automation: dict[str, Any] | None, spent: int, recent: int, verdict: Verdict
) -> None:
    assert admit(claim, actions, automation, spent=spent, recent=recent) == verdict


@pytest.mark.parametrize(
    ("claim", "actions", "applies"),
    [
        (SCALE, RAILS, True),
        (Claim("scale", 1, "w-123", True), RAILS, False),  # an emergency
        (Claim("scale", 1, None, False), RAILS, False),  # no target
        (Claim("scale", 1, "", False), RAILS, False),
        (Claim("log", 1, "w-123", False), RAILS, False),  # free
        (Claim("scale", 2, "w-123", False), RAILS, False),  # a retry
        (SCALE, rails(cooldown_seconds=0), False),
    ],
)
def test_the_worker_reads_recent_runs_only_when_the_cooldown_applies(
    claim: Claim, actions: ActionsConfig, applies: bool
) -> None:
    assert cooldown_applies(claim, actions) is applies
    # Where it does not apply, recent runs cannot change the verdict: the worker need not read them.
    if not applies:
        assert admit(claim, actions, None, spent=0, recent=5) == admit(claim, actions, None, spent=0, recent=0)


def test_claim_of_an_outbox_row() -> None:
    row = {"action": "scale", "attempts": 1, "target": "w-123", "params": {"strategy": "emergency"}}
    assert Claim.of(row) == Claim("scale", 1, "w-123", True)
    assert Claim.of({**row, "params": None}) == Claim("scale", 1, "w-123", False)
    assert Claim.of(row).spends_budget and not Claim.of({**row, "action": "log"}).spends_budget
    assert not Claim.of({**row, "attempts": 2}).spends_budget


@pytest.mark.parametrize(
    ("enabled", "state", "reason"),
    [
        (True, None, None),
        (True, {"enabled": True, "reason": "back"}, None),
        (True, {"enabled": False, "reason": "storm"}, "automation was switched off through the API: storm"),
        (False, {"enabled": True, "reason": None}, "automation is disabled in the configuration (actions.enabled: false)"),
    ],
)
def test_switched_off(enabled: bool, state: dict[str, Any] | None, reason: str | None) -> None:
    assert switched_off(rails(enabled=enabled), state) == reason
