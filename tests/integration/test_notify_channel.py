"""The GOV.UK Notify channel, through the official client, against a local HTTP server standing in for
Notify's API (no network here): what is sent, and which refusals are final."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest
from cpc_notifications.adapters.notify import NotifyChannel, PermanentFailure

SERVICE_ID = "26785a09-ab16-4eb0-8407-a37497a57506"
SECRET = "3d844edf-8d35-48ac-975b-e847b4f122b0"
API_KEY = f"cpc_test-{SERVICE_ID}-{SECRET}"


class FakeNotify(BaseHTTPRequestHandler):
    received: list[tuple[str, dict, dict]] = []
    answer = 201

    def do_POST(self) -> None:  # noqa: N802 - the standard library's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        token = self.headers["Authorization"].removeprefix("Bearer ")
        claims = jwt.decode(token, SECRET, algorithms=["HS256"])
        FakeNotify.received.append((self.path, body, claims))
        self.send_response(FakeNotify.answer)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        reply = {"id": "n-1"} if FakeNotify.answer == 201 else {"errors": [{"error": "BadRequestError",
                                                                              "message": "phone_number Not a UK number"}]}
        self.wfile.write(json.dumps(reply).encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def fake_notify():
    server = HTTPServer(("127.0.0.1", 0), FakeNotify)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakeNotify.received, FakeNotify.answer = [], 201
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


async def test_a_text_message_goes_to_notify_signed_with_the_services_key(fake_notify):
    channel = NotifyChannel(API_KEY, fake_notify, sms_template="sms-template", email_template="email-template")
    await channel.send_sms(phone="07700900001", body="Your conference is tomorrow at 9:30am.", reference="NTF-1")
    path, body, claims = FakeNotify.received[0]
    assert path == "/v2/notifications/sms" and claims["iss"] == SERVICE_ID
    assert body == {"phone_number": "07700900001", "template_id": "sms-template",
                    "personalisation": {"body": "Your conference is tomorrow at 9:30am."}, "reference": "NTF-1"}


async def test_a_refused_number_is_a_permanent_failure(fake_notify):
    FakeNotify.answer = 400
    channel = NotifyChannel(API_KEY, fake_notify, sms_template="sms-template", email_template="email-template")
    with pytest.raises(PermanentFailure, match="400"):
        await channel.send_sms(phone="not a number", body="x", reference="NTF-2")
