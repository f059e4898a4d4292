"""The small Django project the ticket_auth.django tests run: settings, users, views, URLs.

In the test process (Django's test client) ``configure(db_path, config)`` sets it up; a real
server (gunicorn, uvicorn) imports ``_django_settings``, which builds the same settings from
the environment (``TICKET_AUTH_TEST_DB``, ``TICKET_AUTH_TEST_CONFIG``: JSON, with secrets as
latin-1 text). Every view answers ``user|reason|tokens|user data`` (``-`` for anonymous).
"""

import json

from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_required, permission_required, user_passes_test
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from _guard_helpers import SECRET
from ticket_auth.django import alogin, login, logout

LOGIN_URL = "/login"
PASSWORDS = {"alice": "alice's password", "bob": "bob's password"}  # bob is inactive
TOKEN_PERMISSIONS = {"editor": ["auth.view_user"], "boss": ["auth.view_user", "auth.change_user"]}
OLD_SECRET = b"the secret before the last rotation: 1f0a"
LIFETIME = 3600
REISSUE_AFTER = 600


def make_config(kind, **extra):
    """A TICKET_AUTH setting for the ticket format ``kind`` ("ticket" or "authtkt"), plain HTTP,
    with the test secrets; ``extra`` keys added or replaced."""
    config = {
        "SECRET": SECRET,
        "FALLBACK_SECRETS": [OLD_SECRET],
        "FORMAT": kind,
        "LIFETIME": LIFETIME,
        "REISSUE_AFTER": REISSUE_AFTER,
        "SECURE": False,
        "TOKEN_PERMISSIONS": TOKEN_PERMISSIONS,
    }
    if kind == "authtkt":
        config["HASHALG"] = "sha256"
    config.update(extra)
    return config


def settings_dict(db_path, config):
    """The project's settings, with ``config`` as TICKET_AUTH."""
    return dict(
        DEBUG=False,
        SECRET_KEY="django test project key, not a ticket secret",
        ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
        INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions"],
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.contrib.auth.middleware.AuthenticationMiddleware",
            "ticket_auth.django.TicketAuthMiddleware",
        ],
        AUTHENTICATION_BACKENDS=[
            "ticket_auth.django.backends.TicketBackend",
            "django.contrib.auth.backends.ModelBackend",
        ],
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],  # fast, for tests only
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(db_path),
                "OPTIONS": {"timeout": 20},
            }
        },
        ROOT_URLCONF="_django_project",
        LOGIN_URL=LOGIN_URL,
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        LOGGING_CONFIG=None,
        TICKET_AUTH=config,
    )


def config_to_env(config):
    return json.dumps(
        {
            k: (
                [s.decode("latin-1") for s in v]
                if k == "FALLBACK_SECRETS"
                else v.decode("latin-1")
                if k == "SECRET"
                else v
            )
            for k, v in config.items()
        }
    )


def config_from_env(text):
    config = json.loads(text)
    config["SECRET"] = config["SECRET"].encode("latin-1")
    if "FALLBACK_SECRETS" in config:
        config["FALLBACK_SECRETS"] = [s.encode("latin-1") for s in config["FALLBACK_SECRETS"]]
    return config


def create_database():
    """Migrate, and add the users (after django.setup())."""
    from django.contrib.auth.models import User
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    User.objects.create_user("alice", password=PASSWORDS["alice"])
    User.objects.create_user("bob", password=PASSWORDS["bob"], is_active=False)


def _describe(request, user):
    identity = request.ticket_identity
    name = user.get_username() if user.is_authenticated else "-"
    tokens = ",".join(identity.tokens) if identity is not None else ""
    data = identity.user_data if identity is not None else ""
    return HttpResponse(f"{name}|{request.ticket_auth.reason}|{tokens}|{data}", content_type="text/plain")


def describe(request):
    return _describe(request, request.user)


async def adescribe(request):
    return _describe(request, await request.auser())


@csrf_exempt
def login_view(request):
    """POST username, password, tokens (comma-separated), data; GET shows a form's stand-in."""
    if request.method != "POST":
        return HttpResponse("login form", content_type="text/plain")
    user = authenticate(request, username=request.POST.get("username"), password=request.POST.get("password"))
    if user is None:
        return HttpResponse("bad credentials", status=403, content_type="text/plain")
    response = HttpResponse(f"welcome {user.get_username()}", content_type="text/plain")
    tokens = [t for t in request.POST.get("tokens", "").split(",") if t]
    login(request, response, user, tokens=tokens, user_data=request.POST.get("data", ""))
    if hasattr(request, "session"):
        request.session["note"] = f"note of {user.get_username()}"
    return response


@csrf_exempt
async def alogin_view(request):
    from django.contrib.auth import aauthenticate

    user = await aauthenticate(
        request, username=request.POST.get("username"), password=request.POST.get("password")
    )
    if user is None:
        return HttpResponse("bad credentials", status=403, content_type="text/plain")
    response = HttpResponse(f"welcome {user.get_username()}", content_type="text/plain")
    await alogin(request, response, user, tokens=["editor"])
    return response


def logout_view(request):
    response = HttpResponse("bye", content_type="text/plain")
    logout(request, response)
    return response


def session_view(request):
    return HttpResponse(request.session.get("note", "-"), content_type="text/plain")


def _has_admin_token(user):
    identity = getattr(user, "ticket_identity", None)
    return identity is not None and "admin" in identity.tokens


urlpatterns = [
    path("open", describe),
    path("async-open", adescribe),
    path("protected/", login_required(describe)),
    path("async-protected/", login_required(adescribe)),
    path("perm/", permission_required("auth.view_user", raise_exception=True)(describe)),
    path("perm-change/", permission_required("auth.change_user", raise_exception=True)(describe)),
    path("admin-token/", user_passes_test(_has_admin_token)(describe)),
    path("guarded/", describe),  # protected by the guard (PROTECT) in some tests
    path("guarded/admin/", describe),
    path("login", login_view),
    path("alogin", alogin_view),
    path("logout", logout_view),
    path("session", session_view),
]
