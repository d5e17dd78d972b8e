package models

import (
	"slices"
	"strings"
	"time"
	// Time zones from the binary itself: a slim container may have no
	// zoneinfo, and a person's quiet hours must not depend on the host.
	_ "time/tzdata"
)

// Preferences are what may interrupt one person with a desktop or push
// notification; everything still reaches their feed. A person who never
// saved any has DefaultPreferences.
type Preferences struct {
	UserID int64 `gorm:"primaryKey"`
	// Levels that may interrupt, comma-separated.
	Levels string
	// QuietStart and QuietEnd ("HH:MM", both or neither) are the hours,
	// in TimeZone, during which only an error may interrupt, and that
	// only when QuietAllowErrors. Start after end spans midnight.
	QuietStart, QuietEnd string
	TimeZone             string
	QuietAllowErrors     bool
	UpdatedAt            time.Time
}

// TableName is the table GORM reads them from.
func (Preferences) TableName() string { return "user_preferences" }

// DefaultPreferences let every level interrupt, at any hour.
func DefaultPreferences(userID int64) Preferences {
	return Preferences{UserID: userID, Levels: strings.Join(Levels, ","), TimeZone: "UTC"}
}

// LevelOn reports whether level may interrupt at all.
func (p Preferences) LevelOn(level string) bool {
	return slices.Contains(strings.Split(p.Levels, ","), level)
}

// Interrupts reports whether a notification of level may interrupt at t:
// its level is on, and t is outside the quiet hours, or it is an error
// and errors are allowed then.
func (p Preferences) Interrupts(level string, t time.Time) bool {
	if !p.LevelOn(level) {
		return false
	}
	return !p.Quiet(t) || level == "error" && p.QuietAllowErrors
}

// Quiet reports whether t falls in the quiet hours.
func (p Preferences) Quiet(t time.Time) bool {
	start, okStart := minutes(p.QuietStart)
	end, okEnd := minutes(p.QuietEnd)
	if !okStart || !okEnd || start == end {
		return false
	}
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	local := t.In(loc)
	now := local.Hour()*60 + local.Minute()
	if start < end {
		return start <= now && now < end
	}
	return now >= start || now < end // across midnight
}

// CheckPreferences says, per form field, what is wrong with p.
func CheckPreferences(p Preferences) map[string]string {
	errs := map[string]string{}
	for _, l := range strings.Split(p.Levels, ",") {
		if l != "" && !slices.Contains(Levels, l) {
			errs["levels"] = "must be among " + strings.Join(Levels, ", ")
		}
	}
	_, okStart := minutes(p.QuietStart)
	_, okEnd := minutes(p.QuietEnd)
	switch {
	case p.QuietStart != "" && !okStart:
		errs["quiet_start"] = "must be a time such as 22:00"
	case p.QuietEnd != "" && !okEnd:
		errs["quiet_end"] = "must be a time such as 07:00"
	case (p.QuietStart == "") != (p.QuietEnd == ""):
		errs["quiet_end"] = "quiet hours need a start and an end"
	}
	if _, err := time.LoadLocation(p.TimeZone); err != nil || p.TimeZone == "" || p.TimeZone == "Local" {
		errs["time_zone"] = "must be a time zone name such as Europe/Berlin or UTC"
	}
	return errs
}

// minutes reads "HH:MM" as minutes after midnight.
func minutes(s string) (int, bool) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}
