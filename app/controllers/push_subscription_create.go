package controllers

import (
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"beacon/app/auth"
	"beacon/app/models"
	"beacon/app/push"
)

// maxSubscriptionBody bounds a subscription's JSON: an endpoint of at most
// 2,000 bytes and two keys.
const maxSubscriptionBody = 4 << 10

// pushSubscriptionCreate saves this browser's Web Push subscription for
// the signed-in user (POST /push/subscriptions, the page's script, with
// X-CSRF-Token): 201, or 200 when the endpoint was known; 422 naming what
// is wrong with it.
func (ctl *Controller) pushSubscriptionCreate(c echo.Context) error {
	var in push.Subscription
	if err := bindBrowserJSON(c, &in, maxSubscriptionBody); err != nil {
		return err
	}
	if err := in.Check(ctl.PushHosts); err != nil {
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"errors": map[string]string{"subscription": err.Error()}})
	}
	sub := models.PushSubscription{UserID: auth.UserID(c), Endpoint: in.Endpoint, P256dh: in.Keys.P256dh, Auth: in.Keys.Auth,
		UserAgent: truncate(c.Request().UserAgent(), 200)}
	created, err := ctl.Store.SavePushSubscription(c.Request().Context(), &sub)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, map[string]any{"id": sub.ID, "endpoint": sub.Endpoint})
}

// pushSubscriptionDelete forgets this browser's subscription
// (DELETE /push/subscriptions, {"endpoint"}): 204, also when it was not
// there.
func (ctl *Controller) pushSubscriptionDelete(c echo.Context) error {
	var in struct {
		Endpoint string `json:"endpoint"`
	}
	if err := bindBrowserJSON(c, &in, maxSubscriptionBody); err != nil {
		return err
	}
	if in.Endpoint == "" || !models.IsText(in.Endpoint) {
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"errors": map[string]string{"endpoint": "can't be blank"}})
	}
	if err := ctl.Store.DeletePushSubscription(c.Request().Context(), auth.UserID(c), in.Endpoint); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// truncate cuts s to at most n bytes, at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// requireUserJSON answers 401 to a request without a signed-in user, for
// the routes only a page's script calls.
func requireUserJSON(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if auth.CurrentUser(c) == nil {
			return c.JSON(http.StatusUnauthorized, map[string]string{"error": "Sign in first."})
		}
		return next(c)
	}
}
