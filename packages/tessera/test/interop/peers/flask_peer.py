"""Flask-JWT-Extended peer app for Tessera's interop tests.

Run with Debian's interpreter (it sees the Debian-packaged libraries):

    PEER_PORT=5001 PEER_CONFIG='{"config": {"JWT_SECRET_KEY": "..."}}' \
        /usr/bin/python3 flask_peer.py

Environment:
  PEER_PORT     TCP port to listen on (127.0.0.1 only). Required.
  PEER_CONFIG   JSON object, all keys optional:
      "config":      Flask app.config entries, copied verbatim. Use the library's
                     own names (JWT_SECRET_KEY, JWT_PRIVATE_KEY, JWT_PUBLIC_KEY,
                     JWT_ALGORITHM, JWT_DECODE_ALGORITHMS, JWT_TOKEN_LOCATION,
                     JWT_COOKIE_CSRF_PROTECT, JWT_ENCODE_AUDIENCE, JWT_DECODE_AUDIENCE,
                     JWT_ENCODE_ISSUER, JWT_DECODE_ISSUER, JWT_DECODE_LEEWAY,
                     JWT_HEADER_TYPE, JWT_ACCESS_TOKEN_EXPIRES (int seconds or false), ...).
                     Only keys starting with "JWT_" plus SECRET_KEY are accepted.
      "user_lookup": "lenient" (default) | "strict" | "none"
                     lenient: user_lookup_loader returns None for "ghost" and for
                              inactive users (mallory); any other identity is a user.
                     strict:  returns None for everything except active users of
                              the table (alice, bob).
                     none:    no user_lookup_loader is registered.
  PEER_VERBOSE  "1" to log every request to stderr.
  PEER_EXIT_ON_STDIN_EOF  "1" to exit when stdin closes (set by the test harness,
                so a peer never outlives the test process that started it).

Flask-JWT-Extended's default error handlers are kept on purpose: their statuses
and messages are what the tests compare against.
"""

import json
import logging
import os
import sys
import threading
from datetime import timedelta

from flask import Flask, jsonify, request
from flask_jwt_extended import (
    JWTManager,
    create_access_token,
    create_refresh_token,
    decode_token,
    get_jwt,
    get_jwt_identity,
    jwt_required,
    set_access_cookies,
    set_refresh_cookies,
    unset_jwt_cookies,
)
from werkzeug.serving import make_server

# Tiny user table. Passwords are test fixtures, not secrets.
USERS = {
    "alice": {"password": "alice-password", "active": True, "claims": {"role": "admin"}},
    "bob": {"password": "bob-password", "active": True, "claims": {}},
    "mallory": {"password": "mallory-password", "active": False, "claims": {}},
}


def load_peer_config():
    raw = os.environ.get("PEER_CONFIG", "").strip()
    if not raw:
        return {}
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise SystemExit("PEER_CONFIG must be a JSON object")
    return value


