"""The programme's records (organisations, people, households, housing, money, accompaniment).

Framework-free: SQLAlchemy models and named operations; BPMN service tasks reach them through the
engine's service registry, which the web app fills.
"""
