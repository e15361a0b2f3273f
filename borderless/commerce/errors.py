"""One exception hierarchy for every order and logistics system.

    CommerceError
    ├── OrderNotFound        no order matches the number *and* the contact (also: wrong email)
    ├── TrackingNotFound     the carrier or aggregator does not know this tracking number
    └── BackendError         the system could not answer; the customer is offered a human
        ├── BackendUnavailable   timeout, connection refused, 5xx after retries
        ├── RateLimited          429 after retries
        └── BackendRejected      4xx other than 404/429: bad credentials, bad request

Actions catch ``OrderNotFound`` and ``BackendError`` and never see vendor exceptions.
"""

from __future__ import annotations


class CommerceError(Exception):
    """Base of everything an order or logistics system can raise."""


class OrderNotFound(CommerceError):
    """No order with this number and contact. Deliberately says nothing about which part failed."""


class TrackingNotFound(CommerceError):
    """The logistics system has no record of this tracking number (yet)."""


class BackendError(CommerceError):
    """The backend could not give an answer."""

    def __init__(self, message: str, *, system: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.system = system
        self.status = status


class BackendUnavailable(BackendError):
    """Timeout, refused connection or server error."""


class RateLimited(BackendError):
    """The backend's rate limit held after our retries."""


class BackendRejected(BackendError):
    """The backend refused the request itself (credentials, permissions, malformed request)."""
