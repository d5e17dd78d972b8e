package models

import (
	"regexp"
	"time"
)

// groupNamePattern is what a group may be called: short and plain, so that
// `group:NAME` reads the same in a post's audience, a URL and a shell.
var groupNamePattern = regexp.MustCompile(`^[a-z0-9_-]{1,40}$`)

// GroupNameRule says what ValidGroupName accepts, for the answer to one it
// refuses.
const GroupNameRule = "1 to 40 of a-z, 0-9, - and _"

// ValidGroupName reports whether name may name a group: GroupNameRule.
func ValidGroupName(name string) bool { return groupNamePattern.MatchString(name) }

// Group is a named set of users, an audience a notification may be
// addressed to. An Open group is a topic: signed-in users follow and leave
// it themselves; the others only admins change.
type Group struct {
	ID        int64
	Name      string
	Open      bool
	CreatedAt time.Time
	// Members is how many users are in it; filled only by the lists.
	Members int64 `gorm:"->"`
}

// GroupMember says that a user is in a group.
type GroupMember struct {
	GroupID   int64 `gorm:"primaryKey;autoIncrement:false"`
	UserID    int64 `gorm:"primaryKey;autoIncrement:false"`
	CreatedAt time.Time
}

// GroupChange records that a user's membership changed, so that every
// instance tells that user's streams. Its ID orders the log; CreatedAt is
// Unix milliseconds.
type GroupChange struct {
	ID     int64
	UserID int64
	// Position is the stream position the change reserved (0: none).
	Position  int64
	CreatedAt int64 `gorm:"autoCreateTime:false"`
}

// Topic is an open group as one signed-in user sees it.
type Topic struct {
	Group
	Following bool // the user is a member
}

// AudienceMember is one entry of a notification's audience: a user or a
// group (exactly one of the two).
type AudienceMember struct {
	AudienceID int64
	UserID     *int64
	GroupID    *int64
	User       *User  `gorm:"foreignKey:UserID"`
	Group      *Group `gorm:"foreignKey:GroupID"`
}

// AudienceGroupPrefix marks a group among a post's `to` entries.
const AudienceGroupPrefix = "group:"

// MaxAudience is how many entries one post's `to` may name.
const MaxAudience = 1000
