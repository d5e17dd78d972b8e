// Beacon's pages: keep the signed-in user's unread count current in the
// header and the tab title, mark notifications read without a reload, and
// on the feed follow the notification stream, putting each new
// notification, rendered by the server, at the top of the list.
(function () {
  "use strict";
  var countEl = document.getElementById("unread-count"); // signed in only
  var badge = document.getElementById("unread-badge");
  var feed = document.getElementById("feed");
  var list = document.getElementById("notifications");
  var markAll = document.getElementById("mark-all");
  var template = document.getElementById("mark-read-template");
  // The newest notification id this page knows: the stream resumes after
  // it, and "mark all as read" stops at it.
  var newest = feed ? parseInt(feed.dataset.lastId || "0", 10) : 0;

  function unread() {
    return countEl ? parseInt(countEl.dataset.unread || "0", 10) : 0;
  }

  function setUnread(n) {
    if (!countEl) return;
    n = Math.max(0, n);
    countEl.dataset.unread = String(n);
    countEl.textContent = String(n);
    if (badge) badge.hidden = n === 0;
    var title = document.title.replace(/^\(\d+\) /, "");
    document.title = n > 0 ? "(" + n + ") " + title : title;
  }

  function markItemRead(item) {
    item.classList.remove("unread");
    item.classList.add("read");
    var form = item.querySelector("form.mark-read");
    if (form) form.remove();
  }

  // Marks the listed items read, those up to id through when it is given.
  function markItemsRead(through) {
    if (!list) return;
    var items = list.querySelectorAll(".notification.unread");
    Array.prototype.forEach.call(items, function (item) {
      if (through === undefined || parseInt(item.dataset.id, 10) <= through) markItemRead(item);
    });
  }

  // "Mark as read" and "Mark all as read" go by fetch; the server answers
  // with the new count. On any failure the form is submitted as usual.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var single = form.classList && form.classList.contains("mark-read");
    if (!countEl || !window.fetch || !(single || form === markAll)) return;
    e.preventDefault();
    var body = new URLSearchParams(new FormData(form));
    body.set("through", String(newest));
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": body.get("_csrf") || "" }
    }).then(function (resp) {
      if (!resp.ok) throw new Error("HTTP " + resp.status);
      return resp.json();
    }).then(function (data) {
      if (single) {
        var item = form.closest(".notification");
        if (item) markItemRead(item);
      } else {
        markItemsRead(newest);
      }
      setUnread(data.unread);
    }).catch(function () {
      form.submit();
    });
  });

  if (!feed || !list || !window.EventSource) return;
  var source = new EventSource("/notifications/stream?last_event_id=" + encodeURIComponent(String(newest)));

  source.addEventListener("notification", function (e) {
    var n = JSON.parse(e.data);
    newest = Math.max(newest, n.id);
    if (document.getElementById("notification-" + n.id)) return;
    var tpl = document.createElement("template");
    tpl.innerHTML = n.html.trim();
    var item = tpl.content.firstElementChild;
    if (!item) return;
    item.classList.add("fresh");
    // The shared html knows no user: a new notification is unread by
    // definition, and gets this page's "Mark as read" form.
    if (countEl) {
      item.classList.add("unread");
      var form = template && template.content.firstElementChild;
      if (form) {
        form = form.cloneNode(true);
        form.action = "/notifications/" + n.id + "/read";
        item.appendChild(form);
      }
      setUnread(unread() + 1);
    }
    list.insertBefore(item, list.firstChild);
    var empty = document.getElementById("feed-empty");
    if (empty) empty.hidden = true;
  });

  // The count, as of the last notification the stream sent: after a
  // (re)connect, and when this user reads some in another tab.
  source.addEventListener("unread", function (e) {
    var n = JSON.parse(e.data).unread;
    setUnread(n);
    if (n === 0) markItemsRead();
  });

  // The server could not resume (its database was reset): start afresh.
  source.addEventListener("reset", function () {
    source.close();
    window.location.reload();
  });
})();
