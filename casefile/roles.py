"""The programme's roles: keys used in code, Italian labels used as BPMN lane names."""

from __future__ import annotations

# Role key -> the lane label analysts write in the diagrams (domain.md §2).
ROLES: dict[str, str] = {
    "assistente_sociale": "Assistente sociale referente",
    "coordinatore": "Coordinatore di progetto",
    "case_manager": "Case manager",
    "referente_abitativo": "Referente abitativo",
    "amministrazione": "Amministrazione",
    "mediatore": "Mediatore",
    "operatore_lavoro": "Operatore inserimento lavorativo",
    "equipe": "Équipe multidisciplinare",
    "supervisore": "Supervisore",
    "analista": "Analista",
    "admin": "Amministratore di sistema",
}

# Roles that never receive process tasks: they read dashboards, edit models or manage accounts.
NON_TASK_ROLES = frozenset({"supervisore", "analista", "admin"})
