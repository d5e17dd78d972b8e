// Package models holds Beacon's plain data structs. They carry GORM tags
// and the limits on their fields, nothing else: every query lives in
// package store.
package models

import (
	"regexp"
	"time"
)

// Limits on a user's fields, for sign-up and `beacon admin create` alike.
const (
	MaxName  = 100 // characters
	MaxEmail = 254 // bytes
)

// User is a person who can sign in; Admin users may post notifications.
type User struct {
	ID           int64
	Name         string
	Email        string
	PasswordHash string
	Admin        bool
	// ReadThroughID marks every notification whose FirstPosition is up to
	// it as read by this user (the name is older than positions): "mark
	// all as read" is one write, however many there are.
	ReadThroughID int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Limits on a notification's fields, in characters: the admin form's
// maxlength and the server's check.
const (
	MaxTitle = 200
	MaxBody  = 5000
)

// Levels a notification may have, in the order the admin form lists them.
var Levels = []string{"info", "success", "warning", "error"}

// keyPattern is what a replacement key may be: a short token, so that it
// can sit in URLs, logs and scripts without quoting.
var keyPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,100}$`)

// KeyRule says what keyPattern accepts, for the answer to one it refuses.
const KeyRule = "1 to 100 of A-Z a-z 0-9 . _ : -"

// ValidKey reports whether key may name a notification for replacement.
func ValidKey(key string) bool { return keyPattern.MatchString(key) }

// LatestDeliverAt is the latest a notification posted at now may be
// scheduled for: a year ahead.
func LatestDeliverAt(now time.Time) time.Time { return now.AddDate(1, 0, 0) }

// Notification is one posted message. Its ID is the stream position at
// which it was posted; every later change (an edit, a replacement by key,
// its withdrawal, its scheduled delivery) moves it to a new Position from
// the same sequence, so streams resume by position and positions only grow.
type Notification struct {
	ID int64
	// Position is where its latest change stands in the stream; equal to
	// ID while it never changed and was not scheduled.
	Position int64
	// FirstPosition is the position at which it became visible: its ID,
	// or for a scheduled one the position it got when it fell due; 0
	// while it is still waiting.
	FirstPosition int64
	// Key, when set, names it for replacement: a later post with the same
	// key for the same recipient replaces it while it is not withdrawn.
	Key   *string
	Title string
	Body  string
	Level string
	// URL is where a click on it leads (CheckURL); nil for none.
	URL         *string
	RecipientID *int64 // nil: for everyone, visitors included, unless AudienceID
	Recipient   *User  `gorm:"foreignKey:RecipientID"`
	// AudienceID, when set (RecipientID then nil), is a mix of users and
	// groups it is for; Addressees are its entries, where a query loads them.
	AudienceID *int64
	Addressees []AudienceMember `gorm:"foreignKey:AudienceID;references:AudienceID"`
	// AudiencePosition is the position of its latest change of audience
	// (an edit's "to"); 0 while it has the one it was posted with.
	AudiencePosition int64
	// AudienceChanges are its changes of audience after a reader's cursor,
	// in position order, where a reader needs them (package audience, AsOf).
	AudienceChanges []AudienceChange `gorm:"-"`
	// Deliveries is how many live deliveries the hubs made; kept in a
	// table of its own, filled only where it is shown (the admin list).
	Deliveries int64 `gorm:"-"`
	// DeliverAt is when it is (or was) due; nil when it was posted live.
	DeliverAt *time.Time
	// Scheduled is true until DeliverAt comes: only admins see it then.
	Scheduled   bool
	WithdrawnAt *time.Time // nil while live
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// ReadBy is how many users have read it; filled only for the admin list.
	ReadBy int64 `gorm:"-"`
	// To is its audience in full, as admins see it (emails and group:NAME);
	// set only for them (package audience).
	To []string `gorm:"-"`
	// Groups are the groups one viewer sees it through; set per viewer.
	Groups []string `gorm:"-"`
	// Read is whether one signed-in viewer has read it; set per viewer
	// where a list says it (the list API, the long poll).
	Read *bool `gorm:"-"`
	// Archived is whether that viewer archived it, where Read is set.
	Archived *bool `gorm:"-"`
}

// AudienceChange is one change of a notification's audience: before
// Position it was addressed to RecipientID or AudienceID (with its
// Addressees, where a reader loads them), as Notification's fields say.
type AudienceChange struct {
	NotificationID int64 `gorm:"primaryKey;autoIncrement:false"`
	Position       int64 `gorm:"primaryKey;autoIncrement:false"`
	RecipientID    *int64
	AudienceID     *int64
	Addressees     []AudienceMember `gorm:"-"`
}

// TableName is the table the changes are kept in.
func (AudienceChange) TableName() string { return "notification_audience_changes" }

// Withdrawn reports whether it was withdrawn.
func (n Notification) Withdrawn() bool { return n.WithdrawnAt != nil }

// NewAfter reports whether a client at stream position after has never
// seen n, so that n is its first event (`notification`) rather than an
// `update` or `withdraw`.
func (n Notification) NewAfter(after int64) bool { return n.FirstPosition > after }

// Replay is what a resuming stream missed, as one query read it.
type Replay struct {
	// Changes are the notifications to send, each once in its latest
	// state, in position order.
	Changes []Notification
	// Through is the greatest position the query read, withdrawals it
	// left out included: the stream's live events continue after it.
	Through int64
	// More reports that the query stopped at its limit: there are later
	// changes it did not read.
	More bool
}

// RecipientEmail is the addressee's email, or "" for a broadcast.
func (n Notification) RecipientEmail() string {
	if n.Recipient == nil {
		return ""
	}
	return n.Recipient.Email
}

// MaxChatBody is the longest chat message body, in characters.
const MaxChatBody = 2000

// ChatRoomRule says which names ValidChatRoom accepts.
const ChatRoomRule = "1 to 40 of a-z, 0-9, - and _"

// ValidChatRoom reports whether room is a chat room's name: ChatRoomRule.
func ValidChatRoom(room string) bool {
	if len(room) < 1 || len(room) > 40 {
		return false
	}
	for _, r := range room {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// ChatMessage is one message said in a chat room. Its ID orders the room's
// history and is the chat hubs' cursor.
type ChatMessage struct {
	ID        int64
	Room      string
	UserID    int64
	User      User
	Body      string
	CreatedAt time.Time
}

// The scopes of an APIToken.
const (
	TokenAdmin = "admin" // posts, edits and withdraws as the admin who owns it
	TokenRead  = "read"  // a person's own: reads their notifications, nothing else
)

// APIToken lets another system post notifications as the admin who owns it,
// or (Scope TokenRead) read a person's notifications as them. Only a hash
// of the token is kept.
type APIToken struct {
	ID         int64
	UserID     int64
	User       User
	Name       string // what it is for; may be blank, else a user's Name's rules
	Scope      string `gorm:"default:admin"`
	TokenHash  string
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// NotificationRead records that a user read one notification above their
// ReadThroughID. FirstPosition is the notification's, fixed once it is
// delivered: the unread count and the watermark compare it.
type NotificationRead struct {
	UserID         int64 `gorm:"primaryKey;autoIncrement:false"`
	NotificationID int64 `gorm:"primaryKey;autoIncrement:false"`
	FirstPosition  int64
	ReadAt         time.Time
}

// LoginFailure is one failed sign-in, counted against Subject ("email:…" or
// "ip:…") to throttle guessing. FailedAt is in Unix milliseconds.
type LoginFailure struct {
	ID       int64
	Subject  string
	FailedAt int64
}

// ChatPresence says that a user is online in a chat room, held by one
// instance's run of that room (Holder) until ExpiresAt, in Unix
// milliseconds, unless that instance refreshes it first.
type ChatPresence struct {
	Room      string
	Holder    string
	UserID    int64
	ExpiresAt int64
}

// Signup is one account created from a client address, kept for a while
// to limit sign-ups per address. CreatedAt is Unix milliseconds.
type Signup struct {
	ID        int64
	Address   string
	CreatedAt int64 `gorm:"autoCreateTime:false"`
}

// The kinds of StateChange.
const (
	StateRead     = "read"     // NotificationID read (Value) or unread
	StateArchived = "archived" // NotificationID archived (Value) or not
	StateAllRead  = "all_read" // everything visible by position Through read
)

// StateChange is one change of a user's read or archive state, numbered
// by Seq: 1, 2, 3 … per user, committed in that order.
type StateChange struct {
	UserID         int64
	Seq            int64
	Kind           string
	NotificationID int64 // 0 for StateAllRead
	Value          bool
	Through        int64 // StateAllRead's position
	CreatedAt      time.Time
}

// TableName is the table the changes are kept in.
func (StateChange) TableName() string { return "user_state_changes" }

// NotificationUnread records that a user marked one notification unread
// although their ReadThroughID covers it.
type NotificationUnread struct {
	UserID         int64 `gorm:"primaryKey;autoIncrement:false"`
	NotificationID int64 `gorm:"primaryKey;autoIncrement:false"`
	FirstPosition  int64
}
