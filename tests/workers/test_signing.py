import base64

import pytest
from standardwebhooks.webhooks import Webhook

from workers import signing

# The Standard Webhooks specification's own example.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signatures_match_the_specifications_example():
    assert signing.sign(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_every_valid_secret_signs_and_the_reference_verifier_accepts_each():
    old, new = (
        "whsec_" + base64.b64encode(b"a" * 32).decode(),
        "whsec_" + base64.b64encode(b"b" * 32).decode(),
    )

    headers = signing.signed_headers([new, old], "msg_1", b"{}")

    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(b"{}", headers)
    Webhook(new).verify(b"{}", headers)


def test_our_verifier_refuses_stale_timestamps_and_foreign_secrets():
    headers = signing.signed_headers([SPEC_SECRET], SPEC_ID, SPEC_BODY, timestamp=SPEC_TIMESTAMP)

    signing.verify(SPEC_SECRET, headers, SPEC_BODY, now=SPEC_TIMESTAMP + 10)
    with pytest.raises(signing.InvalidSignature):
        signing.verify(SPEC_SECRET, headers, SPEC_BODY, now=SPEC_TIMESTAMP + 3600)
    with pytest.raises(signing.InvalidSignature):
        signing.verify(
            "whsec_" + base64.b64encode(b"c" * 32).decode(), headers, SPEC_BODY, now=SPEC_TIMESTAMP
        )
