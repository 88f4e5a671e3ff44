"""Hourly series: gauges averaged, gaps explicit, counter resets read as Prometheus reads them, outages masked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wedwatch.forecast.series import HourlySeries, floor_hour, from_samples, mask_outages

T0 = datetime(2027, 6, 1, tzinfo=UTC)
H = timedelta(hours=1)


def test_gauge_samples_in_one_hour_are_averaged_and_missing_hours_are_gaps() -> None:
    series = from_samples([(T0, 1.0), (T0 + timedelta(minutes=30), 3.0), (T0 + 3 * H, 5.0), (T0 + H, float("nan"))])
    assert series.start == T0
    assert series.values == (2.0, None, None, 5.0)
    assert series.present() == 2


def test_samples_out_of_order_and_in_other_zones_land_in_their_utc_hour() -> None:
    from zoneinfo import ZoneInfo

    local = (T0 + H).astimezone(ZoneInfo("Asia/Tokyo"))
    assert from_samples([(local, 4.0), (T0, 2.0)]).values == (2.0, 4.0)


def test_counter_increases_per_hour_and_a_decrease_is_a_reset() -> None:
    # 10 -> 15 (+5), restart -> 3 (+3: counted from zero), 3 -> 7 (+4).
    samples = [(T0, 10.0), (T0 + H, 15.0), (T0 + 2 * H, 3.0), (T0 + 3 * H, 7.0)]
    series = from_samples(samples, "counter")
    assert series.start == T0 + H
    assert series.values == (5.0, 3.0, 4.0)


def test_counter_increase_across_a_gap_is_not_attributed_to_one_hour() -> None:
    samples = [(T0, 1.0), (T0 + H, 2.0), (T0 + 5 * H, 40.0), (T0 + 6 * H, 41.0)]
    series = from_samples(samples, "counter")
    assert series.values == (1.0, None, None, None, None, 1.0)


def test_counter_with_scrapes_every_15_seconds_sums_within_the_hour() -> None:
    samples = [(T0 + timedelta(seconds=15 * i), float(i)) for i in range(241)]  # one hour and one scrape
    series = from_samples(samples, "counter")
    assert sum(v for v in series.values if v is not None) == 240.0


def test_mask_outages_hides_a_collapse_but_keeps_ordinary_variation() -> None:
    values: list[float | None] = [10.0 + (i % 24) for i in range(4 * 168)]
    values[2 * 168 + 5] = 0.5  # an outage: 5 % of the usual
    values[2 * 168 + 6] = 9.0  # lower than usual, not an outage
    masked, hidden = mask_outages(HourlySeries(T0, tuple(values)))
    assert hidden == 1
    assert masked.values[2 * 168 + 5] is None
    assert masked.values[2 * 168 + 6] == 9.0


def test_window_pads_with_gaps_and_head_cuts() -> None:
    series = HourlySeries(T0, (1.0, 2.0, 3.0))
    assert series.window(T0 - H, T0 + 4 * H).values == (None, 1.0, 2.0, 3.0, None)
    assert series.head(T0 + 2 * H).values == (1.0, 2.0)
    assert series.end == T0 + 3 * H


def test_start_must_be_an_aware_hour() -> None:
    with pytest.raises(ValueError, match="not the start of a UTC hour"):
        HourlySeries(T0 + timedelta(minutes=5), ())
    with pytest.raises(ValueError, match="naive"):
        floor_hour(datetime(2027, 1, 1))
