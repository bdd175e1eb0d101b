"""The Calls API over HTTP: apps with the management token, sessions with the app's secret,
the product's error shapes, and nothing shared between apps."""

from __future__ import annotations

from calls.server import TOKEN, CallsApp, create_calls_app
from conftest import RunningServer

MANAGEMENT = {"Authorization": f"Bearer {TOKEN}"}


def test_apps_are_created_listed_shown_and_deleted_with_the_management_token(
    calls_server: RunningServer,
) -> None:
    with calls_server.client(headers=MANAGEMENT) as client:
        made = client.post("/calls/v1/apps", json={"name": "room"})
        assert made.status_code == 201
        app = made.json()["result"]
        assert app["name"] == "room" and app["secret"].startswith("focal_calls_")
        listed = client.get("/calls/v1/apps").json()["result"]
        assert {"appId": app["appId"], "name": "room", "created": app["created"]} in listed
        assert all("secret" not in shown for shown in listed)
        assert client.get(f"/calls/v1/apps/{app['appId']}").json()["result"]["name"] == "room"
        assert client.delete(f"/calls/v1/apps/{app['appId']}").json()["success"] is True
        gone = client.get(f"/calls/v1/apps/{app['appId']}")
        assert gone.status_code == 404 and gone.json()["success"] is False
        assert client.delete(f"/calls/v1/apps/{app['appId']}").status_code == 404
        refused = client.post("/calls/v1/apps", json={"name": ""})
        assert refused.status_code == 400 and "1 to 100" in refused.json()["errors"][0]["message"]
        assert client.post("/calls/v1/apps", json={"nom": "x"}).status_code == 400
    # The secret is stored as its hash only.
    stored = calls_server.parts.calls_apps.list_apps()
    assert all(not hasattr(a, "secret") for a in stored)


def test_the_apps_api_needs_the_management_token(
    calls_server: RunningServer, calls_app: CallsApp
) -> None:
    with calls_server.client() as client:
        assert client.get("/calls/v1/apps").status_code == 401
        bearer = {"Authorization": f"Bearer {calls_app.secret}"}
        refused = client.get("/calls/v1/apps", headers=bearer)
        assert refused.status_code == 403 and refused.json()["success"] is False


def test_sessions_need_the_secret_of_their_own_app(
    calls_server: RunningServer, calls_app: CallsApp
) -> None:
    other = create_calls_app(calls_server, "other")
    base = f"/calls/v1/apps/{calls_app.id}/sessions"
    mine = {"Authorization": f"Bearer {calls_app.secret}"}
    theirs = {"Authorization": f"Bearer {other.secret}"}
    with calls_server.client() as client:
        missing = client.post(f"{base}/new")
        assert missing.status_code == 401
        assert missing.json()["errorCode"] == "unauthorized"
        wrong = client.post(f"{base}/new", headers=theirs)
        assert wrong.status_code == 403 and wrong.json()["errorCode"] == "forbidden"
        session_id = client.post(f"{base}/new", headers=mine).json()["sessionId"]
        assert client.get(f"{base}/{session_id}", headers=mine).json()["tracks"] == []
        # Another app, with its own secret, does not see this session.
        elsewhere = client.get(f"/calls/v1/apps/{other.id}/sessions/{session_id}", headers=theirs)
        assert elsewhere.status_code == 404 and elsewhere.json()["errorCode"] == "not_found"
        assert client.get(f"{base}/{session_id}", headers=theirs).status_code == 403


def test_bad_requests_of_the_session_api_are_4xx_in_the_products_shape(
    calls_server: RunningServer, calls_app: CallsApp
) -> None:
    base = f"/calls/v1/apps/{calls_app.id}/sessions"
    mine = {"Authorization": f"Bearer {calls_app.secret}"}
    with calls_server.client(headers=mine) as client:
        unknown = client.get(f"{base}/nosuchsession")
        assert unknown.status_code == 404 and "no session" in unknown.json()["errorDescription"]
        session_id = client.post(f"{base}/new").json()["sessionId"]
        tracks = f"{base}/{session_id}/tracks/new"
        bad_sdp = client.post(
            tracks,
            json={
                "sessionDescription": {"sdp": "v=0\r\nnonsense", "type": "offer"},
                "tracks": [{"location": "local", "mid": "0", "trackName": "camera"}],
            },
        )
        assert bad_sdp.status_code == 400 and bad_sdp.json()["errorCode"] == "invalid_request"
        no_offer = client.post(tracks, json={"tracks": [{"location": "local", "mid": "0"}]})
        assert no_offer.status_code == 400
        assert "offer" in no_offer.json()["errorDescription"]
        too_many = [{"location": "remote", "sessionId": session_id, "trackName": "x"}] * 65
        limited = client.post(tracks, json={"tracks": too_many})
        assert limited.status_code == 400 and "at most 64" in limited.json()["errorDescription"]
        assert client.post(tracks, json={"tracks": []}).status_code == 400
        mixed = client.post(
            tracks,
            json={"tracks": [{"location": "remote"}, {"location": "local", "mid": "0"}]},
        )
        assert mixed.status_code == 400
        pulled = client.post(
            tracks,
            json={"tracks": [{"location": "remote", "sessionId": "nope", "trackName": "cam"}]},
        )
        assert pulled.status_code == 200
        assert pulled.json()["tracks"][0]["errorCode"] == "not_found"
        assert pulled.json()["requiresImmediateRenegotiation"] is False
        nothing_offered = client.put(
            f"{base}/{session_id}/renegotiate",
            json={"sessionDescription": {"sdp": "v=0", "type": "answer"}},
        )
        assert nothing_offered.status_code == 400
        not_json = client.post(tracks, content=b"{", headers={"Content-Type": "application/json"})
        assert not_json.status_code == 400 and not_json.json()["errorCode"] == "invalid_request"
        channels = client.post(
            f"{base}/{session_id}/datachannels/new",
            json={"dataChannels": [{"location": "local", "dataChannelName": "chat"}]},
        )
        assert channels.status_code == 400 and "data channel" in channels.json()["errorDescription"]
        closed = client.put(
            f"{base}/{session_id}/tracks/close", json={"tracks": [{"mid": "9"}], "force": True}
        )
        assert closed.status_code == 200 and closed.json()["tracks"][0]["errorCode"] == "not_found"
