"""Test support: a real Apache with mod_auth_tkt on loopback ports (see ``server``)."""
