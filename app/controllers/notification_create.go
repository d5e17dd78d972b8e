package controllers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"beacon/app/channels"
	"beacon/app/models"
	"beacon/app/store"
	"beacon/views/components"
	"beacon/views/pages"
)

// maxAPIBody is how many bytes of JSON one API call may send.
const maxAPIBody = 64 << 10

// notificationInput is a notification as an admin or an API client sent
// it: the API decodes it from JSON, the form handler fills it field by field.
type notificationInput struct {
	Title     string `json:"title"`
	Body      string `json:"body"`
	Level     string `json:"level"`
	Recipient string `json:"recipient"`
}

// notificationCreate posts a notification from the admin form
// (POST /admin/notifications).
func (ctl *Controller) notificationCreate(c echo.Context) error {
	in := notificationInput{
		Title:     c.FormValue("title"),
		Body:      c.FormValue("body"),
		Level:     c.FormValue("level"),
		Recipient: c.FormValue("recipient"),
	}
	n, errs, err := ctl.validate(c.Request().Context(), in)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		form := pages.NotificationForm{Title: in.Title, Body: in.Body, Level: in.Level, Recipient: in.Recipient, Errors: errs}
		return render(c, http.StatusUnprocessableEntity, pages.NewNotification(ctl.page(c, "New notification"), form))
	}
	if err := ctl.post(c.Request().Context(), &n); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/notifications")
}

// apiNotificationCreate posts a notification for another system
// (POST /api/notifications, bearer token).
func (ctl *Controller) apiNotificationCreate(c echo.Context) error {
	var in notificationInput
	if err := bindJSONObject(c, &in, maxAPIBody); err != nil {
		return err
	}
	n, errs, err := ctl.validate(c.Request().Context(), in)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"errors": errs})
	}
	if err := ctl.post(c.Request().Context(), &n); err != nil {
		return err
	}
	p, err := components.NotificationJSON(c.Request().Context(), n)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, json.RawMessage(p))
}

// validate checks in and resolves its recipient. It returns the
// notification to store, or the problems by field.
func (ctl *Controller) validate(ctx context.Context, in notificationInput) (models.Notification, map[string]string, error) {
	errs := map[string]string{}
	// Checked first: text a database cannot store must not reach a query.
	for field, v := range map[string]string{"title": in.Title, "body": in.Body, "level": in.Level, "recipient": in.Recipient} {
		if !models.IsText(v) {
			errs[field] = models.NotText
		}
	}
	if len(errs) > 0 {
		return models.Notification{}, errs, nil
	}
	n := models.Notification{
		Title: strings.TrimSpace(in.Title),
		Body:  strings.TrimSpace(in.Body),
		Level: strings.TrimSpace(in.Level),
	}
	switch {
	case n.Title == "":
		errs["title"] = "can't be blank"
	case utf8.RuneCountInString(n.Title) > models.MaxTitle:
		errs["title"] = fmt.Sprintf("is too long (at most %d characters)", models.MaxTitle)
	}
	if utf8.RuneCountInString(n.Body) > models.MaxBody {
		errs["body"] = fmt.Sprintf("is too long (at most %d characters)", models.MaxBody)
	}
	if n.Level == "" {
		n.Level = "info"
	}
	if !slices.Contains(models.Levels, n.Level) {
		errs["level"] = "must be one of " + strings.Join(models.Levels, ", ")
	}
	if email := strings.TrimSpace(in.Recipient); email != "" {
		u, err := ctl.Store.UserByEmail(ctx, email)
		switch {
		case errors.Is(err, store.ErrNotFound):
			errs["recipient"] = "no user has this email"
		case err != nil:
			return n, nil, err
		default:
			n.RecipientID, n.Recipient = &u.ID, &u
		}
	}
	return n, errs, nil
}

// post stores n, then tells every hub. Once it returns, n is on its way to
// every browser that may see it.
func (ctl *Controller) post(ctx context.Context, n *models.Notification) error {
	return channels.SaveThenPublish(ctx, ctl.Publisher, ctl.Log, channels.NotificationsTopic, func(ctx context.Context) error {
		return ctl.Store.CreateNotification(ctx, n)
	})
}
