"""The authentication backend of ``ticket_auth.django``: the Django user a ticket names.

    AUTHENTICATION_BACKENDS = ["ticket_auth.django.backends.TicketBackend", ...]

A module of its own, as Django's backends are: it imports the user models, so it can be
imported only once Django is set up (``ticket_auth.django`` itself can be imported before).
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django import conf as django_conf  # not `settings` itself: a lazy object autodoc would evaluate
from django.contrib import auth
from django.contrib.auth.backends import ModelBackend

from ..guard import Identity
from . import SETTING, token_permissions

__all__ = ["TicketBackend"]


class TicketBackend(ModelBackend):  # type: ignore[misc]  # Django has no type hints
    """Finds (or creates) the Django user a valid ticket names, as ``RemoteUserBackend``
    does for ``REMOTE_USER``.

    The ticket's user id is the username (``USERNAME_FIELD``). Subclass to change:

    * ``create_unknown_user`` (default True): create a user the first time a ticket names
      it; with False, a ticket for an unknown user leaves the request anonymous.
    * ``clean_username(username)``: turn the ticket's user id into a username.
    * ``configure_user(request, user, created)``: called on every authentication with the
      user (``created`` is True for a new one); returns the user.

    A user that ``user_can_authenticate`` refuses (``is_active`` False) is not authenticated:
    the request stays anonymous. Besides the permissions of the database (groups, user
    permissions), a user gets those ``TICKET_AUTH["TOKEN_PERMISSIONS"]`` gives its ticket's
    tokens. The user object carries the ticket's ``Identity`` as ``user.ticket_identity``.
    """

    create_unknown_user = True

    def authenticate(self, request: Any, ticket_identity: Identity | None = None) -> Any:
        """The active user named by ``ticket_identity``, or None.

        Args:
            request: the request (passed on to ``configure_user``).
            ticket_identity: the guard's ``Identity`` for the request's ticket.

        Returns:
            The user (with ``ticket_identity`` set on it), or None: no identity, an empty or
            unknown user id (with ``create_unknown_user`` False), or an inactive user.
        """
        if ticket_identity is None:
            return None
        username = self.clean_username(ticket_identity.user_id)
        if not username:
            return None
        user_model = auth.get_user_model()
        manager = user_model._default_manager
        created = False
        if self.create_unknown_user:
            user, created = manager.get_or_create(**{user_model.USERNAME_FIELD: username})
        else:
            try:
                user = manager.get_by_natural_key(username)
            except user_model.DoesNotExist:
                return None
        user = self.configure_user(request, user, created=created)
        if user is None or not self.user_can_authenticate(user):
            return None
        user.ticket_identity = ticket_identity
        return user

    async def aauthenticate(self, request: Any, ticket_identity: Identity | None = None) -> Any:
        """``authenticate`` for async code (run in a thread).

        Args:
            request: the request.
            ticket_identity: the guard's ``Identity``.

        Returns:
            What ``authenticate`` returns.
        """
        return await sync_to_async(self.authenticate)(request, ticket_identity)

    def clean_username(self, username: str) -> str:
        """The username for a ticket's user id (unchanged by default).

        Args:
            username: the ticket's user id.

        Returns:
            The username to look up.
        """
        return username

    def configure_user(self, request: Any, user: Any, created: bool = True) -> Any:
        """Adjust a user after authentication (nothing by default).

        Args:
            request: the request.
            user: the user found or created.
            created: True when the user was just created.

        Returns:
            The user (None refuses it).
        """
        return user

    def get_token_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        """The permissions ``TOKEN_PERMISSIONS`` grants the tokens of the user's ticket.

        Args:
            user_obj: a user authenticated by this backend (others get none).
            obj: an object for object permissions (none are granted).

        Returns:
            A set of ``"app_label.codename"``.
        """
        identity = getattr(user_obj, "ticket_identity", None)
        if identity is None or obj is not None or not getattr(user_obj, "is_active", False):
            return set()
        mapping = token_permissions(getattr(django_conf.settings, SETTING, {}))
        return {perm for token in identity.tokens for perm in mapping.get(token, ())}

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        """The database permissions (``ModelBackend``) and the tokens' permissions.

        Args:
            user_obj: the user.
            obj: an object for object permissions.

        Returns:
            A set of ``"app_label.codename"``.
        """
        return {*super().get_all_permissions(user_obj, obj), *self.get_token_permissions(user_obj, obj)}

    async def aget_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        """``get_all_permissions`` for async code.

        Args:
            user_obj: the user.
            obj: an object for object permissions.

        Returns:
            A set of ``"app_label.codename"``.
        """
        database = await super().aget_all_permissions(user_obj, obj)
        return {*database, *self.get_token_permissions(user_obj, obj)}

    async def ahas_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        """``has_perm`` for async code.

        Args:
            user_obj: the user.
            perm: ``"app_label.codename"``.
            obj: an object for object permissions.

        Returns:
            True when the user is active and has the permission.
        """
        return bool(user_obj.is_active) and perm in await self.aget_all_permissions(user_obj, obj)
