"""The chat page, served by the Worker at `/`.

The HTML lives in a Python module so that it is part of the Worker's bundle wherever the Worker
runs: `dojo serve`, `pywrangler dev`, or Cloudflare. Plain HTML and JavaScript, no CDN.
The page joins the room and name given in its query string (`/?room=lobby&name=alice`).
"""

INDEX_HTML = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dojo chat</title>
<link rel="icon" href="data:,">
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0; background: #f4f4f8; color: #222; }
  header { background: #3f51b5; color: #fff; padding: .6em 1em; display: flex; gap: 1em; align-items: center; }
  header h1 { font-size: 1.1em; margin: 0; flex: 1; }
  #status { font-size: .85em; padding: .1em .6em; border-radius: 1em; background: #9e9e9e; }
  #status.connected { background: #43a047; }
  #status.closed { background: #e53935; }
  main { max-width: 46em; margin: 1em auto; padding: 0 1em; }
  #join, #form { display: flex; gap: .5em; margin: .5em 0; }
  input { flex: 1; padding: .45em; border: 1px solid #bbb; border-radius: 4px; font: inherit; }
  button { padding: .45em 1em; border: 0; border-radius: 4px; background: #3f51b5; color: #fff; font: inherit; }
  #log { list-style: none; padding: .5em; margin: 0; background: #fff; border: 1px solid #ddd;
         border-radius: 4px; height: 55vh; overflow-y: auto; }
  #log li { padding: .15em 0; }
  #log li.sys { color: #777; font-style: italic; }
  #log li .who { font-weight: 600; margin-right: .3em; }
  #log li .when { color: #999; font-size: .8em; margin-left: .5em; }
</style>
</head>
<body>
<header><h1>Dojo chat: <span id="room-title"></span></h1><span id="status">connecting</span></header>
<main>
  <form id="join">
    <input id="room" placeholder="room" required pattern="[A-Za-z0-9_-]{1,64}">
    <input id="name" placeholder="your name" required maxlength="32">
    <button type="submit">Join</button>
  </form>
  <ul id="log"></ul>
  <form id="form">
    <input id="text" placeholder="Say something" autocomplete="off" maxlength="2000">
    <button id="send" type="submit">Send</button>
  </form>
</main>
<script>
"use strict";
const params = new URLSearchParams(location.search);
const $ = (id) => document.getElementById(id);
$("room").value = params.get("room") || "lobby";
$("name").value = params.get("name") || "guest-" + Math.floor(Math.random() * 10000);
let socket = null;

function line(className, who, text, at) {
  const li = document.createElement("li");
  li.className = className;
  if (who) {
    const b = document.createElement("span");
    b.className = "who";
    b.textContent = who + ":";
    li.appendChild(b);
  }
  li.appendChild(document.createTextNode(text));
  if (at) {
    const t = document.createElement("span");
    t.className = "when";
    t.textContent = new Date(at).toLocaleTimeString();
    li.appendChild(t);
  }
  $("log").appendChild(li);
  $("log").scrollTop = $("log").scrollHeight;
}

function setStatus(text) {
  $("status").textContent = text;
  $("status").className = text;
}

function connect() {
  if (socket) socket.close(1000, "switching rooms");
  const room = $("room").value, name = $("name").value;
  $("room-title").textContent = room;
  $("log").replaceChildren();
  history.replaceState(null, "", "?" + new URLSearchParams({ room, name }));
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + location.host + "/rooms/" + encodeURIComponent(room) +
                           "?name=" + encodeURIComponent(name));
  socket = ws;
  setStatus("connecting");
  ws.onopen = () => { if (socket === ws) setStatus("connected"); };
  ws.onclose = (event) => {
    if (socket !== ws) return;
    setStatus("closed");
    line("sys", "", "disconnected (" + event.code + (event.reason ? ": " + event.reason : "") + ")");
  };
  ws.onmessage = (event) => {
    const data = JSON.parse(event.data);
    if (data.type === "history") {
      for (const m of data.messages) line("msg", m.name, m.text, m.at);
    } else if (data.type === "message") {
      line("msg", data.name, data.text, data.at);
    } else if (data.type === "join" || data.type === "leave") {
      line("sys", "", data.name + (data.type === "join" ? " joined" : " left") + " (" + data.online + " online)");
    } else if (data.type === "error") {
      line("sys", "", "error: " + data.error);
    }
  };
}

$("join").addEventListener("submit", (event) => { event.preventDefault(); connect(); });
$("form").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("text").value.trim();
  if (!text || !socket || socket.readyState !== WebSocket.OPEN) return;
  socket.send(text);
  $("text").value = "";
});
connect();
</script>
</body>
</html>
"""
