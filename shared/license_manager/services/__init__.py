"""Use cases: read state from the store, ask the domain, write atomically. No boto3 here."""
