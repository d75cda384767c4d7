"""Problem management: a problem record's analysis, its workaround as a KB article,
resolving it with its incidents, and suggestions of recurring problems."""
