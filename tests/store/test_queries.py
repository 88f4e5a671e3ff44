"""Named queries: parsing, placeholder rewriting for psycopg, dialect overrides."""

from __future__ import annotations

import re

import pytest

from wedwatch.errors import StoreError
from wedwatch.store.queries import load_queries, parse_queries, to_pyformat


def test_parse_splits_by_header_and_drops_comments() -> None:
    text = """
-- a file comment
-- name: first
-- what it does
SELECT 1;

-- name: second
SELECT a -- trailing
FROM t WHERE b = '--not a comment';
"""
    assert parse_queries(text, source="t.sql") == {
        "first": "SELECT 1",
        "second": "SELECT a \nFROM t WHERE b = '--not a comment'",
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;", "defined twice"),
        ("SELECT 1;\n-- name: a\nSELECT 2;", "before the first"),
        ("-- name: a\n-- only a comment\n", "is empty"),
    ],
)
def test_parse_rejects_malformed_files(text: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        parse_queries(text, source="t.sql")


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM t WHERE a = :a AND b = :b_2", "SELECT * FROM t WHERE a = %(a)s AND b = %(b_2)s"),
        ("SELECT :x::text", "SELECT %(x)s::text"),
        ("SELECT 5 % 2, :n", "SELECT 5 %% 2, %(n)s"),
        ("SELECT ':not_a_param %' || :p", "SELECT ':not_a_param %%' || %(p)s"),
        ("SELECT 'it''s :x' AS \":y\"", "SELECT 'it''s :x' AS \":y\""),
        ("SELECT now()::date", "SELECT now()::date"),
    ],
)
def test_to_pyformat(sql: str, expected: str) -> None:
    assert to_pyformat(sql) == expected


def test_dialects_share_queries_and_override_only_some() -> None:
    sqlite, postgres = load_queries("sqlite"), load_queries("postgres")
    assert set(sqlite) == set(postgres)
    assert "SKIP LOCKED" in postgres["claim_actions"]
    assert "SKIP LOCKED" not in sqlite["claim_actions"]
    assert sqlite["insert_notification"].count(":dedup_key") == 1
    assert postgres["insert_notification"].count("%(dedup_key)s") == 1
    assert load_queries("sqlite") is sqlite  # parsed once


def test_postgres_queries_keep_no_colon_placeholders() -> None:
    for name, sql in load_queries("postgres").items():
        assert not re.search(r"(?<![:\w]):[A-Za-z_]", sql), name


def test_unknown_names_are_store_errors() -> None:
    with pytest.raises(StoreError, match="no SQL query named 'nope'"):
        load_queries("sqlite")["nope"]
    with pytest.raises(StoreError, match="unknown SQL dialect"):
        load_queries("oracle")
