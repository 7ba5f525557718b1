"""SQLModel tables of the service, declared once. Import from here: ``from models import Job``."""

from models.tables import (
    ApiKey,
    Cell,
    Correction,
    Document,
    Finding,
    Job,
    JobState,
    PageResult,
    Record,
    Table,
    Tenant,
    WebhookDelivery,
    new_id,
    utcnow,
)

__all__ = [
    "ApiKey",
    "Cell",
    "Correction",
    "Document",
    "Finding",
    "Job",
    "JobState",
    "PageResult",
    "Record",
    "Table",
    "Tenant",
    "WebhookDelivery",
    "new_id",
    "utcnow",
]
