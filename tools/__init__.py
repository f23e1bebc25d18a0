"""Development tools: read template.yaml (routes, table, environments) and build the OpenAPI
document. Used by the local dev server, the tests, the benchmarks and `make openapi`; never
deployed (SAM packages only shared/ and functions/)."""
