// Beacon's chat: follow a room over its WebSocket, show messages (rendered
// by the server, HTML already escaped) and who is online, send on Enter,
// and reconnect with backoff and jitter when the connection drops. The
// header's connection indicator (app.js's window.Beacon) follows the socket.
(function () {
  "use strict";
  var chat = document.getElementById("chat");
  var list = document.getElementById("chat-messages");
  var online = document.getElementById("chat-online");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-body");
  var errorBox = document.getElementById("chat-error");
  if (!chat || !list || !form || !input || !window.WebSocket) return;

  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host +
    "/chat/" + encodeURIComponent(chat.dataset.room) + "/ws";
  var socket = null;
  var attempt = 0;
  // The session ended: the server closed the socket, and nothing comes back.
  var signedOut = false;
  var signedOutText = "You were signed out. Reload the page to sign in again.";
  var timer = null;

  // After this many failed attempts in a row the room counts as offline.
  var offlineAfter = 4;

  function setConnection(state, detail) {
    if (window.Beacon) window.Beacon.setConnection(state, detail);
  }

  function showError(text) {
    if (!errorBox) return;
    errorBox.textContent = text;
    errorBox.hidden = !text;
  }

  function localTime(item) {
    var t = item.querySelector("time[datetime]");
    if (!t) return;
    var d = new Date(t.getAttribute("datetime"));
    if (!isNaN(d)) t.textContent = d.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
  }

  // add puts a message in id order, once, however often it arrives (live,
  // then again in the history after a reconnect).
  function add(m) {
    if (document.getElementById("chat-message-" + m.id)) return;
    var tpl = document.createElement("template");
    tpl.innerHTML = m.html.trim();
    var item = tpl.content.firstElementChild;
    if (!item) return;
    localTime(item);
    var atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    var next = null;
    for (var el = list.lastElementChild; el; el = el.previousElementSibling) {
      if (Number(el.dataset.id) < m.id) break;
      next = el;
    }
    list.insertBefore(item, next);
    if (atBottom) list.scrollTop = list.scrollHeight;
  }

  function showOnline(names) {
    if (!online) return;
    online.replaceChildren.apply(online, names.map(function (name) {
      var li = document.createElement("li");
      li.textContent = name;
      return li;
    }));
  }

  function connect() {
    timer = null;
    if (!attempt) setConnection("connecting");
    // Say what this page has, the newest message shown: the history that
    // comes back is what it missed (after a reconnect, or since the page
    // was rendered), not just the last 50.
    var last = list.lastElementChild ? Number(list.lastElementChild.dataset.id) : 0;
    socket = new WebSocket(last > 0 ? url + "?after=" + last : url);
    // Live once the room's history arrives, not at the handshake: a room
    // that cannot be loaded is closed right after it, and that must count
    // as a failure for the backoff.
    socket.onmessage = function (e) {
      var f;
      try { f = JSON.parse(e.data); } catch (err) { return; }
      switch (f.type) {
        case "message": add(f); break;
        case "history":
          attempt = 0;
          setConnection("live", "Live: connected to #" + chat.dataset.room + ".");
          f.messages.forEach(add);
          list.scrollTop = list.scrollHeight;
          break;
        case "presence": showOnline(f.online); break;
        case "error": showError(f.error); break;
      }
    };
    socket.onclose = function (e) {
      socket = null;
      // Signed out (here or in another tab): coming back would only be
      // refused. Say so and stop.
      if (e.code === 1008 && /^session ended/.test(e.reason)) {
        signedOut = true;
        setConnection("offline", "Signed out: reload the page to sign in again.");
        showError(signedOutText);
        return;
      }
      // Exponential backoff up to 30 s, with full jitter so that a whole
      // room does not come back at the same instant after a restart.
      var ceiling = Math.min(30000, 1000 * Math.pow(2, attempt));
      var delay = Math.round(500 + Math.random() * ceiling);
      attempt++;
      var why = e.code === 1001 ? "The server restarted." : e.code === 1008 ? (e.reason || "Disconnected.") : "Connection lost.";
      var offline = attempt >= offlineAfter || navigator.onLine === false;
      setConnection(offline ? "offline" : "reconnecting", why + " Reconnecting in " + Math.ceil(delay / 1000) + " s…");
      timer = setTimeout(connect, delay);
    };
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = input.value;
    if (!body.trim()) return;
    if (!socket || socket.readyState !== WebSocket.OPEN) {
      // The socket closes as soon as the session ends: say why it is gone.
      showError(signedOut ? signedOutText : "Not connected: your message was not sent.");
      return;
    }
    socket.send(JSON.stringify({ type: "message", body: body }));
    input.value = "";
    showError("");
  });

  // Come back at once when the tab is shown again after a long wait.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && timer) {
      clearTimeout(timer);
      connect();
    }
  });

  Array.prototype.forEach.call(list.children, localTime);
  list.scrollTop = list.scrollHeight;
  connect();
})();
