"""One exception hierarchy for every order and logistics system.

    CommerceError
    ├── OrderNotFound        no order matches the number *and* the contact (also: wrong email)
    ├── TrackingNotFound     the carrier or aggregator does not know this tracking number
    ├── ChangeRefused        the order exists but cannot take this change (already shipped,
    │                        already cancelled, nothing left to return); ``code`` says why
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


class ChangeRefused(CommerceError):
    """The order system refused a change for a reason the customer can be told.

    ``code`` is one of ``already_fulfilled``, ``already_cancelled``, ``not_delivered``,
    ``nothing_to_return`` or ``unsupported`` (the system has no such operation).
    """

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(message or code)
        self.code = code


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
