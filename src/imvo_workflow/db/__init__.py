"""Database adapter: the tables (SQLAlchemy Core), engine and the unit of work."""
