"""Knowledge base: articles, versions, search, deflection, feedback, required reading."""
