"""The wedding-day fast path: a live wedding's consecutive bad probes alert in seconds, one bad probe never.

The guarantee alerts (wedding_day.py) judge a 10-minute p95 held for 5 minutes: steady, but a
ceremony is half over before they fire. On the day the exporter probes every 10 s (ceremony) or
15 s (rest of the day), so a few consecutive probes are already strong evidence. These rules look
at the last probes of each live wedding, in a group evaluated every 10 s:

- `wedding_id_operation:wedwatch_probe_breach:last` is 1 when the wedding's last probe of the
  operation failed or took longer than the operation's wedding-day guarantee, else 0;
- an alert needs that to hold at every evaluation of a window of 2.5 probe intervals (25 s in the
  ceremony, 38 s on the rest of the day: three evaluations, which one probe can never fill, as a
  probe is seen by at most two 10 s scrapes) AND at least 3 distinct probes in the last 4.5 probe
  intervals (`changes(wedwatch_probe_timestamp_seconds[45s]) >= 2`). That window holds at least
  four scrapes whatever the lag between Prometheus' scrape of the exporter and its evaluation of
  this group (both every 10 s, at offsets Prometheus derives from hashes): with 25 s a lag above
  5 s left two scrapes in it and the alert never fired (bench/detect.py), and a probe running to a
  10 s deadline, which makes the next one be skipped, ends 20 s after the one before;
  a lone slow or failed probe among good ones never fires; no `for:` on top.

Detection time, from the first bad probe (ceremony, shipped settings): the probe is scraped within
one scrape interval (10 s), the third bad probe lands 20 s after the first and is scraped and
evaluated within 10 s more, then Alertmanager's live route waits `group_wait` (5 s): about 25-40 s.
Weddings further away keep the slower rules only.
"""

from __future__ import annotations

from wedwatch.config.model import Config, Phase
from wedwatch.rules.shapes import AlertingRule, RecordingRule, RuleGroup, alert_rule, num
from wedwatch.rules.wedding_day import guarantee_text, latency_guarantees

__all__ = ["live_groups", "BREACH", "LIVE_EVALUATION_INTERVAL", "CONSECUTIVE_PROBES", "live_window_seconds"]

BREACH = "wedding_id_operation:wedwatch_probe_breach:last"
LIVE_EVALUATION_INTERVAL = "10s"
CONSECUTIVE_PROBES = 3
_LIVE_PHASES = (Phase.CEREMONY, Phase.WEDDING_DAY)


