"""API keys: ``Authorization: Bearer KEY``. Only the SHA-256 of a key is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlmodel import Session, select

from models import ApiKey, Tenant, utcnow

KEY_PREFIX = "fk_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: every query is scoped to ``tenant_id``."""

    tenant_id: int
    tenant_name: str
    key_name: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(session: Session, tenant_name: str, key_name: str | None = None) -> tuple[str, ApiKey]:
    """Create (or reuse) the tenant and a new key for it; return the key (shown once) and its row."""
    tenant = session.exec(select(Tenant).where(Tenant.name == tenant_name)).first()
    if tenant is None:
        tenant = Tenant(name=tenant_name)
        session.add(tenant)
        session.flush()
    assert tenant.id is not None
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(tenant_id=tenant.id, name=key_name or tenant_name, key_hash=hash_key(key), prefix=key[:10])
    session.add(row)
    session.flush()
    return key, row


def revoke_key(session: Session, key_id: int) -> tuple[ApiKey | None, bool]:
    """Revoke the key with this id; (its row or None, whether it was active until now)."""
    row = session.get(ApiKey, key_id)
    if row is None:
        return None, False
    if row.revoked_at is not None:
        return row, False
    row.revoked_at = utcnow()
    session.add(row)
    session.flush()
    return row, True


def authenticate(session: Session, authorization: str | None) -> Principal | None:
    """The principal for an ``Authorization`` header value, or None if missing/unknown/revoked."""
    if not authorization:
        return None
    scheme, _, key = authorization.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key or len(key) > 200:
        return None
    found = session.exec(
        select(ApiKey, Tenant).join(Tenant, Tenant.id == ApiKey.tenant_id)  # type: ignore[arg-type]
        .where(ApiKey.key_hash == hash_key(key), ApiKey.revoked_at.is_(None))  # type: ignore[union-attr]
    ).first()
    if found is None:
        return None
    api_key, tenant = found
    assert tenant.id is not None
    return Principal(tenant_id=tenant.id, tenant_name=tenant.name, key_name=api_key.name)
