"""TicketBackend subclasses for the ticket_auth.django tests (imported by Django, by path)."""

from ticket_auth.django.backends import TicketBackend


class StrictTicketBackend(TicketBackend):
    """Only users that exist."""

    create_unknown_user = False


class CleaningTicketBackend(TicketBackend):
    """Usernames in lower case; a new user's user data becomes its first name."""

    def clean_username(self, username):
        return username.lower()

    def configure_user(self, request, user, created=True):
        if created:
            user.first_name = request.ticket_identity.user_data
            user.save()
        return user
