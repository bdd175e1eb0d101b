// A call: this page pushes its camera and microphone and pulls every other participant's
// tracks, through the application's endpoint (?endpoint=...), which holds the app secret.
const params = new URLSearchParams(location.search);
const endpoint = (params.get("endpoint") || location.origin).replace(/\/$/, "");
const tiles = document.getElementById("tiles");
const statusLine = document.getElementById("status");
const joinForm = document.getElementById("join");
const leaveButton = document.getElementById("leave-button");
const joinButton = document.getElementById("join-button");

let pc = null;
let me = null; // {sessionId, name}
let polling = null;
const pulled = new Set(); // "sessionId/trackName" already pulled
const tileBySession = new Map();
const sessionByMid = new Map();

function say(text) { statusLine.textContent = text; }

async function api(method, path, body) {
  const response = await fetch(endpoint + path, {
    method, headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(answer.errorDescription || answer.detail || response.statusText);
  return answer;
}

function tile(sessionId, label) {
  let figure = tileBySession.get(sessionId);
  if (!figure) {
    figure = document.createElement("figure");
    figure.dataset.session = sessionId;
    const video = document.createElement("video");
    video.autoplay = true; video.playsInline = true;
    video.srcObject = new MediaStream();
    const caption = document.createElement("figcaption");
    caption.textContent = label;
    figure.append(video, caption);
    tiles.append(figure);
    tileBySession.set(sessionId, figure);
  }
  return figure;
}

async function gathered() {
  // No trickle ICE: the SFU reads every candidate from the description itself.
  if (pc.iceGatheringState === "complete") return;
  await new Promise((done) => {
    const check = () => { if (pc.iceGatheringState === "complete") { pc.removeEventListener("icegatheringstatechange", check); done(); } };
    pc.addEventListener("icegatheringstatechange", check);
    setTimeout(done, 3000);
  });
}

async function pullNewTracks() {
  const self = me;
  const room = await api("GET", "/api/room");
  if (me !== self) return; // left meanwhile
  const wanted = [];
  for (const participant of room.participants) {
    if (participant.sessionId === me.sessionId) continue;
    tile(participant.sessionId, participant.name);
    for (const trackName of participant.tracks) {
      const key = participant.sessionId + "/" + trackName;
      if (!pulled.has(key)) { pulled.add(key); wanted.push({ location: "remote", sessionId: participant.sessionId, trackName }); }
    }
  }
  for (const [sessionId, figure] of tileBySession) {
    if (sessionId !== me.sessionId && !room.participants.some((p) => p.sessionId === sessionId)) {
      figure.remove(); tileBySession.delete(sessionId);
    }
  }
  say(`In the call as ${me.name}: ${room.participants.length} participant(s).`);
  if (!wanted.length) return;
  const answer = await api("POST", `/api/sessions/${me.sessionId}/pull`, { tracks: wanted });
  for (const track of answer.tracks) if (track.mid) sessionByMid.set(track.mid, track.sessionId);
  if (answer.requiresImmediateRenegotiation) {
    await pc.setRemoteDescription(answer.sessionDescription);
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered();
    await api("PUT", `/api/sessions/${me.sessionId}/renegotiate`, { sessionDescription: pc.localDescription });
  }
}

async function join(name) {
  joinButton.disabled = true;
  say("Asking for the camera and microphone…");
  const media = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
  me = { name, ...(await api("POST", "/api/join", { name })) };
  const own = tile(me.sessionId, `${name} (you)`);
  const preview = own.querySelector("video");
  preview.muted = true; preview.srcObject = media;
  pc = new RTCPeerConnection({ bundlePolicy: "max-bundle" });
  pc.addEventListener("track", (event) => {
    const sessionId = sessionByMid.get(event.transceiver.mid);
    const figure = sessionId && tileBySession.get(sessionId);
    if (figure) figure.querySelector("video").srcObject.addTrack(event.track);
  });
  pc.addEventListener("connectionstatechange", () => { own.dataset.connection = pc.connectionState; });
  const transceivers = media.getTracks().map((track) => [track, pc.addTransceiver(track, { direction: "sendonly" })]);
  await pc.setLocalDescription(await pc.createOffer());
  await gathered();
  const tracks = transceivers.map(([track, t]) => ({ location: "local", mid: t.mid, trackName: track.kind }));
  const answer = await api("POST", `/api/sessions/${me.sessionId}/push`, { sessionDescription: pc.localDescription, tracks });
  await pc.setRemoteDescription(answer.sessionDescription);
  joinForm.querySelector("label").hidden = true;
  joinButton.hidden = true; leaveButton.hidden = false;
  await pullNewTracks();
  polling = setInterval(() => pullNewTracks().catch((error) => say(`Trouble: ${error.message}`)), 2000);
}

async function leave() {
  clearInterval(polling);
  const leaving = me;
  if (pc) pc.close();
  for (const figure of tileBySession.values()) figure.remove();
  tileBySession.clear(); pulled.clear(); sessionByMid.clear();
  pc = null; me = null;
  joinForm.querySelector("label").hidden = false;
  joinButton.hidden = false; joinButton.disabled = false; leaveButton.hidden = true;
  say("Not in the call.");
  if (leaving) await api("POST", "/api/leave", { sessionId: leaving.sessionId }).catch(() => {});
}

joinForm.addEventListener("submit", (event) => {
  event.preventDefault();
  join(document.getElementById("name").value.trim()).catch((error) => {
    joinButton.disabled = false;
    say(`Could not join: ${error.message}`);
  });
});
leaveButton.addEventListener("click", () => { leave(); });
