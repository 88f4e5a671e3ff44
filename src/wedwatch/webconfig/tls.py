"""`tls_server_config` to a server `ssl.SSLContext`, and a context that picks up a changed file per connection."""

from __future__ import annotations

import functools
import ssl
import tempfile
from collections.abc import Callable
from pathlib import Path

from wedwatch.errors import ConfigError
from wedwatch.webconfig.model import TLSServerConfig

__all__ = ["build_ssl_context", "ReloadingSSLContext", "CIPHER_SUITES"]

_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
_VERIFY = {
    "NoClientCert": ssl.CERT_NONE,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}
# The names Go's crypto/tls gives (tls.CipherSuites()), with their IANA numbers; OpenSSL names the same
# suites differently, so they are matched by number. TLS 1.3's suites are not configurable, in Go either:
# accepted and left to OpenSSL.
CIPHER_SUITES: dict[str, int] = {
    "TLS_RSA_WITH_AES_128_CBC_SHA": 0x002F,
    "TLS_RSA_WITH_AES_256_CBC_SHA": 0x0035,
    "TLS_RSA_WITH_AES_128_GCM_SHA256": 0x009C,
    "TLS_RSA_WITH_AES_256_GCM_SHA384": 0x009D,
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": 0xC009,
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": 0xC00A,
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": 0xC013,
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": 0xC014,
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": 0xC02B,
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": 0xC02C,
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": 0xC02F,
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": 0xC030,
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": 0xCCA8,
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": 0xCCA9,
}
_TLS13_SUITES = frozenset({"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"})
_CURVES = {"CurveP256": "prime256v1", "CurveP384": "secp384r1", "CurveP521": "secp521r1", "X25519": "X25519"}


def build_ssl_context(tls: TLSServerConfig, *, source: str) -> ssl.SSLContext:
    """A server context from an enabled `tls_server_config`; files are read now; errors name the field."""

    def fail(field: str, reason: str) -> ConfigError:
        return ConfigError(reason, source=source, field=f"tls_server_config.{field}")

    for inline, path, name in ((tls.cert, tls.cert_file, "cert"), (tls.key, tls.key_file, "key"),
                               (tls.client_ca, tls.client_ca_file, "client_ca")):  # fmt: skip
        if inline and path:
            raise fail(f"{name}_file", f"set one of {name} or {name}_file, not both")
    if not (tls.cert or tls.cert_file):
        raise fail("cert_file", "missing one of cert or cert_file")
    if not (tls.key or tls.key_file):
        raise fail("key_file", "missing one of key or key_file")
    minimum, maximum = _VERSIONS[tls.min_version], _VERSIONS[tls.max_version]
    if minimum > maximum:
        raise fail("min_version", f"{tls.min_version} is above max_version {tls.max_version}")
    has_ca = bool(tls.client_ca or tls.client_ca_file)
    verify = _VERIFY[tls.client_auth_type]
    if has_ca and verify == ssl.CERT_NONE:
        raise fail(
            "client_auth_type", "a client CA is configured without a client auth policy: set RequireAndVerifyClientCert"
        )
    if verify != ssl.CERT_NONE and not has_ca:
        raise fail("client_ca_file", f"client_auth_type {tls.client_auth_type} needs client_ca_file (or client_ca)")
    if tls.client_allowed_sans is not None and verify == ssl.CERT_NONE:
        raise fail(
            "client_allowed_sans", "needs client_auth_type RequireAndVerifyClientCert (or VerifyClientCertIfGiven)"
        )

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version, context.maximum_version = minimum, maximum
    cert_pem = _pem(tls.cert, tls.cert_file, "cert", fail)
    key_pem = _pem(tls.key, tls.key_file, "key", fail)
    try:
        ssl.create_default_context(cadata=cert_pem)
    except (ssl.SSLError, ValueError) as exc:
        raise fail("cert_file" if tls.cert_file else "cert", f"not a PEM certificate ({_why(exc)})") from exc
    try:
        _load_pair(context, tls, cert_pem, key_pem)
    except ssl.SSLError as exc:
        raise fail(
            "key_file" if tls.key_file else "key",
            f"not the certificate's private key, or not an unencrypted PEM key ({_why(exc)})",
        ) from exc
    if verify != ssl.CERT_NONE:
        ca_pem = _pem(tls.client_ca, tls.client_ca_file, "client_ca", fail)
        try:
            context.load_verify_locations(cadata=ca_pem)
        except (ssl.SSLError, ValueError) as exc:
            raise fail(
                "client_ca_file" if tls.client_ca_file else "client_ca", f"no PEM certificate ({_why(exc)})"
            ) from exc
        context.verify_mode = verify
    if tls.cipher_suites and minimum < ssl.TLSVersion.TLSv1_3:
        _set_ciphers(context, tls.cipher_suites, fail)
    if tls.prefer_server_cipher_suites:
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    else:
        context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    if tls.curve_preferences:
        _set_curve(context, tls.curve_preferences, fail)
    # wedwatch's servers speak HTTP/1.1 only: `http2` is accepted, and clients that offer h2 are told so.
    context.set_alpn_protocols(["http/1.1"])
    return context


