// Beacon's pages: keep the signed-in user's unread count current in the
// header and the tab title, mark notifications read without a reload, show
// times as "2 min ago", and on the feed follow the notification stream,
// putting each new notification, rendered by the server, at the top of the
// list, saying it to screen readers and, when asked, to the desktop. The
// header's connection indicator follows the stream (here) or the chat's
// WebSocket (chat.js, through window.Beacon). A notification edited or
// withdrawn while the page is open changes or leaves in place, and one the
// person reads, marks unread or archives anywhere (another tab, another
// device) follows here through the stream's `state` events.
(function () {
  "use strict";
  var countEl = document.getElementById("unread-count"); // signed in only
  var badge = document.getElementById("unread-badge");
  var feed = document.getElementById("feed");
  var list = document.getElementById("notifications");
  var markAll = document.getElementById("mark-all");
  var template = document.getElementById("mark-read-template");
  var unreadTemplate = document.getElementById("mark-unread-template");
  var archiveTemplate = document.getElementById("archive-template");
  var announcer = document.getElementById("announcer");
  var notifyButton = document.getElementById("desktop-notify");
  var connection = document.getElementById("connection");
  var connectionText = document.getElementById("connection-text");
  // The stream position at which the newest notification this page shows
  // became visible: "mark all as read" stops at it.
  var newest = feed ? parseInt(feed.dataset.lastId || "0", 10) : 0;
  // The stream position this page is current to (opaque, from the
  // server): a new stream resumes after it.
  var cursor = feed ? feed.dataset.position || "0" : "0";
  // The signed-in user's state number as rendered: the stream sends their
  // read and archive changes after it, so the page misses none.
  var stateSeq = feed ? feed.dataset.state : undefined;
  // A page back (?before=) or narrowed (?level=, ?q=) shows what it asked
  // for; the stream still keeps its read state and the count current.
  var pagedBack = !!feed && feed.hasAttribute("data-history");
  // The page shows the archive: what is taken out of it leaves the page.
  var archiveView = !!feed && feed.hasAttribute("data-archive");
  // How many unread notifications arrived live: a marking answered with a
  // count as of its submission adds those that arrived while it was sent.
  var arrivals = 0;

  // --- The header

  var connectionLabels = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…", offline: "Offline" };

  // setConnection shows state (a key of connectionLabels) in the header;
  // detail, when given, is its tooltip. The element is a status region, so
  // the text changes only when the state does, or it would be read again.
  function setConnection(state, detail) {
    if (!connection) return;
    connection.hidden = false;
    connection.title = detail || connectionLabels[state];
    if (connection.dataset.state === state && connectionText.textContent === connectionLabels[state]) return;
    connection.dataset.state = state;
    connectionText.textContent = connectionLabels[state];
  }
  window.Beacon = { setConnection: setConnection, refreshTimes: refreshTimes };

  // The current section, for assistive technology and the eye.
  Array.prototype.forEach.call(document.querySelectorAll(".site-header nav a"), function (a) {
    var href = a.getAttribute("href");
    var here = location.pathname;
    if (href === "/" ? here === "/" : here === href || here.indexOf(href + "/") === 0) {
      a.setAttribute("aria-current", "page");
    }
  });

  // --- Relative times: one timer for the whole page

  function ago(date, now) {
    var s = Math.round((now - date) / 1000);
    if (s < 45) return "just now";
    var m = Math.round(s / 60);
    if (m < 60) return m + " min ago";
    var h = Math.round(m / 60);
    if (h < 24) return h + " h ago";
    var d = Math.round(h / 24);
    if (d === 1) return "yesterday";
    if (d < 7) return d + " days ago";
    return date.toLocaleDateString([], { day: "numeric", month: "short", year: "numeric" });
  }

  function refreshTimes(root) {
    var now = Date.now();
    Array.prototype.forEach.call((root || document).querySelectorAll("time.ago[datetime]"), function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (isNaN(d)) return;
      t.textContent = ago(d, now);
      t.title = d.toLocaleString([], { dateStyle: "full", timeStyle: "medium" });
    });
  }
  refreshTimes();
  setInterval(refreshTimes, 30000);

  // --- Unread count and marking read

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

  // markForm is this page's form that marks notification id read (or,
  // when read, unread), or null where the page has none.
  function markForm(id, read) {
    var tpl = read ? unreadTemplate : template;
    var form = tpl && tpl.content.firstElementChild;
    if (!form) return null;
    form = form.cloneNode(true);
    form.action = "/notifications/" + id + (read ? "/unread" : "/read");
    return form;
  }

  // setRead shows item read or unread, with the form that marks it the
  // other way; keyboard focus on the form it replaces moves to the new one.
  function setRead(item, read) {
    if (!countEl) return;
    item.classList.toggle("read", read);
    item.classList.toggle("unread", !read);
    var have = item.querySelector(read ? "form.mark-unread" : "form.mark-read");
    var stale = item.querySelector(read ? "form.mark-read" : "form.mark-unread");
    if (have && !stale) return;
    var focused = !!stale && stale.contains(document.activeElement);
    var form = have || markForm(item.dataset.id, read);
    if (stale) stale.remove();
    if (form && !form.isConnected) item.insertBefore(form, item.querySelector("form.archive"));
    if (focused) {
      var button = form && form.querySelector("button");
      if (!button && !item.hasAttribute("tabindex")) item.tabIndex = -1;
      (button || item).focus();
    }
  }

  function markItemRead(item) {
    setRead(item, true);
  }

  function unreadItems() {
    return list ? Array.prototype.slice.call(list.querySelectorAll(".notification.unread")) : [];
  }

  // Marks items read: those given, else every listed one.
  function markItemsRead(items) {
    (items || unreadItems()).forEach(markItemRead);
  }

  // "Mark as read" and "Mark all as read" go by fetch; the server answers
  // with the new count. On any failure the form is submitted as usual.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var single = form.classList && (form.classList.contains("mark-read") || form.classList.contains("mark-unread"));
    var read = !(form.classList && form.classList.contains("mark-unread"));
    if (!countEl || !window.fetch || !(single || form === markAll)) return;
    e.preventDefault();
    // What "mark all" covers is what is shown now; one arriving while the
    // request is under way stays unread.
    var at = newest, seen = arrivals, covered = unreadItems();
    var body = new URLSearchParams(new FormData(form));
    body.set("through", String(at));
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
        // An edit that arrived meanwhile replaced the item the form was
        // in: the one shown now is the one to mark.
        if (item && item.dataset.id && !item.isConnected) {
          item = document.getElementById("notification-" + item.dataset.id) || item;
        }
        // The form swaps for the other (here, or already by the stream's
        // state event); a focused button hands focus to its successor.
        if (item) setRead(item, read);
      } else {
        markItemsRead(covered);
      }
      setUnread(data.unread + arrivals - seen);
    }).catch(function () {
      form.submit();
    });
  });

  if (!feed || !list) return;

  // --- Saying new notifications: to screen readers, and to the desktop

  // Changes within a moment (a replay after a reconnect) are said at once.
  // what is "New notification", "Updated notification" or "Withdrawn".
  var pending = [];
  var announceTimer = null;
  function announce(what, title) {
    if (!announcer) return;
    pending.push({ what: what, title: title });
    if (announceTimer) return;
    announceTimer = setTimeout(function () {
      announceTimer = null;
      var last = pending[pending.length - 1];
      var allNew = pending.every(function (p) { return p.what === "New notification"; });
      var text = pending.length === 1 ? last.what + ": " + last.title
        : allNew ? pending.length + " new notifications. The newest: " + last.title
        : pending.length + " notifications changed. The latest: " + last.what.toLowerCase() + ": " + last.title;
      pending = [];
      announcer.textContent = text;
    }, 250);
  }

  var canNotify = "Notification" in window;
  // Asked only after a click: a prompt on load is refused by browsers and people.
  if (notifyButton && canNotify && Notification.permission === "default") {
    notifyButton.hidden = false;
    notifyButton.addEventListener("click", function () {
      var done = function () {
        notifyButton.hidden = Notification.permission !== "default";
        // push.js, when loaded, offers the same for closed tabs.
        if (Notification.permission === "granted" && window.Beacon.offerPush) window.Beacon.offerPush();
      };
      var p = Notification.requestPermission(done);
      if (p && p.then) p.then(done);
    });
  }

  // interrupts tells whether a notification of level may interrupt the
  // person now, as their settings say (the server's
  // models.Preferences.Interrupts): its level is on, and it is outside
  // their quiet hours, or an error they let through.
  function interrupts(level) {
    var d = feed ? feed.dataset : {};
    if (d.interruptLevels === undefined) return true; // a visitor
    if (d.interruptLevels.split(",").indexOf(level) < 0) return false;
    if (!d.quietStart || !d.quietEnd || d.quietStart === d.quietEnd) return true;
    var now;
    try {
      now = new Intl.DateTimeFormat("en-GB", { timeZone: d.timeZone || "UTC", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
        .format(new Date());
    } catch (err) {
      return true;
    }
    var quiet = d.quietStart < d.quietEnd ? d.quietStart <= now && now < d.quietEnd : now >= d.quietStart || now < d.quietEnd;
    return !quiet || (level === "error" && d.quietErrors === "true");
  }

  // Arrivals within a moment (a replay after a night away) make one
  // desktop notification, not one each.
  var toNotify = [];
  var notifyTimer = null;
  function desktopNotify(n) {
    if (!canNotify || Notification.permission !== "granted" || !document.hidden || !interrupts(n.level)) return;
    toNotify.push(n);
    if (notifyTimer) return;
    notifyTimer = setTimeout(function () {
      notifyTimer = null;
      var ns = toNotify;
      toNotify = [];
      var last = ns[ns.length - 1];
      var title = ns.length === 1 ? last.title : ns.length + " new notifications";
      var body = ns.length === 1 ? (last.body || "") : "The newest: " + last.title;
      var icon = document.querySelector("link[rel=icon]");
      var options = { body: body, tag: "beacon-" + last.id, icon: icon ? icon.href : undefined };
      // With Beacon's service worker in charge of the page (push is on in
      // this browser), it is shown as the worker's: the push that may
      // follow then replaces it under its tag rather than showing it
      // twice, and the worker handles its click.
      if (navigator.serviceWorker && navigator.serviceWorker.controller) {
        options.data = ns.length === 1 ? { id: last.id, url: last.url } : {};
        navigator.serviceWorker.ready.then(function (reg) {
          return reg.showNotification(title, options);
        }).catch(function () {});
        return;
      }
      try {
        var note = new Notification(title, options);
        note.onclick = function (e) {
          e.preventDefault();
          note.close();
          if (ns.length === 1) clicked(last); else window.focus();
        };
      } catch (err) {
        // Some browsers allow notifications only from a service worker.
      }
    }, 250);
  }

  // clicked does what a click on n's desktop notification does, as the
  // service worker's does: opens its url, else brings the feed forward,
  // and marks it read here, so that the page shows it read too.
  function clicked(n) {
    if (n.url) window.open(n.url, "_blank", "noopener");
    else window.focus();
    var form = document.querySelector("#notification-" + n.id + " form.mark-read");
    if (form && form.requestSubmit) form.requestSubmit();
  }

  // --- The stream

  // The stream sends this page each notification's id and html alone
  // (?fields=html): the html holds everything else the page says.

  // text is what item's element sel says, "" when it has none.
  function text(item, sel) {
    var el = item.querySelector(sel);
    return el ? el.textContent : "";
  }

  // card is n's item as the server rendered it, for this page: the shared
  // html knows no user, so for a signed-in user it is marked read or
  // unread here, and an unread one gets this page's "Mark as read" form.
  function card(n, read) {
    var tpl = document.createElement("template");
    tpl.innerHTML = n.html.trim();
    var item = tpl.content.firstElementChild;
    if (!item) return null;
    item.classList.add("fresh");
    if (countEl) {
      item.classList.add(read ? "read" : "unread");
      var form = markForm(n.id, read);
      if (form) item.appendChild(form);
      // Archiving is a plain form: the feed reloads without it.
      var archive = archiveTemplate && archiveTemplate.content.firstElementChild;
      if (archive) {
        archive = archive.cloneNode(true);
        archive.action = "/notifications/" + n.id + "/archive";
        item.appendChild(archive);
      }
    }
    refreshTimes(item);
    return item;
  }

  function shown(id) {
    return document.getElementById("notification-" + id);
  }

  // replace puts n's new state in place of old, as read as old was, and
  // returns it; the keyboard focus, if it was inside, stays on the item.
  function replace(old, n) {
    var item = card(n, !old.classList.contains("unread"));
    if (!item) return null;
    var focused = old.contains(document.activeElement);
    old.replaceWith(item);
    if (focused) {
      var button = item.querySelector("form.mark-read button");
      if (!button) item.tabIndex = -1;
      (button || item).focus();
    }
    return item;
  }

  // show puts a new notification at the top, unread. One the page already
  // shows (a replay of what it rendered) is only brought up to date.
  // position is its event's id: live, exactly where it became visible; in
  // a replay, its latest position, which may run ahead of that until the
  // replay (sent in one burst) is through.
  function show(n, position) {
    newest = Math.max(newest, position || n.id);
    var old = shown(n.id);
    if (old) {
      replace(old, n);
      return;
    }
    var item = card(n, false);
    if (!item) return;
    if (countEl) {
      setUnread(unread() + 1);
      arrivals++;
    }
    var title = text(item, ".title");
    if (pagedBack) {
      // An older or narrowed page: arrivals join the newest page only.
      announce("New notification on the newest page", title);
    } else {
      list.insertBefore(item, list.firstChild);
      var empty = document.getElementById("feed-empty");
      if (empty) empty.hidden = true;
      announce("New notification", title);
    }
    var link = item.querySelector(".title a");
    var level = (item.className.match(/\blevel-(\w+)/) || [])[1] || "";
    desktopNotify({ id: n.id, title: title, body: text(item, ".body"), url: link ? link.getAttribute("href") : null, level: level });
  }

  // update applies an edit to the item in place; one the page does not
  // show (older than its list) stays out of it.
  function update(n) {
    var old = shown(n.id);
    if (!old) return;
    var item = replace(old, n);
    if (item) announce("Updated notification", text(item, ".title"));
  }

  // withdraw takes the item away, and its unread mark from the count.
  function withdraw(id) {
    var old = shown(id);
    if (!old) return;
    if (countEl && old.classList.contains("unread")) setUnread(unread() - 1);
    leave(old, "Withdrawn");
  }

  // leave takes the item off the page and says so (what: "Withdrawn",
  // "Archived" …).
  function leave(old, what) {
    var title = old.querySelector(".title");
    // Focus inside would fall to the document: give it to a neighbour.
    var next = old.contains(document.activeElement) && (old.nextElementSibling || old.previousElementSibling);
    old.remove();
    if (next) {
      if (!next.hasAttribute("tabindex")) next.tabIndex = -1;
      next.focus();
    }
    var empty = document.getElementById("feed-empty");
    if (empty && !list.querySelector(".notification")) empty.hidden = false;
    announce(what, title ? title.textContent : "a notification");
  }

  // applyState follows a change of the user's read or archive state made
  // anywhere (this tab, another, another device): {"ids":[…],"read":…},
  // {"ids":[…],"archived":…} or {"all":true,"read":true,"through":P}. The
  // unread count that follows it sets the badge.
  function applyState(s) {
    var items = s.all
      ? Array.prototype.filter.call(list.querySelectorAll(".notification"), function (item) {
        return parseInt(item.dataset.first || "0", 10) <= s.through;
      })
      : (s.ids || []).map(shown).filter(Boolean);
    items.forEach(function (item) {
      if (typeof s.read === "boolean") setRead(item, s.read);
      // One archived leaves the feed; one taken out of the archive leaves
      // the archive.
      if (typeof s.archived === "boolean" && s.archived !== archiveView) {
        leave(item, s.archived ? "Archived" : "Moved back to the feed");
      }
    });
    if (s.archived === false && !archiveView && !pagedBack) (s.ids || []).forEach(restore);
  }

  // restore puts back a notification taken out of the archive elsewhere,
  // as the server renders it for this person on the newest page (the
  // state event carries no html): where it became visible among the
  // cards, if it is among the newest at all.
  function restore(id) {
    if (shown(id) || !window.fetch || !window.DOMParser) return;
    fetch("/", { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (resp) {
      if (!resp.ok) throw new Error("HTTP " + resp.status);
      return resp.text();
    }).then(function (html) {
      var found = new DOMParser().parseFromString(html, "text/html").getElementById("notification-" + id);
      if (!found || shown(id)) return;
      var item = document.importNode(found, true);
      var first = parseInt(item.dataset.first || "0", 10);
      var next = Array.prototype.find.call(list.querySelectorAll(".notification"), function (c) {
        return parseInt(c.dataset.first || "0", 10) < first;
      });
      list.insertBefore(item, next || null);
      var empty = document.getElementById("feed-empty");
      if (empty) empty.hidden = true;
      refreshTimes(item);
      announce("Back in the feed", text(item, ".title"));
    }).catch(function () {});
  }

  if (!window.EventSource) return;
  // The browser reconnects by itself after a network error, sending the
  // last id it saw. Errors in a row without an open tell "reconnecting"
  // from "offline"; a source the browser gave up on (an answer that was no
  // stream, as from a proxy while the server restarts) is replaced here.
  var offlineAfter = 5;
  var failures = 0;
  var source = null;
  var reopenTimer = null;
  // A stream counts as live once it has lasted a moment or sent an event:
  // a server that answers and at once ends the stream (its database is
  // down) must not flip the indicator to "live" between failures.
  var liveTimer = null;
  function live() {
    clearTimeout(liveTimer);
    liveTimer = null;
    failures = 0;
    setConnection("live", "Live: new notifications appear as they are posted.");
  }

  function open() {
    reopenTimer = null;
    var url = "/notifications/stream?fields=html&last_event_id=" + encodeURIComponent(cursor);
    if (stateSeq !== undefined) url += "&state_after=" + encodeURIComponent(stateSeq);
    source = new EventSource(url);
    source.onopen = function () {
      liveTimer = setTimeout(live, 1000);
    };
    source.onerror = function () {
      clearTimeout(liveTimer);
      liveTimer = null;
      failures++;
      var offline = failures >= offlineAfter || navigator.onLine === false;
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        var delay = Math.min(30000, 1000 * Math.pow(2, Math.min(failures, 5)));
        reopenTimer = setTimeout(open, delay);
      }
      setConnection(offline ? "offline" : "reconnecting",
        offline ? "Offline: what is posted meanwhile appears when the connection is back." : "Reconnecting…");
    };
    // Each event's id is the position the page is then current to.
    function on(kind, apply) {
      source.addEventListener(kind, function (e) {
        live();
        if (e.lastEventId) cursor = e.lastEventId;
        apply(JSON.parse(e.data), parseInt(e.lastEventId, 10));
      });
    }
    on("notification", show);
    on("update", update);
    on("withdraw", function (data) { withdraw(data.id); });
    // The count, as of the last notification the stream sent: after a
    // (re)connect, and when this user reads some in another tab.
    source.addEventListener("unread", function (e) {
      live();
      var n = JSON.parse(e.data).unread;
      setUnread(n);
      if (n === 0) markItemsRead();
    });
    source.addEventListener("state", function (e) {
      live();
      applyState(JSON.parse(e.data));
    });
    // The server could not resume (its database was reset): start afresh.
    source.addEventListener("reset", function () {
      source.close();
      window.location.reload();
    });
  }

  window.addEventListener("offline", function () {
    setConnection("offline", "Offline: what is posted meanwhile appears when the connection is back.");
  });
  window.addEventListener("online", function () {
    if (reopenTimer) {
      clearTimeout(reopenTimer);
      open();
    } else if (source && source.readyState !== EventSource.OPEN) {
      setConnection("reconnecting");
    }
  });

  // Leaving the page ends its stream at once: a page kept in the
  // back/forward cache held its connection, and over HTTP/1.1 a browser
  // has six per site for every tab together. Coming back reopens it,
  // from where the page was.
  window.addEventListener("pagehide", function () {
    clearTimeout(reopenTimer);
    if (source) source.close();
  });
  window.addEventListener("pageshow", function (e) {
    if (e.persisted) open();
  });

  setConnection("connecting");
  open();
})();