def create_app(peer_config):
    app = Flask("flask_peer")
    app.config["JSON_SORT_KEYS"] = True  # Flask 2.2 default, stated for clarity
    app.config["PROPAGATE_EXCEPTIONS"] = False

    flask_config = peer_config.get("config", {})
    for key, value in flask_config.items():
        if not (key.startswith("JWT_") or key == "SECRET_KEY"):
            raise SystemExit("config key not allowed: " + key)
        app.config[key] = value

    jwt = JWTManager(app)
    revoked_jtis = set()
    revoked_lock = threading.Lock()

    @jwt.additional_claims_loader
    def additional_claims(identity):
        user = USERS.get(identity) if isinstance(identity, str) else None
        return dict(user["claims"]) if user else {}

    @jwt.token_in_blocklist_loader
    def token_in_blocklist(jwt_header, jwt_data):
        with revoked_lock:
            return jwt_data.get("jti") in revoked_jtis

    @jwt.token_verification_loader
    def token_verification(jwt_header, jwt_data):
        return jwt_data.get("deny") is not True

    lookup_mode = peer_config.get("user_lookup", "lenient")
    if lookup_mode not in ("lenient", "strict", "none"):
        raise SystemExit("user_lookup must be lenient, strict or none")
    if lookup_mode != "none":

        @jwt.user_lookup_loader
        def user_lookup(jwt_header, jwt_data):
            identity = jwt_data[app.config["JWT_IDENTITY_CLAIM"]]
            user = USERS.get(identity) if isinstance(identity, str) else None
            if identity == "ghost":
                return None
            if user is not None:
                return {"username": identity} if user["active"] else None
            if lookup_mode == "strict":
                return None
            return {"username": identity}

    def json_body():
        body = request.get_json(silent=True)
        return body if isinstance(body, dict) else {}

    def check_credentials(body):
        username = body.get("username")
        password = body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            return None, (jsonify(msg="Missing username or password"), 400)
        user = USERS.get(username)
        if user is None or not user["active"] or user["password"] != password:
            return None, (jsonify(msg="Bad username or password"), 401)
        return username, None

    @app.get("/health")
    def health():
        return jsonify(ok=True, peer="flask")

    @app.post("/login")
    def login():
        username, error = check_credentials(json_body())
        if error:
            return error
        return jsonify(
            access_token=create_access_token(identity=username, fresh=True),
            refresh_token=create_refresh_token(identity=username),
        )

    @app.post("/login/cookies")
    def login_cookies():
        username, error = check_credentials(json_body())
        if error:
            return error
        response = jsonify(msg="login successful")
        set_access_cookies(response, create_access_token(identity=username, fresh=True))
        set_refresh_cookies(response, create_refresh_token(identity=username))
        return response

    @app.post("/logout")
    def logout():
        response = jsonify(msg="logout successful")
        unset_jwt_cookies(response)
        return response

    @app.route("/protected", methods=["GET", "POST"])
    @jwt_required()
    def protected():
        return jsonify(logged_in_as=get_jwt_identity(), claims=get_jwt())

    @app.get("/optional")
    @jwt_required(optional=True)
    def optional():
        return jsonify(logged_in_as=get_jwt_identity(), claims=get_jwt())

    @app.post("/fresh")
    @jwt_required(fresh=True)
    def fresh():
        return jsonify(logged_in_as=get_jwt_identity(), claims=get_jwt())

    @app.post("/refresh")
    @jwt_required(refresh=True)
    def refresh():
        identity = get_jwt_identity()
        return jsonify(access_token=create_access_token(identity=identity, fresh=False))

    @app.post("/refresh/cookies")
    @jwt_required(refresh=True)
    def refresh_cookies():
        identity = get_jwt_identity()
        response = jsonify(msg="refresh successful")
        set_access_cookies(response, create_access_token(identity=identity, fresh=False))
        return response

    @app.post("/mint")
    def mint():
        """Test-only: a token of any shape, created by the library itself."""
        body = json_body()
        kind = body.get("kind", "access")
        identity = body.get("identity", "alice")
        kwargs = {}
        if "expires_delta_seconds" in body:
            seconds = body["expires_delta_seconds"]
            kwargs["expires_delta"] = False if seconds is False else timedelta(seconds=seconds)
        if "additional_claims" in body:
            kwargs["additional_claims"] = body["additional_claims"]
        if "additional_headers" in body:
            kwargs["additional_headers"] = body["additional_headers"]
        if kind == "access":
            fresh_value = body.get("fresh", False)
            # A number means "fresh for this many seconds" (fresh becomes a timestamp).
            if not isinstance(fresh_value, bool):
                fresh_value = timedelta(seconds=fresh_value)
            token = create_access_token(identity=identity, fresh=fresh_value, **kwargs)
        elif kind == "refresh":
            token = create_refresh_token(identity=identity, **kwargs)
        else:
            return jsonify(msg="kind must be access or refresh"), 400
        return jsonify(token=token)

    @app.post("/decode")
    def decode():
        """Test-only: decode_token(); its errors go through the library's handlers."""
        body = json_body()
        token = body.get("token")
        if not isinstance(token, str):
            return jsonify(msg="token must be a string"), 400
        return jsonify(
            decode_token(
                token,
                csrf_value=body.get("csrf_value"),
                allow_expired=body.get("allow_expired", False) is True,
            )
        )

    @app.post("/revoke")
    def revoke():
        """Test-only: add a jti to the in-memory blocklist."""
        jti = json_body().get("jti")
        if not isinstance(jti, str):
            return jsonify(msg="jti must be a string"), 400
        with revoked_lock:
            revoked_jtis.add(jti)
        return jsonify(revoked=jti)

    return app


def exit_when_stdin_closes():
    """Harness mode: the test runner holds our stdin; EOF means it has gone."""
    sys.stdin.read()
    os._exit(0)


def main():
    port = int(os.environ["PEER_PORT"])
    if os.environ.get("PEER_EXIT_ON_STDIN_EOF") == "1":
        threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    if os.environ.get("PEER_VERBOSE") != "1":
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = create_app(load_peer_config())
    server = make_server("127.0.0.1", port, app, threaded=True)
    print("flask peer listening on 127.0.0.1:%d" % port, file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
