"""HTTP edge: the resolver factory, claims -> caller, problem+json errors, schemas."""
