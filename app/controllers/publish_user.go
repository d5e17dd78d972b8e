package controllers

import (
	"beacon/app/broker"
	"context"
)

// publishUser wakes the user's streams so that they look
// again: send the new unread count, or end if their session did. Marking
// read and signing out call it. What changed is already committed: a lost
// wake-up only delays other tabs.
func (ctl *Controller) publishUser(ctx context.Context, uid int64) {
	if err := ctl.Publisher.Publish(ctx, broker.UserTopic(uid)); err != nil {
		ctl.Log.Error("publish user change", "user", uid, "err", err)
	}
}
