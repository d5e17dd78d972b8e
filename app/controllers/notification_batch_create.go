package controllers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"beacon/app/broker"
	"beacon/app/models"
	"beacon/app/store"
)

// maxBatch is how many notifications one POST /api/notifications/batch
// may carry.
const maxBatch = 1000

// notificationBatcher stores a batch; the store is one. (It belongs in
// the Store interface, once that file is not moving under us.)
type notificationBatcher interface {
	CreateOrReplaceNotifications(ctx context.Context, ns []*models.Notification) (replaced []bool, err error)
}

// apiNotificationBatchCreate posts 1 to maxBatch notifications for another
// system at once (POST /api/notifications/batch, bearer token), each of the
// single POST's shape and checked as it is, all or nothing: 201 with every
// one in order, or 422 with the problems by item (from 0) and field,
// "3.title", and nothing stored.
func (ctl *Controller) apiNotificationBatchCreate(c echo.Context) error {
	var in struct {
		Notifications []json.RawMessage `json:"notifications"`
	}
	if err := bindJSONObject(c, &in, maxRequestBody); err != nil {
		return err
	}
	if n := len(in.Notifications); n == 0 || n > maxBatch {
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"errors": map[string]string{
			"notifications": fmt.Sprintf("must hold 1 to %d notifications, not %d", maxBatch, n)}})
	}
	ctx := c.Request().Context()
	ns := make([]*models.Notification, len(in.Notifications))
	errs := map[string]string{}
	for i, raw := range in.Notifications {
		item, msg := batchItem(raw)
		if msg != "" {
			errs[strconv.Itoa(i)] = msg
			continue
		}
		n, problems, err := ctl.validate(ctx, item)
		if err != nil {
			return err
		}
		for field, msg := range problems {
			errs[strconv.Itoa(i)+"."+field] = msg
		}
		ns[i] = &n
	}
	if len(errs) > 0 {
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"errors": errs})
	}
	batcher, ok := ctl.Store.(notificationBatcher)
	if !ok {
		return errors.New("post a batch: the store cannot")
	}
	scheduled := slices.ContainsFunc(ns, func(n *models.Notification) bool { return n.DeliverAt != nil })
	err := broker.SaveNotifications(ctx, ctl.Publisher, ctl.Log, scheduled, func(ctx context.Context) error {
		_, err := batcher.CreateOrReplaceNotifications(ctx, ns)
		return err
	})
	var refused *store.BatchError
	if errors.As(err, &refused) && refused.Index >= 0 && errors.Is(err, store.ErrAlreadyDelivered) {
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{"errors": map[string]string{
			strconv.Itoa(refused.Index) + ".deliver_at": "the notification with this key was already delivered; it cannot be scheduled again"}})
	}
	if err != nil {
		return err
	}
	return ctl.writeNotifications(c, http.StatusCreated, ns)
}

// batchItem decodes one item of a batch as the single POST decodes its
// body, or says what is wrong with it.
func batchItem(raw json.RawMessage) (notificationInput, string) {
	var in notificationInput
	if trimmed := bytes.TrimSpace(raw); len(trimmed) == 0 || trimmed[0] != '{' {
		return in, "must be a JSON object"
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return in, "must be a JSON object of the documented fields: " + err.Error()
	}
	return in, ""
}

// writeNotifications answers {"notifications":[…]}, each in its wire JSON.
func (ctl *Controller) writeNotifications(c echo.Context, status int, ns []*models.Notification) error {
	var b bytes.Buffer
	b.WriteString(`{"notifications":[`)
	for i, n := range ns {
		p, err := ctl.Fragments.NotificationJSON(c.Request().Context(), *n)
		if err != nil {
			return err
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(p)
	}
	b.WriteString(`]}`)
	return c.JSONBlob(status, b.Bytes())
}
