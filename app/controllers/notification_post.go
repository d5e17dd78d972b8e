package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"beacon/app/channels"
	"beacon/app/models"
	"beacon/app/store"
)

// Limits on a notification's fields.
const (
	maxTitle = 200
	maxBody  = 5000
)

// notText is the error for a field that is not storable text.
const notText = "must be text (valid UTF-8, no NUL characters)"

// notificationInput is a notification as an admin or an API client sent it.
type notificationInput struct {
	Title     string `json:"title" form:"title"`
	Body      string `json:"body" form:"body"`
	Level     string `json:"level" form:"level"`
	Recipient string `json:"recipient" form:"recipient"`
}

// validate checks in and resolves its recipient. It returns the
// notification to store, or the problems by field.
func (ctl *Controller) validate(ctx context.Context, in notificationInput) (models.Notification, map[string]string, error) {
	errs := map[string]string{}
	// Checked first: text a database cannot store must not reach a query.
	for field, v := range map[string]string{"title": in.Title, "body": in.Body, "level": in.Level, "recipient": in.Recipient} {
		if !models.IsText(v) {
			errs[field] = notText
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
	case utf8.RuneCountInString(n.Title) > maxTitle:
		errs["title"] = fmt.Sprintf("is too long (at most %d characters)", maxTitle)
	}
	if utf8.RuneCountInString(n.Body) > maxBody {
		errs["body"] = fmt.Sprintf("is too long (at most %d characters)", maxBody)
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
	if err := ctl.Store.CreateNotification(ctx, n); err != nil {
		return err
	}
	// The row is committed: a failed wake-up delays delivery until the next
	// one, and streams recover by Last-Event-ID, so it is logged, not failed.
	if err := ctl.Publisher.Publish(ctx, channels.NotificationsTopic); err != nil {
		ctl.Log.Error("publish notification", "id", n.ID, "err", err)
	}
	return nil
}
