"""Local development server: the HTTP API on 127.0.0.1 with an embedded DynamoDB.

Development and tests only. It is not under shared/ or functions/, so SAM never packages it.
"""