def live_window_seconds(interval: float, *, extra: float = -0.5) -> int:
    """The window of `CONSECUTIVE_PROBES + extra` probe intervals, in whole seconds (rounded up)."""
    return int(-(-(CONSECUTIVE_PROBES + extra) * interval // 1))


def _breach(config: Config) -> RecordingRule:
    slow = "\n  or\n  ".join(
        f"wedwatch_probe_duration_seconds{{{matcher}}} > bool {num(seconds)}" for matcher, seconds in latency_guarantees(config)
    )
    return {
        "record": BREACH,
        "expr": (
            f"clamp_max(\n  (\n  {slow}\n  )\n  + (1 - wedwatch_probe_success),\n  1\n)\n"
            'and on (wedding_id) wedwatch_wedding_info{tier="wedding_day"}'
        ),
    }


def _per_phase(config: Config, condition: str) -> str:
    """`condition` (with WINDOW in it) for each live phase at its own probe interval, joined with `or`."""
    parts = []
    for phase in _LIVE_PHASES:
        interval = config.schedule.intervals[phase]
        window = f"{live_window_seconds(interval)}s"
        probes = f"{live_window_seconds(interval, extra=1.5)}s"
        parts.append(
            "(\n"
            f"  {condition.replace('WINDOW', window)}\n"
            f"  and on (wedding_id, operation) changes(wedwatch_probe_timestamp_seconds[{probes}]) >= {CONSECUTIVE_PROBES - 1}\n"
            f'  and on (wedding_id) wedwatch_wedding_info{{phase="{phase.value}"}}\n'
            ")"
        )
    return "\nor\n".join(parts)


def _slow(config: Config, base: str) -> AlertingRule:
    wedding, op = "{{ $labels.wedding_id }}", "{{ $labels.operation }}"
    return alert_rule(
        name="WedwatchLiveWeddingSlow",
        expr=_per_phase(config, f"min_over_time({BREACH}[WINDOW]) == 1"),
        for_="0s",
        severity="medium",
        summary=f"Wedding {wedding} is live: its last {CONSECUTIVE_PROBES} {op} probes were slow or failed",
        description=(
            f"Wedding {wedding} is on its day and each of its last {CONSECUTIVE_PROBES} {op} probes failed or took"
            f" longer than the wedding-day guarantee of {guarantee_text(config)}."
        ),
        runbook_base_url=base,
        labels={"live": "true"},
    )


def _down(config: Config, base: str) -> AlertingRule:
    wedding, op = "{{ $labels.wedding_id }}", "{{ $labels.operation }}"
    return alert_rule(
        name="WedwatchLiveWeddingDown",
        expr=_per_phase(config, "max_over_time(wedwatch_probe_success[WINDOW]) == 0"),
        for_="0s",
        severity="high",
        summary=f"Wedding {wedding} is live: its last {CONSECUTIVE_PROBES} {op} probes failed",
        description=(
            f"Wedding {wedding} is on its day and its last {CONSECUTIVE_PROBES} {op} probes all failed"
            " (wedwatch_operation_failures_total says why: timeout, connect, http_status, assertion)."
        ),
        runbook_base_url=base,
        labels={"live": "true"},
    )


# The fast error-budget pair, sized for the probe rate. A 2m window holds 12 probes of a ceremony
# operation (every 10 s) and 8 of the rest of the day (every 15 s): one failure among them is at
# most 1/8 = 12.5 % of them, so a threshold of 20 % (200x a 0.1 % budget) is never crossed by a
# single failure, however few weddings are live; 3 failures in 12 are 25 %. The 30s window (three
# 10 s scrapes) confirms the failures are still happening. At 200x the day's budget lasts 7.2 min.
FAST_BURN_RATE = 200
FAST_BURN_LONG = "2m"
FAST_BURN_SHORT = "30s"


def _errors_fast(config: Config, base: str) -> AlertingRule:
    budget = config.thresholds.wedding_day.error_ratio

    def burn(window: str) -> str:
        return (
            f'sum by (operation, tier) (rate(wedwatch_operation_failures_total{{tier="wedding_day"}}[{window}]))\n'
            f'  / sum by (operation, tier) (rate(wedwatch_operation_probes_total{{tier="wedding_day"}}[{window}]))\n'
            f"  / {num(budget)} > {FAST_BURN_RATE}"
        )

    op = "{{ $labels.operation }}"
    return alert_rule(
        name="WedwatchWeddingDayErrorsFast",
        expr=f"(\n  {burn(FAST_BURN_LONG)}\n)\nand\n(\n  {burn(FAST_BURN_SHORT)}\n)",
        for_="0s",
        severity="critical",
        summary=f"{op} fails for weddings on their day: over {FAST_BURN_RATE}x the error budget",
        description=(
            f"In tier wedding_day, {op} probes failed at {{{{ $value | humanize }}}}x the rate the"
            f" {num(budget * 100)} % daily error budget allows over the last {FAST_BURN_LONG} (and over"
            f" {FAST_BURN_SHORT}): at {FAST_BURN_RATE}x the day's budget is gone in"
            f" {num(86400 / FAST_BURN_RATE / 60)} minutes."
        ),
        runbook_base_url=base,
        labels={"live": "true"},
    )


def live_groups(config: Config, runbook_base_url: str) -> list[RuleGroup]:
    """One group, evaluated every 10 s: the breach record first, then the alerts that read it."""
    group: RuleGroup = {
        "name": "wedwatch.live",
        "interval": LIVE_EVALUATION_INTERVAL,
        "rules": [
            _breach(config),
            _slow(config, runbook_base_url),
            _down(config, runbook_base_url),
            _errors_fast(config, runbook_base_url),
        ],
    }
    return [group]


