"""Pure rules of the product: no I/O, no clock reads ("now" is always a parameter)."""
