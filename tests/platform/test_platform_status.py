"""The live critical-path status (src/wedwatch/platform/status.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from platform_fakes import AddFault, Client, FakeClock, calendar_weddings

from wedwatch.calendar import Wedding
from wedwatch.platform import live_status

LARGE: Wedding = calendar_weddings()[1]  # 400 guests, 12 vendors
CEREMONY = LARGE.ceremony_utc


def at(**offset: float) -> datetime:
    return CEREMONY + timedelta(**offset)


def test_nobody_checks_in_before_doors_open() -> None:
    assert live_status(LARGE, at(days=-3)).guests_checked_in == 0
    assert live_status(LARGE, at(hours=-2, seconds=-1)).guests_checked_in == 0


def test_check_in_rises_over_the_two_hours_before_the_ceremony() -> None:
    counts = [live_status(LARGE, at(minutes=m)).guests_checked_in for m in range(-120, 1, 10)]
    assert counts[0] == 0
    assert counts == sorted(counts)
    assert 0 < counts[6] < counts[-1]  # one hour in: partly arrived
    # Most but not all guests come, and the count holds after the ceremony.
    assert 0.85 * LARGE.guests <= counts[-1] < LARGE.guests
    assert live_status(LARGE, at(hours=3)).guests_checked_in == counts[-1]


def test_vendors_confirm_as_the_day_nears() -> None:
    confirmed = [live_status(LARGE, at(days=-d)).vendors_confirmed for d in (90, 30, 7, 1, 0)]
    assert confirmed == sorted(confirmed)
    assert confirmed[0] == 0
    assert confirmed[1] < LARGE.vendors
    assert confirmed[-1] == LARGE.vendors == live_status(LARGE, at(hours=-2)).vendors_booked


def test_next_milestone_walks_through_the_day() -> None:
    before = live_status(LARGE, at(days=-10)).next_milestone
    assert before is not None
    assert (before.name, before.delay_seconds) == ("vendor_setup", 0.0)
    during = live_status(LARGE, at(minutes=-30)).next_milestone
    assert during is not None and during.name == "ceremony"
    assert during.scheduled_at == CEREMONY
    # On the day the plan slips a little, and later milestones slip at least as much.
    late = live_status(LARGE, at(hours=3)).next_milestone
    assert late is not None and late.name == "first_dance"
    assert late.delay_seconds >= during.delay_seconds > 0
    assert live_status(LARGE, at(days=2)).next_milestone is None


def test_status_is_deterministic_per_wedding_and_seed() -> None:
    now = at(minutes=-45)
    assert live_status(LARGE, now) == live_status(LARGE, now)
    small = calendar_weddings()[0]
    assert live_status(LARGE, now, seed=1) != live_status(LARGE, now, seed=0)
    assert live_status(small, now).wedding_id == "w-small"


def test_incidents_report_the_age_of_the_oldest() -> None:
    now = at(minutes=-10)
    status = live_status(LARGE, now, incidents_opened_at=[now - timedelta(seconds=90), now - timedelta(seconds=30)])
    assert (status.open_incidents, status.incident_response_seconds) == (2, 90.0)
    quiet = live_status(LARGE, now)
    assert (quiet.open_incidents, quiet.incident_response_seconds) == (0, 0.0)


async def test_status_endpoint_shape(client: Client, clock: FakeClock) -> None:
    clock.now = at(minutes=-60)
    response = await client.get("/api/weddings/w-large/status")
    assert response.status == 200
    body = await response.json()
    assert body["phase"] == "ceremony"
    assert body["guests_expected"] == 400
    assert 0 < body["guests_checked_in"] < 400
    assert body["vendors_booked"] == 12
    assert set(body["next_milestone"]) == {"name", "scheduled_at", "delay_seconds"}
    assert body["next_milestone"]["name"] == "ceremony"
    assert (body["open_incidents"], body["incident_response_seconds"]) == (0, 0.0)


async def test_critical_path_fault_pushes_delay_and_incidents(
    client: Client, clock: FakeClock, add_fault: AddFault
) -> None:
    clock.now = at(minutes=-60)
    before = await (await client.get("/api/weddings/w-large/status")).json()
    await add_fault(operation="critical_path", wedding_id="w-large", milestone_delay_seconds=900, open_incidents=2)
    clock.advance(120)
    after = await (await client.get("/api/weddings/w-large/status")).json()
    assert after["next_milestone"]["delay_seconds"] == before["next_milestone"]["delay_seconds"] + 900
    assert (after["open_incidents"], after["incident_response_seconds"]) == (2, 120.0)
    untouched = await (await client.get("/api/weddings/w-small/status")).json()
    assert untouched["open_incidents"] == 0


@pytest.mark.parametrize("minutes", [-121, -120, -60, 0, 359, 360])
def test_phase_matches_the_calendar(minutes: int) -> None:
    from wedwatch.calendar import phase_at

    now = at(minutes=minutes)
    assert live_status(LARGE, now).phase == phase_at(LARGE, now).value
