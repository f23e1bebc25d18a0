"""License Manager: the shared package deployed as the Lambda layer.

Layers (arrows point down only):
    functions/*/app.py -> api/ (resolver, auth, errors) -> services/ -> domain/ (pure) and store/ (boto3)
"""
