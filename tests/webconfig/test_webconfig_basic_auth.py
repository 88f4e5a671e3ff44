"""basic_auth_users: bcrypt verification, the cache, and an unknown user that costs as much as a known one."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest
from tls_files import bcrypt_hash

from wedwatch.webconfig import BasicAuth, WebConfigSource, parse_basic
from wedwatch.webconfig import basic_auth as basic_auth_module
from wedwatch.webconfig.model import BCRYPT_HASH
from wedwatch.webconfig.source import ActiveWebConfig


def header(user: str, password: str | bytes) -> str:
    raw = password if isinstance(password, bytes) else password.encode()
    return "Basic " + base64.b64encode(user.encode() + b":" + raw).decode()


def active(tmp_path: Path, users: dict[str, str]) -> ActiveWebConfig:
    path = tmp_path / "web.yml"
    path.write_text("basic_auth_users:\n" + "".join(f"  {u}: '{h}'\n" for u, h in users.items()))
    return WebConfigSource(path).current()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (header("alice", "pw"), ("alice", b"pw")),
        ("basic " + base64.b64encode(b"alice:p:w").decode(), ("alice", b"p:w")),  # the first colon splits
        (header("", ""), ("", b"")),
        (None, None),
        ("", None),
        ("Bearer abc", None),
        ("Basic not*base64", None),
        ("Basic " + base64.b64encode(b"no-colon").decode(), None),
        ("Basic " + base64.b64encode(b"\xff:pw").decode(), None),
    ],
)
def test_parse_basic(value: str | None, expected: tuple[str, bytes] | None) -> None:
    assert parse_basic(value) == expected


async def test_right_and_wrong_passwords_and_a_cache_of_right_ones(tmp_path: Path) -> None:
    config = active(tmp_path, {"alice": bcrypt_hash("correct horse")})
    auth = BasicAuth()
    assert await auth.check(header("alice", "correct horse"), config) == "alice"
    assert auth.verifications == 1
    for _ in range(3):
        assert await auth.check(header("alice", "correct horse"), config) == "alice"
    assert auth.verifications == 1  # remembered
    for _ in range(2):
        assert await auth.check(header("alice", "wrong"), config) is None
    assert auth.verifications == 3  # failures are checked every time, never remembered
    assert await auth.check(None, config) is None
    assert auth.verifications == 3


async def test_a_changed_hash_is_not_served_from_the_cache(tmp_path: Path) -> None:
    auth = BasicAuth()
    old = active(tmp_path, {"alice": bcrypt_hash("old")})
    assert await auth.check(header("alice", "old"), old) == "alice"
    new = active(tmp_path, {"alice": bcrypt_hash("new")})
    assert await auth.check(header("alice", "old"), new) is None
    assert await auth.check(header("alice", "new"), new) == "alice"


async def test_the_cache_is_bounded(tmp_path: Path) -> None:
    auth = BasicAuth(cache_size=2)
    config = active(tmp_path, {u: bcrypt_hash(u) for u in ("a", "b", "c")})
    for user in ("a", "b", "c"):
        await auth.check(header(user, user), config)
    assert len(auth._cache) == 2
    await auth.check(header("a", "a"), config)  # the oldest was dropped: verified again
    assert auth.verifications == 4


async def test_an_unknown_user_costs_a_bcrypt_run_of_the_highest_cost_in_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = active(tmp_path, {"alice": bcrypt_hash("pw", cost=4), "bob": bcrypt_hash("pw", cost=6)})
    match = BCRYPT_HASH.match(config.dummy_hash)
    assert match is not None and match["cost"] == "06"
    checked: list[str] = []
    real = basic_auth_module._checkpw

    def spy(password: bytes, hashed: str) -> bool:
        checked.append(hashed)
        return real(password, hashed)

    monkeypatch.setattr(basic_auth_module, "_checkpw", spy)
    auth = BasicAuth()
    assert await auth.check(header("mallory", "pw"), config) is None
    assert checked == [config.dummy_hash]
    assert await auth.check(header("mallory", "pw"), config) is None  # never remembered either
    assert checked == [config.dummy_hash] * 2


async def test_unknown_and_known_users_take_about_as_long(tmp_path: Path) -> None:
    # Cost 8 (~20 ms) against scheduling noise of a millisecond or two: the unknown user's time must
    # be of the same order, not the microseconds a dictionary miss takes.
    config = active(tmp_path, {"alice": bcrypt_hash("pw", cost=8)})
    auth = BasicAuth()

    async def took(value: str) -> float:
        start = time.perf_counter()
        await auth.check(value, config)
        return time.perf_counter() - start

    known = min([await took(header("alice", "wrong")) for _ in range(3)])
    unknown = min([await took(header("mallory", "wrong")) for _ in range(3)])
    assert unknown > 0.5 * known, (known, unknown)


async def test_a_password_longer_than_72_bytes_is_cut_as_go_and_htpasswd_do(tmp_path: Path) -> None:
    long = "p" * 72
    config = active(tmp_path, {"alice": bcrypt_hash(long)})
    auth = BasicAuth()
    assert await auth.check(header("alice", long + "ignored"), config) == "alice"
    assert await auth.check(header("alice", long[:-1]), config) is None
