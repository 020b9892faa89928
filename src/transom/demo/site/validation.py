"""The rules for what users type, shared by the forms and the JSON API.

Each check returns a dict of field name -> message; empty when all is well.
"""

from __future__ import annotations

from transom.web import FormData, UploadFile

__all__ = [
    "MAX_BODY",
    "MAX_TITLE",
    "MIN_PASSWORD",
    "field",
    "note_errors",
    "password_errors",
    "registration_errors",
    "upload_of",
]

MAX_TITLE = 200
MAX_BODY = 20_000
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
MAX_USERNAME = 150


def field(form: FormData, name: str) -> str:
    """The text of a form field; ``""`` when absent (or a file where text belongs)."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def upload_of(form: FormData, name: str) -> UploadFile | None:
    """The file sent in ``name``; ``None`` when the user chose none.

    A browser sends an empty part with an empty filename for a file input
    left blank.
    """
    value = form.get(name)
    if isinstance(value, UploadFile) and (value.filename or value.size):
        return value
    return None


def note_errors(title: str, body: str) -> dict[str, str]:
    errors = {}
    if not title.strip():
        errors["title"] = "A note needs a title."
    elif len(title) > MAX_TITLE:
        errors["title"] = f"A title has at most {MAX_TITLE} characters."
    if len(body) > MAX_BODY:
        errors["body"] = f"A note has at most {MAX_BODY} characters."
    return errors


def registration_errors(username: str, password: str, password2: str) -> dict[str, str]:
    errors = {}
    if not username.strip():
        errors["username"] = "Choose a username."
    elif len(username.strip()) > MAX_USERNAME:
        errors["username"] = f"A username has at most {MAX_USERNAME} characters."
    errors.update(password_errors(password, password2))
    return errors


def password_errors(
    password: str, password2: str, name: str = "password", name2: str = "password2"
) -> dict[str, str]:
    """A new password and its repetition, as fields ``name`` and ``name2``."""
    if len(password) < MIN_PASSWORD:
        return {name: f"A password has at least {MIN_PASSWORD} characters."}
    if len(password) > MAX_PASSWORD:
        return {name: f"A password has at most {MAX_PASSWORD} characters."}
    if password != password2:
        return {name2: "The two passwords differ."}
    return {}
