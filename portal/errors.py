"""The portal's three cloud errors (portal/error_pages.py turns them into pages).

Gateways raise only these (portal/cloud.py translates SDK and keystoneauth errors):
- NotFound: the resource does not exist or is not visible to this user (404).
- Rejected: the cloud refused the request (4xx: policy, quota, conflict, bad request); the
  message is OpenStack's own reason, shown to the user as it is.
- CloudUnavailable: transient (connection refused, timeout, 5xx); worth retrying later.
SignInRequired is raised when Keystone no longer accepts the session's token.
"""

from __future__ import annotations


class CloudError(Exception):
    status = 500

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message


class NotFound(CloudError):
    status = 404


class Rejected(CloudError):
    status = 400


class CloudUnavailable(CloudError):
    status = 503


class SignInRequired(CloudError):
    status = 401
