"""Rendering user-task forms from JSON Schema: fields, typed values, messages in the reader's language."""
