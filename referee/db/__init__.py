"""Storage: schema, engines, migrations."""
