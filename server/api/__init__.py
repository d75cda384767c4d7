"""API conventions: declared routes, pagination, the OpenAPI document."""
