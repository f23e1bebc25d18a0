"""Request and response bodies. The OpenAPI document is generated from these models.

One module per group of routes, so a function imports the models of its own routes only, and
each model is built (its validator and serializer) when first used, not at import
(`defer_build`): a cold start pays for the models of the route it serves (docs/decisions.md).

Responses are read from the use cases' results by attribute (`api.resolver.answer`), so a route
never copies fields one by one.
"""
