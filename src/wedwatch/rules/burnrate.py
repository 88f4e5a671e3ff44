"""Multi-window burn-rate alerts for the wedding-day error and availability budgets.

The budgets are for ONE day, not the Google SRE workbook's 30 days, so its windows do not carry over.
The arithmetic (written out again in docs/rules.md):

* Budget: a 99.9 % day allows 0.1 % failure, (1 - 0.999) x 86 400 s = 86.4 s of failure per day.
* Burn rate B = observed error ratio / budget ratio. At B the day's budget lasts 24 h / B, and a
  window W spends B x W / 24 h of it. Everything failing is B = 1 / 0.001 = 1000: 86.4 s.
* The workbook (T = 30 d = 720 h) pages at B = 14.4 over 1 h (14.4 x 1 / 720 = 2 % of the budget)
  and at B = 6 over 6 h (6 x 6 / 720 = 5 %), each confirmed by a short window of 1/12 of the long.
* The same fractions over T = 24 h = 1440 min give long windows of 0.02 x 1440 / 14.4 = 2 min and
  0.05 x 1440 / 6 = 12 min, short windows of 10 s and 1 min. 10 s is shorter than a scrape
  interval (rate() needs two samples), so the windows are raised to what Prometheus can measure:
  short windows never below 1 m (four 15 s scrapes), long windows at least 5 x their short one.
* Result, sharing the 1m / 5m / 30m windows the recording rules compute anyway:
    critical: B > 14.4 over 5m and 1m, for 2m -> 14.4 x 5 / 1440 = 5 % of the budget (4.3 s) is
              spent in the long window; at that rate the budget is gone in 1440 / 14.4 = 100 min.
    high:     B > 6 over 30m and 5m, for 5m   -> 6 x 30 / 1440 = 12.5 % (10.8 s) spent; gone in 4 h.
* A full outage (B = 1000) crosses 14.4 in the 5m window after 5 m x 14.4 / 1000 = 4.3 s, so the
  page comes after `for` plus scrape and evaluation delay. The 86.4 s budget itself is already
  gone by then: with a one-day budget the alert's job is to page while the wedding still runs,
  not to save the budget. `for` keeps one failed probe of a single ceremony (1 of 6 per minute)
  from paging: it holds the 1m window above 14.4 for only one minute.
"""

from __future__ import annotations

from dataclasses import dataclass

from wedwatch.config.model import Config
from wedwatch.errors import ConfigError
from wedwatch.rules.names import operation_error_ratio, wedding_availability, window_seconds
from wedwatch.rules.shapes import AlertingRule, alert_rule, human_seconds, num, percent

__all__ = ["BurnWindow", "BURN_WINDOWS", "BUDGET_PERIOD_SECONDS", "burn_rate_alerts"]

BUDGET_PERIOD_SECONDS = 86_400


@dataclass(frozen=True)
class BurnWindow:
    """One multi-window pair: fire when both windows burn faster than `burn_rate`."""

    severity: str
    burn_rate: float
    long: str
    short: str
    for_: str

    def budget_spent(self) -> float:
        """Fraction of the day's budget the long window has spent when the alert can fire."""
        return self.burn_rate * window_seconds(self.long) / BUDGET_PERIOD_SECONDS

    def exhaustion_seconds(self) -> float:
        """How long the whole day's budget lasts at exactly this burn rate."""
        return BUDGET_PERIOD_SECONDS / self.burn_rate


BURN_WINDOWS: tuple[BurnWindow, ...] = (
    BurnWindow(severity="critical", burn_rate=14.4, long="5m", short="1m", for_="2m"),
    BurnWindow(severity="high", burn_rate=6, long="30m", short="5m", for_="5m"),
)

ERROR_BUDGET_ALERT = "WedwatchWeddingDayErrorBudgetBurn"
AVAILABILITY_BUDGET_ALERT = "WedwatchWeddingAvailabilityBudgetBurn"


def _budget(ratio: float, field: str) -> float:
    # A 100 % objective has no budget to burn; a burn rate would divide by zero.
    if ratio <= 0:
        raise ConfigError("leaves no error budget for burn-rate alerts", field=field)
    return ratio


def burn_rate_alerts(config: Config, runbook_base_url: str) -> list[AlertingRule]:
    """Burn-rate alerts: per operation in tier wedding_day and per tracked wedding on its day."""
    guarantees = config.thresholds.wedding_day
    error_budget = _budget(guarantees.error_ratio, "thresholds.wedding_day.error_ratio")
    availability_budget = _budget(1 - guarantees.availability, "thresholds.wedding_day.availability")
    rules: list[AlertingRule] = []
    for w in BURN_WINDOWS:
        rules.append(_operation_alert(w, error_budget, runbook_base_url))
    for w in BURN_WINDOWS:
        rules.append(_wedding_alert(w, availability_budget, guarantees.availability, runbook_base_url))
    return rules


def _consequence(w: BurnWindow, budget: float) -> str:
    spent = w.budget_spent()
    return (
        f"At {num(w.burn_rate)}x the day's budget ({human_seconds(budget * BUDGET_PERIOD_SECONDS)} of failure)"
        f" lasts {human_seconds(w.exhaustion_seconds())}; {percent(spent)} of it is spent in {w.long}."
    )


def _operation_alert(w: BurnWindow, budget: float, runbook_base_url: str) -> AlertingRule:
    def burn(window: str) -> str:
        return f'{operation_error_ratio(window)}{{tier="wedding_day"}} / {num(budget)} > {num(w.burn_rate)}'

    return alert_rule(
        name=ERROR_BUDGET_ALERT,
        expr=f"(\n  {burn(w.long)}\n)\nand\n(\n  {burn(w.short)}\n)",
        for_=w.for_,
        severity=w.severity,
        summary=f"{{{{ $labels.operation }}}} burns the wedding-day error budget over {num(w.burn_rate)}x",
        description=(
            f"In tier wedding_day, {{{{ $labels.operation }}}} probe failures over the last {w.long} burn the"
            f" {percent(budget)} daily error budget at {{{{ $value | humanize }}}}x the sustainable rate"
            f" (and above {num(w.burn_rate)}x over {w.short}). {_consequence(w, budget)}"
        ),
        runbook_base_url=runbook_base_url,
    )


def _wedding_alert(w: BurnWindow, budget: float, objective: float, runbook_base_url: str) -> AlertingRule:
    def burn(window: str) -> str:
        return f"(1 - {wedding_availability(window)}) / {num(budget)} > {num(w.burn_rate)}"

    # `and on (wedding_id)` with the info metric limits the alert to weddings on their day;
    # `and` is a set operation, so duplicate info series from several shards cannot break it.
    return alert_rule(
        name=AVAILABILITY_BUDGET_ALERT,
        expr=(
            f"(\n  {burn(w.long)}\n)\nand\n(\n  {burn(w.short)}\n)\n"
            'and on (wedding_id)\n  wedwatch_wedding_info{tier="wedding_day"}'
        ),
        for_=w.for_,
        severity=w.severity,
        summary=(
            f"Wedding {{{{ $labels.wedding_id }}}}: {{{{ $labels.operation }}}} burns its"
            f" {percent(objective)} availability budget over {num(w.burn_rate)}x"
        ),
        description=(
            f"On its wedding day, wedding {{{{ $labels.wedding_id }}}} lost {{{{ $labels.operation }}}}"
            f" availability over the last {w.long} at {{{{ $value | humanize }}}}x the rate its {percent(objective)}"
            f" objective allows (and above {num(w.burn_rate)}x over {w.short}). {_consequence(w, budget)}"
        ),
        runbook_base_url=runbook_base_url,
    )
