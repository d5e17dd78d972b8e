package controllers

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"beacon/app/audience"
	"beacon/app/broker"
	"beacon/app/models"
	"beacon/app/store"
	"beacon/views/pages"
)

// notificationPatchInput is an edit as an API client or the edit form
// sent it; a nil field stays as it is.
type notificationPatchInput struct {
	Title     *string `json:"title"`
	Body      *string `json:"body"`
	Level     *string `json:"level"`
	DeliverAt *string `json:"deliver_at"`
	// URL, when sent, is its new click target ("" for none).
	URL *string `json:"url"`
	// To or Recipient, when sent, addresses it anew (blank: everyone).
	To        *[]string `json:"to"`
	Recipient *string   `json:"recipient"`
}

// notificationUpdate saves the admin's edit form
// (POST /admin/notifications/:id): 303 to the list, or 422 with the form.
func (ctl *Controller) notificationUpdate(c echo.Context) error {
	id, err := notificationID(c)
	if err != nil {
		return err
	}
	in := notificationPatchInput{Title: formValue(c, "title"), Body: formValue(c, "body"), Level: formValue(c, "level"), URL: formValue(c, "url")}
	// The form shows deliver_at only while the notification waits; left
	// blank it keeps its time.
	if v := c.FormValue("deliver_at"); strings.TrimSpace(v) != "" {
		in.DeliverAt = &v
	}
	if v := formValue(c, "to"); v != nil {
		to := splitTo(*v)
		in.To = &to
	}
	_, errs, err := ctl.edit(c.Request().Context(), id, in)
	if err != nil {
		return err
	}
	if len(errs) == 0 {
		return c.Redirect(http.StatusSeeOther, "/admin/notifications")
	}
	n, err := ctl.notification(c.Request().Context(), id)
	if err != nil {
		return err
	}
	form := editForm(n)
	form.Title, form.Body, form.Level, form.URL = deref(in.Title), deref(in.Body), deref(in.Level), deref(in.URL)
	if in.DeliverAt != nil {
		form.DeliverAt = *in.DeliverAt
	}
	if v := formValue(c, "to"); v != nil {
		form.To = *v
	}
	form.Errors = errs
	return render(c, http.StatusUnprocessableEntity, pages.EditNotification(ctl.page(c, "Edit notification"), form))
}

// apiNotificationUpdate edits a notification for another system
// (PATCH /api/notifications/:id, bearer token): 200 with its new state.
func (ctl *Controller) apiNotificationUpdate(c echo.Context) error {
	id, err := notificationID(c)
	if err != nil {
		return err
	}
	var in notificationPatchInput
	if err := bindJSONObject(c, &in, maxAPIBody); err != nil {
		return err
	}
	n, errs, err := ctl.edit(c.Request().Context(), id, in)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"errors": errs})
	}
	return ctl.writeNotification(c, http.StatusOK, audience.ShownToAdmin(n))
}

// edit validates in and applies it to notification id, then tells every
// hub. It returns the new state, or the problems by field;
// errNoNotification when there is no live one.
func (ctl *Controller) edit(ctx context.Context, id int64, in notificationPatchInput) (models.Notification, map[string]string, error) {
	p, errs := checkPatch(in, time.Now())
	if len(errs) > 0 {
		return models.Notification{}, errs, nil
	}
	if in.To != nil || in.Recipient != nil {
		var to []string
		if in.To != nil {
			to = *in.To
		}
		named, err := ctl.resolveTo(ctx, deref(in.Recipient), to, errs)
		if err != nil || len(errs) > 0 {
			return models.Notification{}, errs, err
		}
		a, err := ctl.Store.StoreAudience(ctx, named)
		if err != nil {
			return models.Notification{}, nil, err
		}
		p.To = &a
	}
	if p == (store.NotificationPatch{}) {
		// Nothing to change, and nothing to tell the hubs.
		n, err := ctl.notification(ctx, id)
		return n, nil, err
	}
	var n models.Notification
	err := broker.SaveNotifications(ctx, ctl.Publisher, ctl.Log, p.DeliverAt != nil, func(ctx context.Context) error {
		var err error
		n, err = ctl.Store.UpdateNotification(ctx, id, p)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return n, nil, errNoNotification()
	case errors.Is(err, store.ErrAlreadyDelivered):
		return n, map[string]string{"deliver_at": "it was already delivered; only a scheduled notification can be rescheduled"}, nil
	case errors.Is(err, store.ErrKeyTaken):
		return n, map[string]string{"to": "a live notification to that audience has the same key"}, nil
	}
	return n, nil, err
}

// checkPatch validates an edit by the rules a post follows, field by
// field, and returns the patch to apply.
func checkPatch(in notificationPatchInput, now time.Time) (store.NotificationPatch, map[string]string) {
	errs := map[string]string{}
	fields := map[string]*string{"title": in.Title, "body": in.Body, "level": in.Level, "url": in.URL, "deliver_at": in.DeliverAt}
	for field, v := range fields {
		if v != nil && !models.IsText(*v) {
			errs[field] = models.NotText
		}
	}
	if len(errs) > 0 {
		return store.NotificationPatch{}, errs
	}
	var p store.NotificationPatch
	trim := func(v *string) *string {
		if v == nil {
			return nil
		}
		s := strings.TrimSpace(*v)
		return &s
	}
	p.Title, p.Body, p.Level, p.URL = trim(in.Title), trim(in.Body), trim(in.Level), trim(in.URL)
	if p.URL != nil && *p.URL != "" && !models.CheckURL(*p.URL) {
		errs["url"] = models.URLRule
	}
	// The rules are those of a whole notification: fill what is not being
	// changed with values that pass, and keep only the errors of fields sent.
	title, body, level := "ok", "", "info"
	if p.Title != nil {
		title = *p.Title
	}
	if p.Body != nil {
		body = *p.Body
	}
	if p.Level != nil {
		level = *p.Level
	}
	checkContent(errs, title, body, level)
	if in.DeliverAt != nil {
		t, msg := parseDeliverAt(strings.TrimSpace(*in.DeliverAt), now)
		if msg != "" {
			errs["deliver_at"] = msg
		} else {
			p.DeliverAt = &t
		}
	}
	return p, errs
}

// notification is notification id as an edit finds it, its recipient
// filled; errNoNotification when there is none or it was withdrawn.
func (ctl *Controller) notification(ctx context.Context, id int64) (models.Notification, error) {
	n, err := ctl.Store.NotificationByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && n.Withdrawn() {
		return models.Notification{}, errNoNotification()
	}
	return n, err
}
