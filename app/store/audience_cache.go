package store

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"gorm.io/gorm"

	"beacon/app/models"
)

// audienceCacheSize bounds the audiences the change feed keeps; past it,
// the cache starts afresh.
const audienceCacheSize = 4096

// audienceCache keeps the entries of the audiences the change feed and the
// admin list met, by id: an audience never changes once stored, so the hub
// loads a thousand entries once per audience, not once per change to each
// of its notifications (that load was a quarter of the CPU of posting to a
// thousand users by name). The one change an audience sees is the cascade
// when a user or group is deleted: a deletion here forgets every entry;
// one made by another process (the CLI) leaves entries naming a group no
// one is in any longer, which show no one anything (the rule goes by the
// viewer's groups, read afresh) but stay in the admin list's "To" until
// the cache starts afresh.
type audienceCache struct {
	mu      sync.Mutex
	entries map[int64][]models.AudienceMember
}

// forget empties the cache: after a deletion here that took entries with
// it, so that the admin list does not name a group that is gone.
func (c *audienceCache) forget() {
	c.mu.Lock()
	c.entries = nil
	c.mu.Unlock()
}

// fillAddressees sets the Addressees of every one of ns addressed to a
// list, with their users (id and email) and groups: from the cache, and
// what it lacks in one query on db.
func (s *Store) fillAddressees(ctx context.Context, db *gorm.DB, ns []models.Notification) error {
	c := &s.audiences
	var missing []int64
	c.mu.Lock()
	for _, n := range ns {
		if n.AudienceID == nil {
			continue
		}
		if _, ok := c.entries[*n.AudienceID]; !ok && !slices.Contains(missing, *n.AudienceID) {
			missing = append(missing, *n.AudienceID)
		}
	}
	c.mu.Unlock()
	loaded := map[int64][]models.AudienceMember{}
	for chunk := range slices.Chunk(missing, lookupChunk) {
		var ms []models.AudienceMember
		err := db.WithContext(ctx).
			Preload("User", func(db *gorm.DB) *gorm.DB { return db.Select("id", "email") }).
			Preload("Group").Where("audience_id IN ?", chunk).Find(&ms).Error
		if err != nil {
			return fmt.Errorf("audiences %v: %w", chunk, err)
		}
		for _, m := range ms {
			loaded[m.AudienceID] = append(loaded[m.AudienceID], m)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries)+len(missing) > audienceCacheSize {
		c.entries = make(map[int64][]models.AudienceMember)
	}
	for _, id := range missing {
		c.entries[id] = loaded[id] // none: every entry was deleted
	}
	for i := range ns {
		if id := ns[i].AudienceID; id != nil {
			ns[i].Addressees = c.entries[*id]
		}
	}
	return nil
}
