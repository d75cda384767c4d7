"""LDAP and Active Directory: directories as records, sign-in by bind, scheduled sync."""
