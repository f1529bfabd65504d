"""PostgreSQL: the Database service (pool, migrations) and every SQL statement, by concept.

Import the service from :mod:`app.storage.database`; each concept's statements
and the types its queries return from the module of that concept.
"""
