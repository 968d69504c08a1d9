"""/api/v1/docs: Swagger UI over the OpenAPI document, served from our own static files (no CDN).

The page carries no inline script (the Content-Security-Policy forbids it): static/api-docs.js reads
the document's address from a data attribute and starts Swagger UI.
"""

from __future__ import annotations

from flask import Blueprint, render_template, url_for

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1")


@bp.route("/docs")
def show_docs() -> str:
    """Browsable API documentation."""
    return render_template("api/docs.html", spec_url=url_for("api-docs.openapi_json"))
