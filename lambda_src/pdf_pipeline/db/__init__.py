"""The audit database: SQL migrations, connections, the event writer, status and report queries.

Only ``write_audit``, ``batch_status``, ``reports`` (through RDS Proxy, IAM auth) and ``migrate``
(the cluster's writer endpoint, master user) import this package: every other worker sends its
audit events to the audit queue and never connects to the database.
"""
