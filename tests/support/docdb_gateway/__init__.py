"""A MongoDB wire-protocol front end for Microsoft DocumentDB (PostgreSQL), for tests only.

No mongod can be installed on Kith's build machines; DocumentDB can (see tests/support/realmongo).
It speaks SQL, so this gateway translates the commands PyMongo sends into DocumentDB's SQL API and
passes DocumentDB's answers back unchanged wherever it can, so that differences from MongoDB
stay visible to the tests instead of being smoothed over.

Run: ``PYTHONPATH=tests/support python -m docdb_gateway --port 27117 --pg "host=... port=..."``.
"""
