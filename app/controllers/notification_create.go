package controllers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"beacon/app/audience"
	"beacon/app/broker"
	"beacon/app/models"
	"beacon/app/store"
	"beacon/views/pages"
)

// notificationInput is a notification as an admin or an API client sent
// it: the API decodes it from JSON, the form handler fills it field by field.
type notificationInput struct {
	Title     string `json:"title"`
	Body      string `json:"body"`
	Level     string `json:"level"`
	Recipient string `json:"recipient"`
	// To names the audience: emails of users and group:NAME entries.
	To  []string `json:"to"`
	Key string   `json:"key"`
	// URL is where a click on it leads (models.CheckURL); blank for none.
	URL string `json:"url"`
	// DeliverAt is RFC 3339; the form's datetime-local value (no offset)
	// is read as UTC.
	DeliverAt string `json:"deliver_at"`
}

// notificationCreate posts a notification from the admin form
// (POST /admin/notifications).
func (ctl *Controller) notificationCreate(c echo.Context) error {
	in := notificationInput{
		Title:     c.FormValue("title"),
		Body:      c.FormValue("body"),
		Level:     c.FormValue("level"),
		Recipient: c.FormValue("recipient"),
		To:        splitTo(c.FormValue("to")),
		Key:       c.FormValue("key"),
		URL:       c.FormValue("url"),
		DeliverAt: c.FormValue("deliver_at"),
	}
	_, _, errs, err := ctl.postInput(c.Request().Context(), in)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		// The form has one field for its audience: a recipient sent by an
		// older form is shown there.
		to := c.FormValue("to")
		if in.Recipient != "" && to == "" {
			to = in.Recipient
			if msg, ok := errs["recipient"]; ok {
				errs["to"] = msg
			}
		}
		form := pages.NotificationForm{Title: in.Title, Body: in.Body, Level: in.Level, To: to,
			Key: in.Key, URL: in.URL, DeliverAt: in.DeliverAt, Errors: errs}
		return render(c, http.StatusUnprocessableEntity, pages.NewNotification(ctl.page(c, "New notification"), form))
	}
	return c.Redirect(http.StatusSeeOther, "/admin/notifications")
}

// apiNotificationCreate posts a notification for another system
// (POST /api/notifications, bearer token): 201 when it created one, 200
// when its key replaced a live one.
func (ctl *Controller) apiNotificationCreate(c echo.Context) error {
	var in notificationInput
	if err := bindJSONObject(c, &in, maxAPIBody); err != nil {
		return err
	}
	n, replaced, errs, err := ctl.postInput(c.Request().Context(), in)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"errors": errs})
	}
	status := http.StatusCreated
	if replaced {
		status = http.StatusOK
	}
	return ctl.writeNotification(c, status, audience.ShownToAdmin(n))
}

// postInput validates in, then stores it (creating, or replacing by key)
// and tells every hub. It returns the stored notification, or the
// problems by field.
func (ctl *Controller) postInput(ctx context.Context, in notificationInput) (n models.Notification, replaced bool, errs map[string]string, err error) {
	n, errs, err = ctl.validate(ctx, in)
	if err != nil || len(errs) > 0 {
		return n, false, errs, err
	}
	err = broker.SaveNotifications(ctx, ctl.Publisher, ctl.Log, n.DeliverAt != nil, func(ctx context.Context) error {
		var err error
		replaced, err = ctl.Store.CreateOrReplaceNotification(ctx, &n)
		return err
	})
	if errors.Is(err, store.ErrAlreadyDelivered) {
		return n, false, map[string]string{"deliver_at": "the notification with this key was already delivered; it cannot be scheduled again"}, nil
	}
	return n, replaced, nil, err
}

