package cli

import (
	"fmt"

	"beacon/app/push"
)

// webpushKeys prints a new VAPID key pair as the two settings that carry
// it, one per line: ready for an env file, or `heroku config:set $(…)`.
func webpushKeys(env Env) error {
	k, err := push.NewKeys()
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(env.Stdout, "WEBPUSH_PUBLIC_KEY=%s\nWEBPUSH_PRIVATE_KEY=%s\n", k.Public, k.Private)
	return err
}
