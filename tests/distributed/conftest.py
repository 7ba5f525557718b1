"""Fixtures for egress, webhook and distributed-runner tests.

The network policy fixtures (``egress_guard``, autouse, and ``http_server``) live in
tests/netguard_fixture.py, shared with tests/service.
"""

from __future__ import annotations

from netguard_fixture import egress_guard, http_server

__all__ = ["egress_guard", "http_server"]
