// Focal's live-stream player: HLS through hls.js (or the browser's own HLS), the last
// minutes of the broadcast as a timeline from the preview manifest's headers, and a
// "clip this" control that builds the clip's URLs (clip.mp4 and clip.m3u8).
"use strict";

const PREVIEW = "5m";
const REFRESH_MS = 4000;
const id = decodeURIComponent(location.pathname.split("/")[2] || "");
const video = document.getElementById("video");
const state = document.getElementById("state");
const position = document.getElementById("position");
const positionText = document.getElementById("position-text");
const message = document.getElementById("message");
let mediaId = null; // the video's uid, which clips need (the page may be an input's)
let followEdge = true;

const seconds = (value) => `${Number(value).toFixed(1)} s`;

function play(url) {
  if (window.Hls && window.Hls.isSupported()) {
    const hls = new window.Hls({ liveDurationInfinity: true });
    hls.loadSource(url);
    hls.attachMedia(video);
    hls.on(window.Hls.Events.ERROR, (_event, data) => {
      if (data.fatal) message.textContent = `playback stopped: ${data.details}`;
    });
  } else {
    video.src = url; // Safari plays HLS itself
  }
  video.play().catch(() => {}); // muted autoplay; a refusal leaves the controls
}

async function lifecycle() {
  const answer = await fetch(`/stream/${encodeURIComponent(id)}/lifecycle`);
  if (!answer.ok) throw new Error(await answer.text());
  return answer.json();
}

async function preview() {
  const url = `/stream/${encodeURIComponent(id)}/manifest/video.m3u8?duration=${PREVIEW}`;
  const answer = await fetch(url, { cache: "no-store" });
  if (!answer.ok) throw new Error(await answer.text());
  const text = await answer.text();
  const start = Number(answer.headers.get("preview-start-seconds"));
  mediaId = answer.headers.get("stream-media-id");
  let length = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("#EXTINF:")) length += Number(line.slice(8).split(",")[0]);
  }
  const ended = text.includes("#EXT-X-ENDLIST");
  position.min = String(start);
  position.max = String(start + length);
  if (followEdge) position.value = String(Math.max(start, start + length - 30));
  document.getElementById("range-start").textContent = seconds(start);
  document.getElementById("range-end").textContent = seconds(start + length);
  positionText.textContent = seconds(position.value);
  return ended;
}

function buildClip() {
  if (!mediaId) return;
  const duration = Number(document.getElementById("duration").value);
  // The clip must end by the live edge: an earlier start rather than a refusal.
  const latest = Number(position.max) - duration;
  const time = Math.max(Number(position.min), Math.min(Number(position.value), latest));
  const query = new URLSearchParams({
    time: `${Math.max(0, Math.floor(time))}s`,
    duration: `${duration}s`,
  });
  const mp4 = new URLSearchParams(query);
  mp4.set("filename", "clip.mp4");
  document.getElementById("clip-mp4").href = `/stream/${mediaId}/clip.mp4?${mp4}`;
  document.getElementById("clip-hls").href = `/stream/${mediaId}/manifest/clip.m3u8?${query}`;
  document.getElementById("clip-links").hidden = false;
}

position.addEventListener("input", () => {
  followEdge = false;
  positionText.textContent = seconds(position.value);
});
document.getElementById("clip").addEventListener("click", buildClip);

async function start() {
  try {
    const life = await lifecycle();
    state.textContent = life.live ? "live" : "recorded";
    state.classList.toggle("live", life.live);
    play(`/stream/${encodeURIComponent(id)}/manifest/video.m3u8`);
    let ended = await preview();
    while (!ended) {
      await new Promise((resolve) => setTimeout(resolve, REFRESH_MS));
      ended = await preview();
    }
    state.textContent = "recorded";
    state.classList.remove("live");
  } catch (error) {
    message.textContent = String(error.message || error);
  }
}

start();
