package controllers

import (
	"context"
	"errors"
	"slices"
	"strings"
	"unicode"

	"beacon/app/auth"
	"beacon/app/broker"
	"beacon/app/models"
	"beacon/app/sso"
	"beacon/app/store"
)

// ssoUser is the account a person the provider vouches for signs in as:
// the user with their email, or a new one named after them, whose
// password nobody knows. refusal says why there is none ("" when there
// is), and then nothing was created.
func (ctl *Controller) ssoUser(ctx context.Context, id sso.Identity) (u models.User, refusal string, err error) {
	switch {
	case id.Email == "":
		return u, ctl.SSO.Name + " did not tell Beacon your email address, so Beacon cannot know who you are. Ask your administrator to release it (the email scope).", nil
	case !id.EmailVerified:
		return u, "Your email address is not verified at " + ctl.SSO.Name + ". Verify it there, then sign in again.", nil
	case !auth.ValidEmail(id.Email):
		return u, "Your email address at " + ctl.SSO.Name + " is not one Beacon can use.", nil
	}
	u, err = ctl.Store.UserByEmail(ctx, id.Email)
	if !errors.Is(err, store.ErrNotFound) {
		return u, "", err
	}
	hash, err := auth.UnusablePasswordHash()
	if err != nil {
		return u, "", err
	}
	u = models.User{Name: ssoName(id), Email: id.Email, PasswordHash: hash}
	err = ctl.Store.CreateUser(ctx, &u)
	if errors.Is(err, store.ErrEmailTaken) { // another sign-in made it meanwhile
		u, err = ctl.Store.UserByEmail(ctx, id.Email)
	}
	if err == nil {
		ctl.Log.Info("single sign-on: new user", "user", u.ID)
	}
	return u, "", err
}

// ssoName is a new user's name: the name claim, else the email's local
// part, each made to pass auth.NameProblem.
func ssoName(id sso.Identity) string {
	local, _, _ := strings.Cut(id.Email, "@")
	for _, n := range []string{id.Name, local} {
		if n = cleanName(n); auth.NameProblem(n) == "" {
			return n
		}
	}
	return "Beacon user"
}

// cleanName drops invisible formatting characters from s, turns control
// characters and runs of spaces into one space, and cuts it to
// models.MaxName characters.
func cleanName(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.Is(unicode.Cc, r):
			return ' '
		case models.IsHidden(r):
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > models.MaxName {
		s = strings.TrimSpace(string(r[:models.MaxName]))
	}
	return s
}

// ssoFollowGroups makes u's groups, and with OIDC_ADMIN_GROUP its admin
// rights, what the provider says at this sign-in. A token without the
// groups claim leaves the groups alone (the provider says nothing of
// them), but is in no admin group.
func (ctl *Controller) ssoFollowGroups(ctx context.Context, u *models.User, id sso.Identity) error {
	if id.HasGroups {
		err := broker.SaveThenPublishEach(ctx, ctl.Publisher, ctl.Log, func(ctx context.Context) ([]string, error) {
			changed, err := ctl.Store.FollowProviderGroups(ctx, u.ID, id.Groups)
			if !changed {
				return nil, err
			}
			return []string{broker.UserTopic(u.ID)}, err
		})
		if err != nil {
			return err
		}
	}
	if ctl.SSO.AdminGroup == "" {
		return nil
	}
	switch admin := slices.Contains(id.Groups, ctl.SSO.AdminGroup); {
	case admin && !u.Admin:
		if err := ctl.Store.GrantAdmin(ctx, u.ID); err != nil {
			return err
		}
		ctl.Log.Info("single sign-on: admin granted (in the admin group)", "user", u.ID)
	case !admin && u.Admin:
		// Revoking takes the user's API tokens too: every instance forgets them.
		err := broker.SaveThenPublish(ctx, ctl.Publisher, ctl.Log, broker.TokensTopic, func(ctx context.Context) error {
			_, err := ctl.Store.RevokeAdmin(ctx, u.Email)
			return err
		})
		if err != nil {
			return err
		}
		ctl.Log.Info("single sign-on: admin taken away (not in the admin group)", "user", u.ID)
	default:
		return nil
	}
	u.Admin = !u.Admin
	return nil
}
