"""Languages of the server: message catalogues, language choice, localized formatting."""
