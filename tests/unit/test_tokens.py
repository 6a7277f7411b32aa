"""Session tokens: HS256 only, required claims, kid-based key rotation, server-side session id."""

from __future__ import annotations

import datetime as dt
import uuid
import warnings

import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning

from app.core.errors import Unauthorized
from app.domain.auth.tokens import AUDIENCE, ISSUER, SessionClaims, TokenSigner

CLAIMS = SessionClaims(uuid.uuid4(), uuid.uuid4(), uuid.uuid4())


def _later(**delta: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(**delta or {"hours": 1})


def _key_and_kid(signer: TokenSigner) -> tuple[bytes, str]:
    kid = jwt.get_unverified_header(signer.issue(CLAIMS, _later()))["kid"]
    return signer._verify_keys[kid], kid


def _payload(**changes: object) -> dict[str, object]:
    now = dt.datetime.now(dt.UTC)
    payload: dict[str, object] = {
        "iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + dt.timedelta(hours=1),
        "sub": str(CLAIMS.user_id), "tid": str(CLAIMS.tenant_id), "sid": str(CLAIMS.session_id),
    }
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def test_round_trip_keeps_user_tenant_and_session():
    signer = TokenSigner("secret-one")
    token = signer.issue(CLAIMS, _later())

    assert signer.verify(token) == CLAIMS
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256"
    assert header["kid"]


def test_rotation_previous_keys_still_verify_and_new_tokens_use_the_new_key():
    old = TokenSigner("secret-one")
    rotated = TokenSigner("secret-two", previous=["secret-one"])
    old_token = old.issue(CLAIMS, _later())

    assert rotated.verify(old_token) == CLAIMS
    new_token = rotated.issue(CLAIMS, _later())
    kids = {jwt.get_unverified_header(t)["kid"] for t in (old_token, new_token)}
    assert len(kids) == 2
    with pytest.raises(Unauthorized, match="unknown key"):
        old.verify(new_token)
    with pytest.raises(Unauthorized, match="unknown key"):
        TokenSigner("secret-two").verify(old_token)  # rotation finished: old sessions end


def test_expired_token_is_refused():
    signer = TokenSigner("secret-one")
    with pytest.raises(Unauthorized, match="expired"):
        signer.verify(signer.issue(CLAIMS, _later(seconds=-1)))


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "sub", "tid", "sid"])
def test_every_required_claim_must_be_present(claim):
    signer = TokenSigner("secret-one")
    key, kid = _key_and_kid(signer)
    token = jwt.encode(_payload(**{claim: None}), key, algorithm="HS256", headers={"kid": kid})

    with pytest.raises(Unauthorized, match="invalid"):
        signer.verify(token)


@pytest.mark.parametrize("changes", [
    {"iss": "someone-else"}, {"aud": "another-api"}, {"sub": "not-a-uuid"},
    {"iat": dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)},
])
def test_wrong_issuer_audience_or_claims_are_refused(changes):
    signer = TokenSigner("secret-one")
    key, kid = _key_and_kid(signer)
    token = jwt.encode(_payload(**changes), key, algorithm="HS256", headers={"kid": kid})

    with pytest.raises(Unauthorized):
        signer.verify(token)


def test_only_hs256_is_accepted():
    signer = TokenSigner("secret-one")
    key, kid = _key_and_kid(signer)
    unsigned = jwt.encode(_payload(), None, algorithm="none", headers={"kid": kid})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        hs512 = jwt.encode(_payload(), key, algorithm="HS512", headers={"kid": kid})

    for token in (unsigned, hs512):
        with pytest.raises(Unauthorized, match="invalid"):
            signer.verify(token)


def test_tampered_payload_or_garbage_is_refused():
    signer = TokenSigner("secret-one")
    header, _payload_part, signature = signer.issue(CLAIMS, _later()).split(".")
    other = TokenSigner("secret-one").issue(SessionClaims(uuid.uuid4(), CLAIMS.tenant_id,
                                                          CLAIMS.session_id), _later())

    for token in (f"{header}.{other.split('.')[1]}.{signature}", "not.a.jwt", "", "a.b"):
        with pytest.raises(Unauthorized):
            signer.verify(token)
