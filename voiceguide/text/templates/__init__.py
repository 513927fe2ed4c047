"""Built-in cue templates (package data)."""
