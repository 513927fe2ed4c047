"""The built-in programmes (YAML)."""
