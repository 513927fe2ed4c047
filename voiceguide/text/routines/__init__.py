"""Built-in routine files (package data)."""
