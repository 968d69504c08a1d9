"""Marshmallow schemas of the JSON API, one module per resource; input and output schemas kept apart."""
