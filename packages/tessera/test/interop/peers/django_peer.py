"""Single-file Django + DRF + SimpleJWT peer app for Tessera's interop tests.

Run with Debian's interpreter (it sees the Debian-packaged libraries):

    PEER_PORT=5002 PEER_CONFIG='{"secret_key": "..."}' /usr/bin/python3 django_peer.py

Environment:
  PEER_PORT     TCP port to listen on (127.0.0.1 only). Required.
  PEER_CONFIG   JSON object, all keys optional:
      "secret_key":  Django SECRET_KEY (SimpleJWT's SIGNING_KEY defaults to it).
      "simple_jwt":  the SIMPLE_JWT settings dict, SimpleJWT's own names
                     (ALGORITHM, SIGNING_KEY, VERIFYING_KEY, JWK_URL, AUDIENCE, ISSUER,
                     LEEWAY, ROTATE_REFRESH_TOKENS, BLACKLIST_AFTER_ROTATION,
                     USER_ID_CLAIM, AUTH_TOKEN_CLASSES, ...). Two conveniences:
                     *_LIFETIME values are numbers of seconds, and AUTH_TOKEN_CLASSES
                     may use the short names "access", "refresh", "sliding", "untyped".
      "blacklist":   install rest_framework_simplejwt.token_blacklist (default true).
      "stateless":   authenticate with JWTStatelessUserAuthentication (TokenUser, no
                     database lookup) instead of JWTAuthentication (default false).
  PEER_VERBOSE  "1" to log every request to stderr.
  PEER_EXIT_ON_STDIN_EOF  "1" to exit when stdin closes (set by the test harness,
                so a peer never outlives the test process that started it).

Users (created on start; passwords are test fixtures, not secrets):
  id 1 alice   / alice-password    active
  id 2 mallory / mallory-password  inactive
  id 3 admin   / admin-password    active, is_staff, is_superuser
"""

import atexit
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from datetime import timedelta
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import django
from django.conf import settings

TOKEN_CLASS_NAMES = {
    "access": "rest_framework_simplejwt.tokens.AccessToken",
    "refresh": "rest_framework_simplejwt.tokens.RefreshToken",
    "sliding": "rest_framework_simplejwt.tokens.SlidingToken",
    "untyped": "rest_framework_simplejwt.tokens.UntypedToken",
}

USERS = [
    {"id": 1, "username": "alice", "password": "alice-password", "is_active": True, "is_staff": False},
    {"id": 2, "username": "mallory", "password": "mallory-password", "is_active": False, "is_staff": False},
    {"id": 3, "username": "admin", "password": "admin-password", "is_active": True, "is_staff": True},
]


def load_peer_config():
    raw = os.environ.get("PEER_CONFIG", "").strip()
    if not raw:
        return {}
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise SystemExit("PEER_CONFIG must be a JSON object")
    return value


def simple_jwt_settings(raw):
    result = {}
    for key, value in raw.items():
        if key.endswith("_LIFETIME") and isinstance(value, (int, float)):
            value = timedelta(seconds=value)
        elif key == "AUTH_TOKEN_CLASSES":
            value = tuple(TOKEN_CLASS_NAMES.get(name, name) for name in value)
        result[key] = value
    return result


def configure(peer_config, db_path):
    apps = [
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "rest_framework",
        "rest_framework.authtoken",
        "rest_framework_simplejwt",
    ]
    if peer_config.get("blacklist", True):
        apps.append("rest_framework_simplejwt.token_blacklist")
    if peer_config.get("stateless", False):
        jwt_auth = "rest_framework_simplejwt.authentication.JWTStatelessUserAuthentication"
    else:
        jwt_auth = "rest_framework_simplejwt.authentication.JWTAuthentication"

    settings.configure(
        DEBUG=False,
        SECRET_KEY=peer_config.get("secret_key", "django-peer-test-secret-key-0123456789abcdef"),
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=apps,
        # CommonMiddleware gives the APPEND_SLASH redirect (POST /api/token -> 301).
        MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": db_path}},
        DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        USE_TZ=True,
        TIME_ZONE="UTC",
        # Fast hashing keeps logins quick in tests; the behaviour under test is unchanged.
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        # No Django logging setup: 500 tracebacks reach stderr through Python's
        # last-resort handler; 4xx warnings are silenced in main().
        LOGGING_CONFIG=None,
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": (jwt_auth,),
            "DEFAULT_PERMISSION_CLASSES": ("rest_framework.permissions.AllowAny",),
            "DEFAULT_RENDERER_CLASSES": ("rest_framework.renderers.JSONRenderer",),
        },
        SIMPLE_JWT=simple_jwt_settings(peer_config.get("simple_jwt", {})),
    )
    django.setup()


# --- set up before the URL module is imported (SimpleJWT reads settings at import) ---

