// Beacon's feed: follow the notification stream and put each new
// notification, rendered by the server, at the top of the list.
(function () {
  "use strict";
  var feed = document.getElementById("feed");
  var list = document.getElementById("notifications");
  if (!feed || !list || !window.EventSource) return;

  // Resume after the newest notification the page rendered, so nothing
  // posted between the page load and the stream's start is missed.
  var lastId = feed.dataset.lastId || "0";
  var source = new EventSource("/notifications/stream?last_event_id=" + encodeURIComponent(lastId));

  source.addEventListener("notification", function (e) {
    var n = JSON.parse(e.data);
    if (document.getElementById("notification-" + n.id)) return;
    var tpl = document.createElement("template");
    tpl.innerHTML = n.html.trim();
    var item = tpl.content.firstElementChild;
    if (!item) return;
    item.classList.add("fresh");
    list.insertBefore(item, list.firstChild);
    var empty = document.getElementById("feed-empty");
    if (empty) empty.hidden = true;
  });

  // The server could not resume (its database was reset): start afresh.
  source.addEventListener("reset", function () {
    source.close();
    window.location.reload();
  });
})();
