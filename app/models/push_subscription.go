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
	// FailingSince is when pushes to it began to fail, every one since;
	// nil once one went through.
	FailingSince *time.Time
}

// PushJob is one push claimed for sending: the device, the notification as
// it is now, and what the device was shown of it so far. What is sent (if
// anything) is decided from these (push.Decide).
type PushJob struct {
	SubscriptionID int64
	NotificationID int64
	// Claim is this instance's token on the row; Seq the changes planned
	// when it was claimed.
	Claim int64
	Seq   int64
	// Shown: a push showing the notification reached the push service.
	Shown bool
	// Attempts and FailingSince count this push's failed tries.
	Attempts     int
	FailingSince *time.Time

	UserID   int64
	Endpoint string
	P256dh   string `gorm:"column:p256dh"`
	Auth     string
	// SubscriptionFailingSince is the device's FailingSince.
	SubscriptionFailingSince *time.Time

	Title     string
	Body      string
	Level     string
	URL       *string
	CreatedAt time.Time
	// Live: delivered and not withdrawn; Sees: the user is in its audience
	// now; Read: the user has read it.
	Live, Sees, Read bool
	// Prefs are the user's: what may interrupt them.
	Prefs Preferences `gorm:"embedded;embeddedPrefix:pref_"`
}

// PushResult is what became of a claimed push.
type PushResult int

// The results a sender reports, and what the store does with each.
const (
	// PushShown: a notification or update went through; the device shows it.
	PushShown PushResult = iota
	// PushClosed: a withdraw went through; nothing more is owed.
	PushClosed
	// PushDropped: nothing to send (read, withdrawn before it was shown,
	// no longer for the user), or refused for good: nothing more is owed
	// until the notification changes.
	PushDropped
	// PushGone: the push service no longer knows the device (404, 410):
	// the subscription is deleted.
	PushGone
	// PushRetry: try again at RetryAt (429, 5xx, no answer).
	PushRetry
	// PushReleased: not tried (shutdown, or its push service is busy with
	// others): claimable again at RetryAt, or at once when zero.
	PushReleased
)

// PushOutcome is a claimed push's result, for the store to record.
type PushOutcome struct {
	Job     PushJob
	Result  PushResult
	RetryAt time.Time
	// Failed marks a refusal or failure of the device's push service,
	// which counts toward deleting a device that keeps failing.
	Failed bool
}
