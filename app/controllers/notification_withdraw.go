package controllers

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"beacon/app/broker"
	"beacon/app/store"
)

// notificationWithdraw withdraws a notification from the admin list
// (POST /admin/notifications/:id/withdraw), or cancels a scheduled one.
func (ctl *Controller) notificationWithdraw(c echo.Context) error {
	id, err := notificationID(c)
	if err != nil {
		return err
	}
	if err := ctl.withdraw(c.Request().Context(), id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/notifications")
}

// apiNotificationWithdraw withdraws a notification for another system
// (DELETE /api/notifications/:id, bearer token): 204.
func (ctl *Controller) apiNotificationWithdraw(c echo.Context) error {
	id, err := notificationID(c)
	if err != nil {
		return err
	}
	if err := ctl.withdraw(c.Request().Context(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// withdraw withdraws notification id, then tells every hub;
// errNoNotification when there is none or it already was.
func (ctl *Controller) withdraw(ctx context.Context, id int64) error {
	err := broker.SaveThenPublish(ctx, ctl.Publisher, ctl.Log, broker.NotificationsTopic, func(ctx context.Context) error {
		_, err := ctl.Store.WithdrawNotification(ctx, id)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return errNoNotification()
	}
	return err
}
