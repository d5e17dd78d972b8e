// Beacon's service worker (served at /sw.js, scope /): Web Push for closed
// tabs. Each notification is shown under the tag beacon-<id>, so that an
// edit replaces it and a withdrawal closes it; a click opens it through
// /notifications/<id>/open, which marks it read and leads to its url.
"use strict";

// Pushes are handled one at a time, in the order they came: a withdrawal
// right behind its notification must find it shown.
var queue = Promise.resolve();

// A new worker takes over at once, and the open pages with it, so that a
// click can navigate them (only a controlled page can be).
self.addEventListener("install", function () {
  self.skipWaiting();
});
self.addEventListener("activate", function (e) {
  e.waitUntil(self.clients.claim());
});

self.addEventListener("push", function (e) {
  var msg = parse(e.data);
  if (!msg) return;
  queue = queue.then(function () { return handle(msg); }).catch(function () {});
  e.waitUntil(queue);
});

// parse is the push's message, or null for anything that is not one.
function parse(data) {
  try {
    var m = data ? data.json() : null;
    return m && Number.isInteger(m.id) && m.id > 0 ? m : null;
  } catch (err) {
    return null;
  }
}

function handle(m) {
  var tag = "beacon-" + m.id;
  if (m.kind === "withdraw") {
    return shown(tag).then(function (ns) { ns.forEach(function (n) { n.close(); }); });
  }
  if (m.kind !== "notification" && m.kind !== "update") return;
  return Promise.all([feedVisible(), shown(tag)]).then(function (r) {
    // The open feed has said it already.
    if (r[0]) return;
    // An edit brings back no notification that was dismissed.
    if (m.kind === "update" && r[1].length === 0) return;
    var options = { body: m.body || "", tag: tag, icon: "/assets/icon.svg", data: { id: m.id, url: m.url || null } };
    var at = Date.parse(m.created_at);
    if (!isNaN(at)) options.timestamp = at;
    return self.registration.showNotification(m.title || "Beacon", options);
  });
}

function shown(tag) {
  return self.registration.getNotifications({ tag: tag });
}

function windows() {
  return self.clients.matchAll({ type: "window", includeUncontrolled: true });
}

function isFeed(client) {
  return new URL(client.url).pathname === "/";
}

// feedVisible tells whether a feed is on screen: it follows the stream and
// says each notification itself. Other pages do not, so they count as away.
function feedVisible() {
  return windows().then(function (cs) {
    return cs.some(function (c) { return c.visibilityState === "visible" && isFeed(c); });
  });
}

// A click opens the notification's url in a new window, through the route
// that marks it read; one without a url brings a feed forward and marks it
// there, or opens the feed. Another page is not navigated away from: it
// may hold a half-filled form.
self.addEventListener("notificationclick", function (e) {
  var n = e.notification;
  n.close();
  var d = n.data || {};
  var target = Number.isInteger(d.id) && d.id > 0 ? "/notifications/" + d.id + "/open" : "/";
  e.waitUntil(windows().then(function (cs) {
    var feed = !d.url && cs.filter(isFeed)[0];
    if (!feed) return self.clients.openWindow(target);
    return feed.focus().then(function (c) {
      return (c || feed).navigate(target);
    }).catch(function () {
      return self.clients.openWindow(target);
    });
  }));
});
