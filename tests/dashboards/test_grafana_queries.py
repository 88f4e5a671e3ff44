"""tests/grafana_queries.py, the tests' stand-in for Grafana: variables replaced and SQL macros expanded as Grafana does."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from grafana_queries import expand_sql_macros, substitute_variables

_START = datetime(2027, 6, 12, 12, 0, tzinfo=UTC)
_END = datetime(2027, 6, 12, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("sql", "expanded"),
    [
        ("WHERE $__timeFilter(t)", "WHERE t BETWEEN '2027-06-12T12:00:00Z' AND '2027-06-12T18:00:00Z'"),
        (
            "WHERE $__timeFilter((p->>'ds')::timestamptz)",
            "WHERE (p->>'ds')::timestamptz BETWEEN '2027-06-12T12:00:00Z' AND '2027-06-12T18:00:00Z'",
        ),
        ("SELECT $__timeGroupAlias(t, '5m'), 1", 'SELECT floor(extract(epoch from t)/300)*300 AS "time", 1'),
        ("SELECT $__timeGroup(t, 1h)", "SELECT floor(extract(epoch from t)/3600)*3600"),
        ("$__timeFrom() < $__timeTo()", "'2027-06-12T12:00:00Z' < '2027-06-12T18:00:00Z'"),
        ("SELECT $__time(t), ')'", "SELECT t AS \"time\", ')'"),
    ],
)
def test_sql_macros_expand_as_grafana_does(sql: str, expanded: str) -> None:
    assert expand_sql_macros(sql, _START, _END) == expanded


def test_unknown_variables_and_macros_are_errors() -> None:
    with pytest.raises(KeyError, match="nope"):
        substitute_variables('x{a="$nope"}', {})
    with pytest.raises(ValueError, match="unsupported"):
        expand_sql_macros("$__unixEpochFilter(t)", _START, _END)
    assert substitute_variables("${a}-[[a]]-$a", {"a": "1"}) == "1-1-1"
