"""Remote sessions on the endpoint: consent, indicator, capture, encoding and input."""
