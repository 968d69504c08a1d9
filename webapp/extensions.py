"""Unbound Flask extensions, bound to the app in create_app."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from engine.models import Base

# Our models are plain SQLAlchemy 2 declarative classes (engine/ and casefile/ stay framework-free);
# Flask-SQLAlchemy only provides the request-scoped session and the engine configuration.
db = SQLAlchemy(metadata=Base.metadata)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
