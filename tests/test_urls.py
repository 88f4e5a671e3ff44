"""wedwatch.urls: what a URL looks like in logs and messages."""

from __future__ import annotations

import pytest

from wedwatch.urls import redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://app:hunter2@db:5432/w", "postgresql://app:xxxxx@db:5432/w"),
        ("postgresql://app@db/w", "postgresql://app@db/w"),
        ("sqlite:///wedwatch.db", "sqlite:///wedwatch.db"),
    ],
)
def test_redact_url_hides_password_only(url: str, shown: str) -> None:
    assert redact_url(url) == shown