// validate checks in and resolves its recipient. It returns the
// notification to store, or the problems by field.
func (ctl *Controller) validate(ctx context.Context, in notificationInput) (models.Notification, map[string]string, error) {
	errs := map[string]string{}
	// Checked first: text a database cannot store must not reach a query.
	for field, v := range map[string]string{"title": in.Title, "body": in.Body, "level": in.Level, "recipient": in.Recipient,
		"key": in.Key, "url": in.URL, "deliver_at": in.DeliverAt} {
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
	if n.Level == "" {
		n.Level = "info"
	}
	checkContent(errs, n.Title, n.Body, n.Level)
	if key := strings.TrimSpace(in.Key); key != "" {
		if models.ValidKey(key) {
			n.Key = &key
		} else {
			errs["key"] = "must be " + models.KeyRule
		}
	}
	if u := strings.TrimSpace(in.URL); u != "" {
		if models.CheckURL(u) {
			n.URL = &u
		} else {
			errs["url"] = models.URLRule
		}
	}
	if s := strings.TrimSpace(in.DeliverAt); s != "" {
		t, msg := parseDeliverAt(s, time.Now())
		if msg != "" {
			errs["deliver_at"] = msg
		} else {
			n.DeliverAt = &t
		}
	}
	named, err := ctl.resolveTo(ctx, in.Recipient, in.To, errs)
	if err != nil || len(errs) > 0 {
		return n, errs, err
	}
	// Last, once all is valid: an audience new to the store is stored.
	a, err := ctl.Store.StoreAudience(ctx, named)
	if err != nil {
		return n, nil, err
	}
	a.Apply(&n)
	return n, errs, nil
}

// resolveTo looks up a post's recipient or `to`, or adds to errs what is
// wrong with them.
func (ctl *Controller) resolveTo(ctx context.Context, recipient string, to []string, errs map[string]string) (store.Named, error) {
	recipient = strings.TrimSpace(recipient)
	named := slices.ContainsFunc(to, func(e string) bool { return strings.TrimSpace(e) != "" })
	switch {
	case recipient != "" && named:
		errs["to"] = "give recipient or to, not both"
		return store.Named{}, nil
	case len(to) > models.MaxAudience:
		errs["to"] = fmt.Sprintf("at most %d entries", models.MaxAudience)
		return store.Named{}, nil
	case recipient != "":
		to = []string{recipient}
	}
	for _, e := range to {
		if !models.IsText(e) {
			errs["to"] = models.NotText
			return store.Named{}, nil
		}
	}
	found, err := ctl.Store.Resolve(ctx, to)
	var unknown *store.UnknownError
	switch {
	case errors.As(err, &unknown) && recipient != "":
		errs["recipient"] = "no user has this email"
	case errors.As(err, &unknown):
		errs["to"] = unknown.Error()
	case err != nil:
		return store.Named{}, err
	}
	return found, nil
}

// splitTo is the form's comma-separated `to`, as entries.
func splitTo(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// checkContent adds to errs what is wrong with a notification's title,
// body and level (already trimmed): the rules a post and an edit share.
func checkContent(errs map[string]string, title, body, level string) {
	switch {
	case title == "":
		errs["title"] = "can't be blank"
	case utf8.RuneCountInString(title) > models.MaxTitle:
		errs["title"] = fmt.Sprintf("is too long (at most %d characters)", models.MaxTitle)
	}
	if utf8.RuneCountInString(body) > models.MaxBody {
		errs["body"] = fmt.Sprintf("is too long (at most %d characters)", models.MaxBody)
	}
	if !slices.Contains(models.Levels, level) {
		errs["level"] = "must be one of " + strings.Join(models.Levels, ", ")
	}
}

// deliverAtLayouts are the forms deliver_at may take: RFC 3339, and the
// admin form's datetime-local value, which carries no offset and is read
// as UTC (the form says so).
var deliverAtLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04", "2006-01-02T15:04:05"}

// parseDeliverAt reads a deliver_at value. A time in the past is fine (it
// delivers now); more than a year after now is not. msg says what is
// wrong, or is "".
func parseDeliverAt(s string, now time.Time) (t time.Time, msg string) {
	for _, layout := range deliverAtLayouts {
		if v, err := time.Parse(layout, s); err == nil {
			if v.After(models.LatestDeliverAt(now)) {
				return time.Time{}, "must be at most a year ahead"
			}
			return v.UTC(), ""
		}
	}
	return time.Time{}, "must be a date and time such as 2030-01-02T15:04:05Z (RFC 3339)"
}
