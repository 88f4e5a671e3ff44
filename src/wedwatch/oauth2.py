"""OAuth2 client-credentials tokens (RFC 6749 section 4.4) for the probes: fetched once, shared, renewed early.

Timing, all by the injected clock:

- A token is renewed when less than max(10 s, 10 % of its lifetime) remains, capped at half its
  lifetime so that a very short-lived token is not fetched back to back. A token without
  `expires_in` is assumed to live 300 s (renewed after 270 s): servers that omit it usually issue
  tokens for an hour or more, and 300 s bounds how long a revoked one would be sent.
- While a still-valid token is being renewed, callers keep getting it at once (the renewal runs in
  the background); only callers without a usable token wait, all for the same request.
- After a failed fetch the endpoint is left alone for 1 s, doubling up to 60 s: callers meanwhile
  get the old token while it lasts, otherwise the same `TokenError` at once.

The lifetime counts from the moment the request was sent, so it never outlasts the server's.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlsplit, urlunsplit

import aiohttp

from wedwatch.config.platform_auth import OAuth2Config
from wedwatch.errors import WedwatchError
from wedwatch.httpio import read_capped

__all__ = ["TokenSource", "TokenError"]

log = logging.getLogger(__name__)

_MAX_BODY_BYTES = 64 * 1024  # a token answer is a few kB even with a large JWT
_DEFAULT_LIFETIME_SECONDS = 300.0
_MIN_MARGIN_SECONDS = 10.0
_MARGIN_RATIO = 0.1
_FIRST_BACKOFF_SECONDS = 1.0
_MAX_BACKOFF_SECONDS = 60.0
_MAX_DESCRIPTION_CHARS = 200


class TokenError(WedwatchError, RuntimeError):
    """No token could be obtained; the message names the endpoint, never a secret."""

    def __init__(self, message: str, *, status: int | None = None, error: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error

    def _again(self) -> TokenError:
        # Every caller gets its own instance: re-raising a shared one grows its traceback forever.
        copy = TokenError(str(self), status=self.status, error=self.error)
        copy.__cause__ = self.__cause__
        return copy


@dataclass(frozen=True)
class _Token:
    value: str
    header: str
    renew_at: float
    expires_at: float


@dataclass(frozen=True)
class _Answer:
    status: int
    body: Any  # the parsed JSON, or None when the body is not JSON

    @property
    def error(self) -> str | None:
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return error if isinstance(error, str) and error else None

    @property
    def rejects_client(self) -> bool:
        """The server refused this way of authenticating the client (RFC 6749 section 5.2)."""
        return self.status == 401 or (self.status == 400 and self.error == "invalid_client")


class TokenSource:
    """One shared client-credentials token for every probe; call `aclose()` before the session closes."""

    def __init__(
        self,
        config: OAuth2Config,
        session: aiohttp.ClientSession,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._session = session
        self._clock = clock
        self._url = _display_url(config.token_url)
        self._basic = _basic_credentials(config.client_id, config.client_secret.get_secret_value())
        self._token: _Token | None = None
        self._fetching: asyncio.Task[_Token | TokenError] | None = None
        self._failure: TokenError | None = None
        self._retry_at = 0.0
        self._backoff = 0.0
        self._in_body = False  # RFC 6749 section 2.3.1: servers MUST support Basic, so try it first
        self._closed = False

    async def authorization(self) -> str:
        """The `Authorization` header value for a platform request, e.g. `Bearer eyJ…`."""
        if self._closed:
            raise TokenError(f"token endpoint {self._url}: the token source is closed")
        now = self._clock()
        token = self._token
        if token is not None and now < token.renew_at:
            return token.header
        usable = token if token is not None and now < token.expires_at else None
        if self._fetching is None:
            if self._failure is not None and now < self._retry_at:
                if usable is not None:
                    return usable.header
                raise self._failure._again()
            self._fetching = asyncio.create_task(self._fetch(), name="wedwatch-oauth2-token")
        if usable is not None:
            return usable.header
        # shield: a caller that gives up (its probe's deadline) does not cancel the others' fetch.
        outcome = await asyncio.shield(self._fetching)
        if isinstance(outcome, TokenError):
            raise outcome._again()
        return outcome.header

    def secrets(self) -> tuple[str, ...]:
        """The strings a debug output must redact: client secret, its Basic encoding, current token."""
        found = [self._config.client_secret.get_secret_value(), self._basic]
        if self._token is not None:
            found.append(self._token.value)
        return tuple(s for s in found if s)

    async def aclose(self) -> None:
        """Cancel a fetch in flight; later calls raise `TokenError`."""
        self._closed = True
        fetching, self._fetching = self._fetching, None
        if fetching is not None:
            fetching.cancel()
            await asyncio.gather(fetching, return_exceptions=True)

    async def _fetch(self) -> _Token | TokenError:
        # Runs as one task per fetch; it returns its failure instead of raising it, so that no
        # "exception was never retrieved" remains when no caller waited for a background renewal.
        started = self._clock()
        try:
            async with asyncio.timeout(self._config.timeout_seconds):
                token = await self._exchange(started)
        except TokenError as exc:
            return self._failed(exc)
        except TimeoutError as exc:
            return self._failed(self._error(f"no answer within {self._config.timeout_seconds:g} s"), exc)
        except (aiohttp.ClientError, OSError, ValueError, RuntimeError) as exc:  # RuntimeError: session closed
            return self._failed(self._error(f"{type(exc).__name__}: {exc}"), exc)
        finally:
            self._fetching = None
        self._token, self._failure, self._backoff = token, None, 0.0
        log.debug("token endpoint %s: new token, renewed in %.0f s", self._url, token.renew_at - self._clock())
        return token

    def _failed(self, error: TokenError, cause: BaseException | None = None) -> TokenError:
        if cause is not None:
            error.__cause__ = cause
        self._backoff = min(self._backoff * 2, _MAX_BACKOFF_SECONDS) if self._backoff else _FIRST_BACKOFF_SECONDS
        self._retry_at = self._clock() + self._backoff
        self._failure = error
        log.warning("%s (next try in %g s)", error, self._backoff)
        return error

    async def _exchange(self, started: float) -> _Token:
        answer = await self._post(in_body=self._in_body)
        if answer.rejects_client:
            # Some servers accept only one of the two ways (RFC 6749 section 2.3.1); try the other
            # once and keep whichever worked for the next fetches.
            retry = await self._post(in_body=not self._in_body)
            if 200 <= retry.status < 300:
                self._in_body = not self._in_body
            elif retry.rejects_client:
                raise self._refusal(retry, note="both HTTP Basic and form-body client authentication refused")
            answer = retry
        if not 200 <= answer.status < 300:
            raise self._refusal(answer)
        return self._token_from(answer, started)

    async def _post(self, *, in_body: bool) -> _Answer:
        form = {"grant_type": "client_credentials"}
        if self._config.scopes:
            form["scope"] = " ".join(self._config.scopes)
        if self._config.audience is not None:
            form["audience"] = self._config.audience
        headers = {"Accept": "application/json"}
        if in_body:
            form["client_id"] = self._config.client_id
            form["client_secret"] = self._config.client_secret.get_secret_value()
        else:
            headers["Authorization"] = f"Basic {self._basic}"
        timeout = aiohttp.ClientTimeout(total=self._config.timeout_seconds)  # not the session's default
        async with self._session.post(self._config.token_url, data=form, headers=headers, timeout=timeout) as response:
            raw = await read_capped(response.content, _MAX_BODY_BYTES)
            status = response.status
        if len(raw) > _MAX_BODY_BYTES:
            raise self._error(f"HTTP {status}, answer larger than {_MAX_BODY_BYTES} bytes", status=status)
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            body = None
        return _Answer(status, body)

    def _token_from(self, answer: _Answer, started: float) -> _Token:
        body = answer.body
        if not isinstance(body, dict):
            raise self._error(f"HTTP {answer.status}, the answer is not a JSON object", status=answer.status)
        value = body.get("access_token")
        if not isinstance(value, str) or not value:
            raise self._refusal(answer, note="the answer has no access_token")
        token_type = body.get("token_type")
        if not isinstance(token_type, str) or not token_type or token_type.lower() == "bearer":
            token_type = "Bearer"  # case-insensitive (RFC 6749 section 5.1); some servers send "bearer"
        lifetime = _lifetime(body.get("expires_in"))
        margin = min(max(_MIN_MARGIN_SECONDS, _MARGIN_RATIO * lifetime), lifetime / 2)
        return _Token(value, f"{token_type} {value}", started + lifetime - margin, started + lifetime)

    def _refusal(self, answer: _Answer, *, note: str | None = None) -> TokenError:
        parts = [f"HTTP {answer.status}"]
        if answer.error is not None:
            parts.append(_one_line(answer.error))
            description = answer.body.get("error_description")
            if isinstance(description, str) and description.strip():
                parts.append(_one_line(description))
        elif answer.body is None and not 200 <= answer.status < 300:
            parts.append("not an OAuth2 error answer")
        if note:
            parts.append(note)
        return self._error(": ".join(parts), status=answer.status, error=answer.error)

    def _error(self, reason: str, *, status: int | None = None, error: str | None = None) -> TokenError:
        message = f"token endpoint {self._url}: {reason}"
        for secret in self.secrets():
            message = message.replace(secret, "xxxxx")  # a server may echo what it was sent
        return TokenError(message, status=status, error=error)


def _basic_credentials(client_id: str, secret: str) -> str:
    """RFC 6749 section 2.3.1: both form-urlencoded before they are joined and base64-encoded."""
    pair = f"{quote_plus(client_id, safe='')}:{quote_plus(secret, safe='')}"
    return base64.b64encode(pair.encode("utf-8")).decode("ascii")


def _lifetime(expires_in: object) -> float:
    """Seconds the token lives; lenient with what servers send ("3600" as a string, too)."""
    if isinstance(expires_in, bool) or not isinstance(expires_in, int | float | str):
        return _DEFAULT_LIFETIME_SECONDS
    try:
        seconds = float(expires_in)
    except ValueError:
        return _DEFAULT_LIFETIME_SECONDS
    return seconds if math.isfinite(seconds) and seconds > 0 else _DEFAULT_LIFETIME_SECONDS


def _display_url(url: str) -> str:
    """The token URL without credentials, query or fragment, safe for messages and logs."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path, "", ""))


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DESCRIPTION_CHARS else text[: _MAX_DESCRIPTION_CHARS - 1] + "…"
