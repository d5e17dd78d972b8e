package server

import (
	"beacon/app/config"
	"beacon/app/controllers"
	"beacon/app/sso"
)

// signOn is single sign-on as o configures it: without OIDC_ISSUER it has
// no provider, and the sign-in page offers passwords only. The provider
// is not called here: discovery waits for the first sign-in, so that
// Beacon starts while the provider is down.
func signOn(o config.OIDC) controllers.SSO {
	s := controllers.SSO{Name: o.Name, RedirectURL: o.RedirectURL, AdminGroup: o.AdminGroup}
	if o.On() {
		s.Provider = sso.New(sso.Settings{
			Issuer:       o.Issuer,
			ClientID:     o.ClientID,
			ClientSecret: o.ClientSecret,
			Scopes:       o.Scopes,
			GroupsClaim:  o.GroupsClaim,
		}, nil)
	}
	return s
}