PEER_CONFIG = load_peer_config()
DB_DIR = tempfile.mkdtemp(prefix="django-peer-")
atexit.register(shutil.rmtree, DB_DIR, True)
configure(PEER_CONFIG, os.path.join(DB_DIR, "peer.sqlite3"))

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from rest_framework.authentication import TokenAuthentication  # noqa: E402
from rest_framework.authtoken.views import obtain_auth_token  # noqa: E402
from rest_framework.decorators import (  # noqa: E402
    api_view,
    authentication_classes,
    permission_classes,
)
from rest_framework.permissions import IsAdminUser, IsAuthenticated  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework_simplejwt import views as jwt_views  # noqa: E402
from rest_framework_simplejwt.settings import api_settings  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, SlidingToken  # noqa: E402

MINT_CLASSES = {"access": AccessToken, "refresh": RefreshToken, "sliding": SlidingToken}


def describe_user(request):
    return {
        "user_id": request.user.pk,
        "username": request.user.username,
        "claims": request.auth.payload if hasattr(request.auth, "payload") else None,
    }


def health(request):
    return JsonResponse({"ok": True, "peer": "django"})


@api_view(["GET", "POST"])
@permission_classes([IsAuthenticated])
def protected(request):
    return Response(describe_user(request))


@api_view(["GET", "POST"])
@permission_classes([IsAdminUser])
def admin_only(request):
    return Response(describe_user(request))


@api_view(["GET", "POST"])
@authentication_classes([TokenAuthentication])
@permission_classes([IsAuthenticated])
def token_protected(request):
    return Response({"user_id": request.user.pk, "username": request.user.username})


@api_view(["POST"])
@authentication_classes([])
@permission_classes([])
def mint(request):
    """Test-only: build a token with the library's own classes.

    Body: {user_id, kind: access|refresh|sliding, lifetime_seconds, claims}.
    An existing user goes through Token.for_user (which records an OutstandingToken
    for refresh/sliding when the blacklist app is installed); an unknown user_id
    gets a bare token with the id claim set by hand. "claims" is merged last; a
    claim set to null is removed (to build tokens without exp, jti, token_type...).
    """
    body = request.data if isinstance(request.data, dict) else {}
    kind = body.get("kind", "access")
    token_class = MINT_CLASSES.get(kind)
    if token_class is None:
        return Response({"detail": "kind must be access, refresh or sliding"}, status=400)
    user_id = body.get("user_id", 1)
    user_model = get_user_model()
    user = user_model.objects.filter(pk=user_id).first() if isinstance(user_id, int) else None
    if user is not None:
        token = token_class.for_user(user)
    else:
        token = token_class()
        token[api_settings.USER_ID_CLAIM] = user_id
    if "lifetime_seconds" in body:
        token.set_exp(lifetime=timedelta(seconds=body["lifetime_seconds"]))
    if "refresh_lifetime_seconds" in body and kind == "sliding":
        token.set_exp(
            claim=api_settings.SLIDING_TOKEN_REFRESH_EXP_CLAIM,
            lifetime=timedelta(seconds=body["refresh_lifetime_seconds"]),
        )
    for name, value in (body.get("claims") or {}).items():
        if value is None:
            if name in token:
                del token[name]
        else:
            token[name] = value
    return Response({"token": str(token), "payload": token.payload})


urlpatterns = [
    path("health", health),
    path("api/token/", jwt_views.TokenObtainPairView.as_view()),
    path("api/token/refresh/", jwt_views.TokenRefreshView.as_view()),
    path("api/token/verify/", jwt_views.TokenVerifyView.as_view()),
    path("api/token/blacklist/", jwt_views.TokenBlacklistView.as_view()),
    path("api/token/sliding/", jwt_views.TokenObtainSlidingView.as_view()),
    path("api/token/sliding/refresh/", jwt_views.TokenRefreshSlidingView.as_view()),
    path("api/protected/", protected),
    path("api/admin-only/", admin_only),
    path("api/auth-token/", obtain_auth_token),
    path("api/token-protected/", token_protected),
    path("mint/", mint),
]


def create_users():
    user_model = get_user_model()
    for spec in USERS:
        user = user_model(
            id=spec["id"],
            username=spec["username"],
            is_active=spec["is_active"],
            is_staff=spec["is_staff"],
            is_superuser=spec["is_staff"],
        )
        user.set_password(spec["password"])
        user.save()


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        if os.environ.get("PEER_VERBOSE") == "1":
            super().log_message(format, *args)


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def exit_when_stdin_closes():
    """Harness mode: the test runner holds our stdin; EOF means it has gone."""
    sys.stdin.read()
    shutil.rmtree(DB_DIR, True)
    os._exit(0)


def main():
    port = int(os.environ["PEER_PORT"])
    if os.environ.get("PEER_VERBOSE") != "1":
        logging.getLogger("django.request").setLevel(logging.ERROR)
    if os.environ.get("PEER_EXIT_ON_STDIN_EOF") == "1":
        threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    # SIGTERM ends the process through SystemExit so atexit removes the database.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    call_command("migrate", verbosity=0, interactive=False)
    create_users()
    server = make_server(
        "127.0.0.1", port, get_wsgi_application(), server_class=ThreadingWSGIServer, handler_class=QuietHandler
    )
    print("django peer listening on 127.0.0.1:%d" % port, file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
