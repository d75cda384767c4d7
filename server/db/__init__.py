"""Storage: SQLAlchemy Core tables, the database access object, migrations."""
