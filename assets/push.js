// Web Push on this browser, for a signed-in person: /settings turns it on
// and off (#push-toggle); the feed offers it once desktop notifications
// were allowed (#push-offer, through window.Beacon.offerPush, which
// app.js calls). Nothing here asks the browser anything before a click.
(function () {
  "use strict";
  var toggle = document.getElementById("push-toggle");
  var offer = document.getElementById("push-offer");
  var status = document.getElementById("push-status");
  var unsupported = document.getElementById("push-unsupported");
  var supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;

  function say(text) {
    if (status) status.textContent = text;
  }

  // csrf is the token every signed-in page's forms carry (sign out, at least).
  function csrf() {
    var field = document.querySelector('input[name="_csrf"]');
    return field ? field.value : "";
  }

  function call(method, body) {
    return fetch("/push/subscriptions", {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body)
    }).then(function (resp) {
      if (resp.ok) return resp;
      return resp.json().catch(function () { return {}; }).then(function (data) {
        var why = data.errors && (data.errors.subscription || data.errors.endpoint) || data.error || data.message;
        if (resp.status === 403) why = "the page is out of date; reload it and try again";
        if (resp.status === 401) why = "you are signed out; sign in again";
        throw new Error(why || "the server answered " + resp.status);
      });
    });
  }

  // current is this browser's push subscription, or null; it registers no worker.
  function current() {
    if (!supported) return Promise.resolve(null);
    return navigator.serviceWorker.getRegistration("/").then(function (reg) {
      return reg ? reg.pushManager.getSubscription() : null;
    });
  }

  // key decodes the server's base64url public key.
  function key() {
    return fetch("/push/key", { credentials: "same-origin" }).then(function (resp) {
      if (!resp.ok) throw new Error("no key from the server (" + resp.status + ")");
      return resp.json();
    }).then(function (data) {
      var b64 = data.public_key.replace(/-/g, "+").replace(/_/g, "/");
      var raw = atob(b64 + "===".slice((b64.length + 3) % 4));
      var out = new Uint8Array(raw.length);
      for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
      return out;
    });
  }

  function sameKey(sub, k) {
    var had = sub.options && sub.options.applicationServerKey;
    if (!had) return false;
    had = new Uint8Array(had);
    return had.length === k.length && had.every(function (b, i) { return b === k[i]; });
  }

  // subscribe asks for permission (from a click), registers the worker,
  // subscribes with the server's key and tells the server. A subscription
  // made with another key (the server's keys changed) is replaced; one the
  // server refuses is undone, so the browser does not claim what is not so.
  function subscribe() {
    var asked = Notification.requestPermission();
    return Promise.resolve(asked).then(function (permission) {
      if ((permission || Notification.permission) !== "granted") {
        throw new Error("this browser does not allow Beacon's notifications; allow them in its site settings");
      }
      return Promise.all([navigator.serviceWorker.register("/sw.js").then(function () {
        return navigator.serviceWorker.ready;
      }), key()]);
    }).then(function (r) {
      var reg = r[0], k = r[1];
      return reg.pushManager.getSubscription().then(function (old) {
        if (old && sameKey(old, k)) return old;
        return (old ? old.unsubscribe() : Promise.resolve()).then(function () {
          return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: k });
        });
      });
    }).then(function (sub) {
      return call("POST", sub.toJSON()).catch(function (err) {
        return sub.unsubscribe().then(function () { throw err; }, function () { throw err; });
      });
    });
  }

  function unsubscribe() {
    return current().then(function (sub) {
      if (!sub) return;
      var endpoint = sub.endpoint;
      return sub.unsubscribe().then(function () { return call("DELETE", { endpoint: endpoint }); });
    });
  }

  // refreshDevices puts the server's list of devices in place of the
  // page's; when that fails, the page's stays until a reload.
  function refreshDevices() {
    var list = document.getElementById("devices");
    if (!list) return Promise.resolve();
    return fetch("/settings", { credentials: "same-origin" }).then(function (resp) {
      return resp.ok ? resp.text() : null;
    }).then(function (html) {
      var fresh = html && new DOMParser().parseFromString(html, "text/html").getElementById("devices");
      if (!fresh) return;
      list.replaceWith(fresh);
      if (window.Beacon && window.Beacon.refreshTimes) window.Beacon.refreshTimes(fresh);
    }).catch(function () {});
  }

  // --- /settings

  function label(on) {
    toggle.textContent = on ? "Turn off on this device" : "Push notifications on this device";
    toggle.dataset.on = on ? "true" : "false";
  }

  if (toggle && !supported) {
    if (unsupported) unsupported.hidden = false;
  } else if (toggle) {
    current().then(function (sub) {
      label(!!sub);
      toggle.hidden = false;
    }).catch(function () {
      if (unsupported) unsupported.hidden = false;
    });
    toggle.addEventListener("click", function () {
      var on = toggle.dataset.on === "true";
      toggle.disabled = true;
      say(on ? "Turning off…" : "Turning on…");
      (on ? unsubscribe() : subscribe()).then(function () {
        label(!on);
        say(on ? "Push notifications are off for this browser." : "Push notifications are on for this browser.");
        return refreshDevices();
      }).catch(function (err) {
        say("Could not turn push notifications " + (on ? "off" : "on") + ": " + err.message + ".");
        return current().then(function (sub) { label(!!sub); }, function () {});
      }).then(function () {
        toggle.disabled = false;
      });
    });
  }

  // --- The feed: an offer, once desktop notifications are allowed

  window.Beacon = window.Beacon || {};
  window.Beacon.offerPush = function () {
    if (!offer || !supported || Notification.permission !== "granted") return;
    current().then(function (sub) {
      if (sub) return;
      offer.hidden = false;
      // The button that had the focus is gone; the offer takes it.
      offer.focus();
    }, function () {});
  };
  if (offer) {
    offer.addEventListener("click", function () {
      offer.disabled = true;
      say("Turning on…");
      subscribe().then(function () {
        offer.hidden = true;
        say("Push notifications are on for this browser, also when Beacon's tabs are closed. ");
        var settings = document.createElement("a");
        settings.href = "/settings";
        settings.textContent = "Settings turn them off.";
        status.append(settings);
      }).catch(function (err) {
        offer.disabled = false;
        say("Could not turn push notifications on: " + err.message + ".");
      });
    });
  }
})();
