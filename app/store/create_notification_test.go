package store

import (
	"context"
	"fmt"

	"beacon/app/models"
)

// CreateNotification is a plain insert (ErrKeyTaken for a key a live
// notification for the same recipient holds), for the tests of the write paths:
// without a key it goes through the group commit as a post does; with
// one it inserts under the lock, where a taken key is refused rather than
// replaced.
func (s *Store) CreateNotification(ctx context.Context, n *models.Notification) error {
	var err error
	if n.Key == nil || *n.Key == "" {
		err = s.insertGrouped(ctx, n)
	} else {
		err = insertOnly(ctx, s, n)
	}
	if duplicate(err) {
		err = ErrKeyTaken
	}
	if err != nil {
		return fmt.Errorf("create notification %q: %w", n.Title, err)
	}
	return nil
}
