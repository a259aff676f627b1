"""Database adapter: ORM tables, engine and the unit of work."""
