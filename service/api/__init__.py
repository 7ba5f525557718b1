"""HTTP routers under /v1 (plus the unauthenticated probes in ``health``)."""
