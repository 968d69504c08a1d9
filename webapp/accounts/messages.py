"""Italian (translatable) wording of the account rules that casefile.accounts enforces by code, and how
account pages show moments."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _

from casefile.accounts import MAX_TOKEN_DAYS, MIN_PASSWORD_LENGTH, AccountError
from casefile.roles import ROLES
from webapp.i18n.labels import LABELS
from webapp.i18n.localtime import format_datetime

# Looked up when shown (not at import) so each message comes out in the reader's language.
MESSAGES: dict[str, Callable[[], str]] = {
    "username_required": lambda: _("Indica il nome utente."),
    "username_invalid": lambda: _("Il nome utente può contenere da 2 a 150 lettere, cifre e i caratteri . _ - @"),
    "username_taken": lambda: _("Questo nome utente è già in uso."),
    "role_required": lambda: _("Scegli almeno un ruolo."),
    "role_unknown": lambda: _("Ruolo sconosciuto."),
    "own_admin_role": lambda: _("Non puoi togliere a te stesso il ruolo di amministratore."),
    "last_admin": lambda: _("Deve restare almeno un amministratore attivo."),
    "own_account": lambda: _("Non puoi disattivare il tuo stesso account."),
    "full_name_too_long": lambda: _("Il nome completo può avere al massimo 300 caratteri."),
    "password_is_username": lambda: _("La password non può essere uguale al nome utente."),
    "password_mismatch": lambda: _("Le due password non coincidono."),
    "password_wrong": lambda: _("La password attuale non è corretta."),
    "token_name": lambda: _("Dai al token un nome (da 1 a 100 caratteri)."),
    "token_unknown": lambda: _("Token non trovato."),
    "org_key_invalid": lambda: _("La chiave può contenere da 2 a 100 lettere minuscole, cifre, - e _."),
    "org_key_taken": lambda: _("Esiste già un ente con questa chiave."),
    "org_name_required": lambda: _("Indica il nome dell'ente (al massimo 300 caratteri)."),
    "org_kind_unknown": lambda: _("Scegli un tipo di ente dall'elenco."),
    "programme_role_unknown": lambda: _("Ruolo nel programma sconosciuto."),
    "organisation_required": lambda: _("Scegli l'ente."),
}


def message_for(error: AccountError) -> str:
    """What to show next to the field ``error.field``."""
    if error.code == "password_too_short":
        return _("La password deve avere almeno %(count)s caratteri.", count=MIN_PASSWORD_LENGTH)
    if error.code == "token_days":
        return _("La durata è un numero di giorni tra 1 e %(max)s.", max=MAX_TOKEN_DAYS)
    message = MESSAGES.get(error.code)
    return message() if message is not None else str(error)


def field_errors(error: AccountError) -> dict[str, str]:
    """{field: message}, the shape the templates show next to each field."""
    return {error.field: message_for(error)}


def password_rules() -> str:
    """The rules of a new password, shown under the field."""
    return _("Almeno %(count)s caratteri, diversa dal nome utente.", count=MIN_PASSWORD_LENGTH)


def role_labels() -> dict[str, str]:
    """Every role of casefile.roles.ROLES, in its order, with its label in the reader's language."""
    translated = LABELS.get("role", {})
    return {key: str(translated.get(key, text)) for key, text in ROLES.items()}


def shown_time(value: datetime | None) -> str:
    """A stored moment as staff read it (Turin time); SQLite hands back naive UTC values."""
    if value is None:
        return ""
    return format_datetime(value if value.tzinfo is not None else value.replace(tzinfo=UTC))


def template_helpers() -> dict[str, Any]:
    """Context processor of the account and admin pages."""
    return {"shown_time": shown_time}
