package models

import "time"

// MaxPushSubscriptions is how many devices one user may have subscribed at
// once; saving one more lets the oldest go.
const MaxPushSubscriptions = 10

// PushSubscription is one browser's Web Push subscription, for the user
// signed in there.
type PushSubscription struct {
	ID         int64
	UserID     int64
	Endpoint   string
	P256dh     string `gorm:"column:p256dh"`
	Auth       string
	UserAgent  string
	CreatedAt  time.Time
	LastPushAt *time.Time
}