def _pem(inline: str | None, path: str | None, name: str, fail: Callable[[str, str], ConfigError]) -> str:
    if inline:
        return inline
    assert path is not None
    try:
        return Path(path).read_text(encoding="ascii")
    except OSError as exc:
        raise fail(f"{name}_file", f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise fail(f"{name}_file", f"{path} is not PEM text") from exc


def _load_pair(context: ssl.SSLContext, tls: TLSServerConfig, cert_pem: str, key_pem: str) -> None:
    # An encrypted key would make OpenSSL ask for its passphrase on the terminal: the empty one fails instead.
    if tls.cert_file and tls.key_file:
        context.load_cert_chain(tls.cert_file, tls.key_file, password="")
        return
    # Inline PEM: ssl loads a chain only from files, so through a private folder that lives for the call.
    with tempfile.TemporaryDirectory(prefix="wedwatch-tls-") as folder:
        cert, key = Path(folder, "cert.pem"), Path(folder, "key.pem")
        cert.write_text(cert_pem)
        key.touch(mode=0o600)
        key.write_text(key_pem)
        context.load_cert_chain(cert, key, password="")


def _set_ciphers(context: ssl.SSLContext, names: list[str], fail: Callable[[str, str], ConfigError]) -> None:
    available = _openssl_names()
    chosen: list[str] = []
    for i, name in enumerate(names):
        if name in _TLS13_SUITES:
            continue
        number = CIPHER_SUITES.get(name)
        if number is None:
            raise fail(
                f"cipher_suites[{i}]", f"unknown cipher {name!r} (expected one of Go's tls.CipherSuites() names)"
            )
        if number not in available:
            raise fail(f"cipher_suites[{i}]", f"{name} is not available in this build of OpenSSL")
        chosen.append(available[number])
    if chosen:
        context.set_ciphers(":".join(chosen))


@functools.cache
def _openssl_names() -> dict[int, str]:
    """{IANA number: OpenSSL name} of every suite this OpenSSL knows."""
    scratch = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    scratch.set_ciphers("ALL:@SECLEVEL=0")
    return {int(c["id"]) & 0xFFFF: str(c["name"]) for c in scratch.get_ciphers()}


def _set_curve(context: ssl.SSLContext, names: list[str], fail: Callable[[str, str], ConfigError]) -> None:
    for i, name in enumerate(names):
        if name not in _CURVES:
            raise fail(f"curve_preferences[{i}]", f"unknown curve {name!r} (expected one of {', '.join(_CURVES)})")
    if len(names) > 1:
        raise fail("curve_preferences", "Python's ssl module sets one curve only: list exactly one")
    context.set_ecdh_curve(_CURVES[names[0]])


def _why(exc: Exception) -> str:
    return str(getattr(exc, "reason", None) or exc)


class ReloadingSSLContext(ssl.SSLContext):
    """A server context whose every new connection is set up by `current()`'s context.

    asyncio (and uvloop) create each connection's TLS object with the listening context's `wrap_bio`;
    delegating it lets a changed web config (certificate, client CA, versions, ciphers) apply to the
    next handshake without a restart, as the exporter-toolkit's GetConfigForClient does.
    """

    _current: Callable[[], ssl.SSLContext]

    @classmethod
    def wrapping(cls, current: Callable[[], ssl.SSLContext]) -> ReloadingSSLContext:
        """A listening context that defers each connection to `current()`."""
        context = cls(ssl.PROTOCOL_TLS_SERVER)
        context._current = current
        return context

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        """The connection's TLS object, made by the context in force now."""
        return self._current().wrap_bio(
            incoming, outgoing, server_side=server_side, server_hostname=server_hostname, session=session
        )
