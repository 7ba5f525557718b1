"""Review-page sessions: a signed, expiring, HttpOnly, SameSite=Strict cookie, backed by a row.

The cookie is ``<token>.<expiry>.<hmac>``: the HMAC (FISCALOCR_SESSION_SECRET, or a random key kept
in the data dir) refuses forged or stretched cookies before the database is asked; the row
(only the token's SHA-256 is stored) lets sign-out and key revocation end a session at once.
Every session carries its own CSRF token, which state-changing requests must echo.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, or_
from sqlmodel import Session, col, select

from models import ApiKey, ReviewSession, Tenant, utcnow
from service.auth import Principal, hash_key
from service.db import as_utc
from service.settings import Settings

COOKIE = "fiscalocr_session"
LOGIN_COOKIE = "fiscalocr_login"
COOKIE_PATH = "/review"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
_KEY_FILE = "review-session.key"


@dataclass(frozen=True)
class ReviewPrincipal:
    principal: Principal
    session_id: int
    csrf_token: str


def secret_for(settings: Settings) -> bytes:
    """The signing key: the setting, else a random key created once in the data dir (0600)."""
    if settings.session_secret:
        return settings.session_secret.encode("utf-8")
    path = Path(settings.data_dir) / _KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # O_EXCL: of several processes starting together, one writes the key and all read it
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    except FileExistsError:
        pass
    return path.read_text().strip().encode("utf-8")


def _sign(secret: bytes, message: str) -> str:
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).hexdigest()


def sign_value(secret: bytes, value: str, expires: datetime) -> str:
    message = f"{value}.{int(expires.timestamp())}"
    return f"{message}.{_sign(secret, message)}"


def verify_value(secret: bytes, cookie: str | None, now: datetime | None = None) -> str | None:
    """The signed value if signature and expiry hold, else None."""
    if not cookie or len(cookie) > 300:
        return None
    parts = cookie.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    value, expiry, signature = parts
    if not hmac.compare_digest(_sign(secret, f"{value}.{expiry}"), signature):
        return None
    if int(expiry) <= (now or datetime.now(UTC)).timestamp():
        return None
    return value


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def sign_in(session: Session, settings: Settings, api_key: str) -> tuple[str, datetime] | None:
    """A new session for this API key: (cookie value, expiry), or None if the key is not valid."""
    key = api_key.strip()
    if not key or len(key) > 200:
        return None
    row = session.exec(select(ApiKey).where(ApiKey.key_hash == hash_key(key),
                                            ApiKey.revoked_at.is_(None))).first()  # type: ignore[union-attr]
    if row is None or row.id is None:
        return None
    # Sessions of this key that ended or expired are no longer needed: keep the table small.
    session.execute(delete(ReviewSession).where(
        col(ReviewSession.api_key_id) == row.id,
        or_(col(ReviewSession.expires_at) < utcnow(), col(ReviewSession.ended_at).is_not(None))))
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(seconds=settings.session_ttl_s)
    session.add(ReviewSession(token_hash=_token_hash(token), api_key_id=row.id,
                              csrf_token=secrets.token_urlsafe(32), expires_at=expires))
    session.commit()
    return sign_value(secret_for(settings), token, expires), expires


def resolve(session: Session, settings: Settings, cookie: str | None) -> ReviewPrincipal | None:
    """The signed-in reviewer for a cookie, or None (bad signature, expired, ended, key revoked)."""
    token = verify_value(secret_for(settings), cookie)
    if token is None:
        return None
    found = session.exec(
        select(ReviewSession, ApiKey, Tenant)
        .join(ApiKey, ApiKey.id == ReviewSession.api_key_id)  # type: ignore[arg-type]
        .join(Tenant, Tenant.id == ApiKey.tenant_id)  # type: ignore[arg-type]
        .where(ReviewSession.token_hash == _token_hash(token), ReviewSession.ended_at.is_(None),  # type: ignore[union-attr]
               ApiKey.revoked_at.is_(None))  # type: ignore[union-attr]
    ).first()
    if found is None:
        return None
    row, api_key, tenant = found
    expires = as_utc(row.expires_at)
    if expires is None or expires <= utcnow() or row.id is None or tenant.id is None:
        return None
    return ReviewPrincipal(Principal(tenant_id=tenant.id, tenant_name=tenant.name, key_name=api_key.name),
                           row.id, row.csrf_token)


def sign_out(session: Session, session_id: int) -> None:
    row = session.get(ReviewSession, session_id)
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
        session.add(row)
        session.commit()


def csrf_matches(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode("utf-8"), (given or "").encode("utf-8"))
