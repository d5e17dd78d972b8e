// Package sso signs people in through an OpenID Connect provider: the
// authorization code flow with PKCE, the ID token verified by go-oidc
// (signature by the issuer's published keys, iss, aud, exp) and its nonce
// checked here. It knows nothing of Beacon's users: it says who the
// provider vouches for (Identity), and the controllers decide the rest.
package sso

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// ErrUnavailable is a provider that cannot be reached (discovery or the
// token endpoint failed): nothing the person did, and worth another try.
var ErrUnavailable = errors.New("the identity provider cannot be reached")

// ErrRefused is a sign-in the provider or the ID token's checks refused:
// a code that is wrong, used or expired, or a token that is not for us.
var ErrRefused = errors.New("the identity provider's answer was refused")

// requestTimeout bounds each call to the provider: a provider that hangs
// must not hold a sign-in (or a goroutine) for long.
const requestTimeout = 10 * time.Second

// Settings say which provider, and who Beacon is to it.
type Settings struct {
	Issuer, ClientID, ClientSecret string
	Scopes                         []string
	GroupsClaim                    string
}

// Provider is one OpenID Connect provider. Discovery is lazy: Beacon
// starts while the provider is down, and each sign-in tries again until
// one discovery worked, which is kept.
type Provider struct {
	settings Settings
	client   *http.Client

	mu    sync.Mutex
	found *discovered // nil until discovery worked
}

type discovered struct {
	endpoint oauth2.Endpoint
	verifier *oidc.IDTokenVerifier
}

// New returns the provider described by s; it calls nothing yet. client
// makes every request to the provider (nil: one with a 10 s timeout).
func New(s Settings, client *http.Client) *Provider {
	if client == nil {
		client = &http.Client{Timeout: requestTimeout}
	}
	return &Provider{settings: s, client: client}
}

// discover returns what discovery found, running it if it has not worked yet.
func (p *Provider) discover(ctx context.Context) (*discovered, error) {
	p.mu.Lock()
	d := p.found
	p.mu.Unlock()
	if d != nil {
		return d, nil
	}
	// Not under the lock: a provider that hangs must not queue every
	// sign-in behind one attempt. Two attempts at once find the same.
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, p.client), requestTimeout)
	defer cancel()
	op, err := oidc.NewProvider(ctx, p.settings.Issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery at %s: %v", ErrUnavailable, p.settings.Issuer, err)
	}
	d = &discovered{
		endpoint: op.Endpoint(),
		verifier: op.Verifier(&oidc.Config{ClientID: p.settings.ClientID}),
	}
	p.mu.Lock()
	p.found = d
	p.mu.Unlock()
	return d, nil
}

func (p *Provider) oauth(d *discovered, redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     p.settings.ClientID,
		ClientSecret: p.settings.ClientSecret,
		Endpoint:     d.endpoint,
		RedirectURL:  redirectURL,
		Scopes:       p.settings.Scopes,
	}
}

// AuthCodeURL is the provider's sign-in page for flow f, to send the
// browser to: it carries f's state, nonce and PKCE challenge (S256).
func (p *Provider) AuthCodeURL(ctx context.Context, f Flow) (string, error) {
	d, err := p.discover(ctx)
	if err != nil {
		return "", err
	}
	return p.oauth(d, f.RedirectURL).AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), nil
}

// Exchange trades the code the provider sent back for flow f for the
// person it vouches for: the code with f's PKCE verifier at the token
// endpoint, then the ID token verified and its nonce compared with f's.
// Errors are ErrUnavailable or ErrRefused, and never hold a token.
func (p *Provider) Exchange(ctx context.Context, code string, f Flow) (Identity, error) {
	d, err := p.discover(ctx)
	if err != nil {
		return Identity{}, err
	}
	ctx, cancel := context.WithTimeout(oidc.ClientContext(ctx, p.client), requestTimeout)
	defer cancel()
	tok, err := p.oauth(d, f.RedirectURL).Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	var re *oauth2.RetrieveError
	switch {
	case err == nil:
	case errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500:
		// Only the error code: the body may echo what we sent.
		return Identity{}, fmt.Errorf("%w: token endpoint answered %d %q", ErrRefused, re.Response.StatusCode, re.ErrorCode)
	case re != nil && re.Response != nil:
		return Identity{}, fmt.Errorf("%w: token endpoint answered %d", ErrUnavailable, re.Response.StatusCode)
	default:
		return Identity{}, fmt.Errorf("%w: token endpoint: %v", ErrUnavailable, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, fmt.Errorf("%w: the token response has no ID token", ErrRefused)
	}
	idt, err := d.verifier.Verify(ctx, raw)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: ID token: %v", ErrRefused, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return Identity{}, fmt.Errorf("%w: ID token: its nonce is not this sign-in's", ErrRefused)
	}
	id, err := identity(idt, p.settings.GroupsClaim)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: ID token: %v", ErrRefused, err)
	}
	return id, nil
}
