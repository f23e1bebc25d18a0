"""The only layer that talks to AWS (boto3): single-table keys, items <-> models, transactions."""
