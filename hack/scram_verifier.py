"""Print the SCRAM-SHA-256 verifier of the password read from stdin (RFC 5802/7677, PostgreSQL's format).

hack/state-up.sh sets the state role's password with it: the server then only ever sees the
verifier (``ALTER ROLE ... PASSWORD 'SCRAM-SHA-256$...'``), never the password, so no server log
or statement error can show it. Stdlib only: it runs before the project's venv exists.
"""

import base64
import hashlib
import hmac
import secrets
import sys

ITERATIONS = 4096  # PostgreSQL's default scram_iterations


def verifier(password: str, salt: bytes, iterations: int = ITERATIONS) -> str:
    """``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>``, base64 parts."""
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


if __name__ == "__main__":
    print(verifier(sys.stdin.read().strip(), secrets.token_bytes(16)))
