"""The errors of user stores, under ``TransomError``.

::

    TransomError
    └── AuthError                       a user-store operation was refused
        ├── InvalidUsername (ValueError)     empty, too long, or with control characters
        ├── InvalidPassword (ValueError)     empty or longer than MAX_PASSWORD_LENGTH
        ├── UserExists (ValueError)          ``create`` with a name already taken
        └── UnknownUser (LookupError)        no user with that id

A wrong password is not an error: ``authenticate`` returns ``None``.
"""

from __future__ import annotations

from transom.exceptions import TransomError

__all__ = ["AuthError", "InvalidPassword", "InvalidUsername", "UnknownUser", "UserExists"]


class AuthError(TransomError):
    """A user-store operation was refused; the message says why."""


class InvalidUsername(AuthError, ValueError):
    """A username that is empty, too long or holds control characters."""


class InvalidPassword(AuthError, ValueError):
    """A password that is empty or too long to hash."""


class UserExists(AuthError, ValueError):
    """``create`` was given a username another user has (compared case-insensitively)."""


class UnknownUser(AuthError, LookupError):
    """No user has the id given (deleted, or never created)."""
