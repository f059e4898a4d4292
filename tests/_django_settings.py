"""DJANGO_SETTINGS_MODULE of the real servers the ticket_auth.django tests start: the project of
_django_project, its database and TICKET_AUTH given by the environment."""

import os

from _django_project import config_from_env, settings_dict

globals().update(
    settings_dict(os.environ["TICKET_AUTH_TEST_DB"], config_from_env(os.environ["TICKET_AUTH_TEST_CONFIG"]))
)
