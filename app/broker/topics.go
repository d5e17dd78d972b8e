package broker

import "strconv"

// The topics Beacon publishes on. A topic names what to look at again, one
// word and, where there are many, a colon and which one: the broker
// coalesces pending wake-ups per subscription, which is only safe when
// any of them means the same thing.

// NotificationsTopic wakes the notification hubs when notifications were
// committed.
const NotificationsTopic = "notifications"

// ScheduleTopic wakes the schedulers when a notification was scheduled or
// rescheduled. Plain posts leave them asleep: looking for the next due one
// at every post was, on PostgreSQL, more of the database's time than the
// posts themselves.
const ScheduleTopic = "schedule"

// TokensTopic says an API token was revoked (or its owner's admin rights
// taken): every instance forgets the tokens it had checked.
const TokensTopic = "tokens"

// UserTopic wakes one user's streams and sockets when that user's state
// changed: they marked notifications read, or signed out.
func UserTopic(userID int64) string {
	return "user:" + strconv.FormatInt(userID, 10)
}

// ChatTopic carries a room's new messages.
func ChatTopic(room string) string { return "chat:" + room }

// PresenceTopic says a room's online list changed.
func PresenceTopic(room string) string { return "presence:" + room }

// Subscriber is what a hub follows its topics with.
type Subscriber interface {
	Subscribe(topic string) *Subscription
	SubscribeFunc(topic string, f func()) *Subscription
}
