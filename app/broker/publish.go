package broker

import (
	"context"
	"log/slog"
)

// Publisher wakes every hub serving a topic, on every instance.
type Publisher interface {
	Publish(ctx context.Context, topic string) error
}

// SaveThenPublish is how every change reaches the hubs: save commits it,
// then topic is published. Once save returns nil the row is the truth and
// the wake-up only says where to look: a failed one delays delivery until
// the next (streams also recover by Last-Event-ID), so it is logged, not
// returned. The publish outlives ctx: a client that hangs up once its
// change is saved must not keep the other instances from hearing of it.
func SaveThenPublish(ctx context.Context, p Publisher, log *slog.Logger, topic string, save func(context.Context) error) error {
	if err := save(ctx); err != nil {
		return err
	}
	if err := p.Publish(context.WithoutCancel(ctx), topic); err != nil {
		log.Error("publish after commit", "topic", topic, "err", err)
	}
	return nil
}

// SaveThenPublishEach is SaveThenPublish for a change whose topics save
// finds as it commits (the users of a group it deletes): each topic it
// returns is published once it returns nil.
func SaveThenPublishEach(ctx context.Context, p Publisher, log *slog.Logger, save func(context.Context) ([]string, error)) error {
	topics, err := save(ctx)
	if err != nil {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	for _, topic := range topics {
		if err := p.Publish(ctx, topic); err != nil {
			log.Error("publish after commit", "topic", topic, "err", err)
		}
	}
	return nil
}

// SaveNotifications is SaveThenPublish for a change to notifications: it
// wakes the hubs, and the schedulers too when scheduled (the change sets a
// deliver_at).
func SaveNotifications(ctx context.Context, p Publisher, log *slog.Logger, scheduled bool, save func(context.Context) error) error {
	return SaveThenPublishEach(ctx, p, log, func(ctx context.Context) ([]string, error) {
		if err := save(ctx); err != nil {
			return nil, err
		}
		if scheduled {
			return []string{NotificationsTopic, ScheduleTopic}, nil
		}
		return []string{NotificationsTopic}, nil
	})
}
