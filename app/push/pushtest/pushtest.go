// Package pushtest is a push service for tests, on this machine: it
// checks each push's VAPID token against the server's public key (RFC
// 8292), decrypts its body with the device's keys (RFC 8291), keeps what
// each device was sent, and answers as a test asks. It is a real
// counterpart, written from the RFCs, not Beacon's code run backwards.
package pushtest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"beacon/app/push"
)

// Service is the push service; its URL's host is 127.0.0.1, which a
// test's WEBPUSH_ALLOWED_HOSTS must list.
type Service struct {
	URL    string
	srv    *httptest.Server
	vapid  string // the public key every push must be signed with
	mu     sync.Mutex
	dev    map[string]*Device
	errs   []error
	notify chan struct{}
	// checkEvery > 1 checks and decrypts one push in that many (a
	// measurement's service must not take the cores from the server).
	checkEvery, seen int
}

// Device is one browser's subscription: its keys, what it was sent, and
// how the service answers pushes to it.
type Device struct {
	Name     string
	Endpoint string
	key      *ecdh.PrivateKey
	auth     []byte
	svc      *Service
	answers  []Answer // next answers, in order; then 201
	delay    time.Duration
	received []Push
}

// Answer is how the service answers one push.
type Answer struct {
	Status     int
	RetryAfter string
}

// Push is one push a device received.
type Push struct {
	Payload map[string]any
	Headers http.Header
	At      time.Time
}

// New starts a service that expects pushes signed with vapidPublic
// (base64url), and stops it when the test ends.
func New(t testing.TB, vapidPublic string) *Service {
	s := &Service{vapid: vapidPublic, dev: map[string]*Device{}, notify: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	s.URL = s.srv.URL
	return s
}

// CheckEvery makes the service check and decrypt only one push in n; the
// others are counted, with no payload.
func (s *Service) CheckEvery(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checkEvery = n
}

// NewDevice subscribes a new browser.
func (s *Service) NewDevice(t testing.TB, name string) *Device {
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	d := &Device{Name: name, Endpoint: s.URL + "/push/" + name, key: key, auth: auth, svc: s}
	s.mu.Lock()
	s.dev[name] = d
	s.mu.Unlock()
	return d
}

// Subscription is what the browser's PushSubscription.toJSON() says.
func (d *Device) Subscription() push.Subscription {
	enc := base64.RawURLEncoding.EncodeToString
	return push.Subscription{Endpoint: d.Endpoint, Keys: push.SubKeys{P256dh: enc(d.key.PublicKey().Bytes()), Auth: enc(d.auth)}}
}

// AnswerNext makes the service answer the device's next pushes so, in
// order (after them: 201).
func (d *Device) AnswerNext(as ...Answer) {
	d.svc.mu.Lock()
	defer d.svc.mu.Unlock()
	d.answers = append(d.answers, as...)
}

// Delay makes the service take that long over each push to the device.
func (d *Device) Delay(wait time.Duration) {
	d.svc.mu.Lock()
	defer d.svc.mu.Unlock()
	d.delay = wait
}

// Received is what the device was sent and the service accepted (2xx).
func (d *Device) Received() []Push {
	d.svc.mu.Lock()
	defer d.svc.mu.Unlock()
	return append([]Push(nil), d.received...)
}

// Errors are the pushes the service found wrong (a bad token, a body that
// does not decrypt): a test fails on any.
func (s *Service) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// Wait waits until cond holds, at most timeout: it looks again after each
// push, and every 20ms for what the service does not see (a database).
func (s *Service) Wait(timeout time.Duration, cond func() bool) bool {
	deadline := time.After(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		changed := s.notify
		s.mu.Unlock()
		if cond() {
			return true
		}
		select {
		case <-changed:
		case <-tick.C:
		case <-deadline:
			return cond()
		}
	}
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/push/")
	s.mu.Lock()
	d := s.dev[name]
	s.mu.Unlock()
	if !ok || d == nil || r.Method != http.MethodPost {
		http.Error(w, "no such subscription", http.StatusNotFound)
		return
	}
	s.mu.Lock()
	s.seen++
	check := s.checkEvery <= 1 || s.seen%s.checkEvery == 0
	s.mu.Unlock()
	var payload map[string]any
	var err error
	if check {
		payload, err = s.check(r, d)
	} else {
		_, err = io.Copy(io.Discard, r.Body)
	}
	if err != nil {
		s.fail(fmt.Errorf("push to %s: %w", name, err))
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	delay := d.delay
	answer := Answer{Status: http.StatusCreated}
	if len(d.answers) > 0 {
		answer, d.answers = d.answers[0], d.answers[1:]
	}
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	s.mu.Lock()
	if answer.Status/100 == 2 {
		d.received = append(d.received, Push{Payload: payload, Headers: r.Header.Clone(), At: time.Now()})
	}
	close(s.notify)
	s.notify = make(chan struct{})
	s.mu.Unlock()
	if answer.RetryAfter != "" {
		w.Header().Set("Retry-After", answer.RetryAfter)
	}
	w.WriteHeader(answer.Status)
}

func (s *Service) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, err)
	close(s.notify)
	s.notify = make(chan struct{})
}

// check verifies a push request as a push service does, and decrypts it.
func (s *Service) check(r *http.Request, d *Device) (map[string]any, error) {
	if err := s.checkVAPID(r.Header.Get("Authorization")); err != nil {
		return nil, err
	}
	if ttl, err := strconv.Atoi(r.Header.Get("TTL")); err != nil || ttl < 0 || ttl > 86400 {
		return nil, fmt.Errorf("TTL %q: want 0 to a day", r.Header.Get("TTL"))
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "aes128gcm" {
		return nil, fmt.Errorf("Content-Encoding %q", ce)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 8192))
	if err != nil {
		return nil, err
	}
	plain, err := d.decrypt(body)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	var payload map[string]any
	if err := json.Unmarshal(plain, &payload); err != nil {
		return nil, fmt.Errorf("payload %q: %w", plain, err)
	}
	return payload, nil
}

// checkVAPID checks "vapid t=JWT, k=KEY" (RFC 8292): the key is the
// server's, the token is signed with it (ES256), is for this service's
// origin, names a contact, and expires within a day.
func (s *Service) checkVAPID(h string) error {
	rest, ok := strings.CutPrefix(h, "vapid ")
	if !ok {
		return fmt.Errorf("Authorization %.20q: not vapid", h)
	}
	var token, key string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			token = v
		case "k":
			key = v
		}
	}
	if key != s.vapid {
		return errors.New("vapid k= is not the server's public key")
	}
	raw, err := base64.RawURLEncoding.DecodeString(key)
	if err != nil {
		return err
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return err
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("vapid t= is not a JWT")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return errors.New("JWT signature is not 64 bytes")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return errors.New("JWT signature does not verify with the server's key")
	}
	var head struct{ Alg string }
	var claims struct {
		Aud string
		Exp int64
		Sub string
	}
	if err := decodeJSON(parts[0], &head); err != nil || head.Alg != "ES256" {
		return fmt.Errorf("JWT header: alg %q, %v", head.Alg, err)
	}
	if err := decodeJSON(parts[1], &claims); err != nil {
		return err
	}
	now := time.Now().Unix()
	switch {
	case claims.Aud != s.URL:
		return fmt.Errorf("JWT aud %q, want %q", claims.Aud, s.URL)
	case claims.Exp <= now || claims.Exp > now+86400:
		return fmt.Errorf("JWT exp %d: not within a day", claims.Exp)
	case !strings.HasPrefix(claims.Sub, "mailto:") && !strings.HasPrefix(claims.Sub, "https:"):
		return fmt.Errorf("JWT sub %q: not mailto: or https:", claims.Sub)
	case strings.HasPrefix(claims.Sub, "mailto:mailto:"):
		return fmt.Errorf("JWT sub %q", claims.Sub)
	}
	return nil
}

func decodeJSON(part string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// decrypt reads an aes128gcm body (RFC 8188) encrypted for the device
// (RFC 8291): salt, record size, the sender's key, then one record.
func (d *Device) decrypt(body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, errors.New("short body")
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if len(body) < 21+idlen || idlen != 65 {
		return nil, fmt.Errorf("key id of %d bytes, want 65", idlen)
	}
	asPublic, ciphertext := body[21:21+idlen], body[21+idlen:]
	if uint32(len(ciphertext)) > rs {
		return nil, fmt.Errorf("%d bytes: more than one record of %d", len(ciphertext), rs)
	}
	as, err := ecdh.P256().NewPublicKey(asPublic)
	if err != nil {
		return nil, err
	}
	secret, err := d.key.ECDH(as)
	if err != nil {
		return nil, err
	}
	info := "WebPush: info\x00" + string(d.key.PublicKey().Bytes()) + string(asPublic)
	ikm, err := hkdf.Key(sha256.New, secret, d.auth, info, 32)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, ciphertext, nil)
	if err != nil {
		return nil, err
	}
	// The last record ends in 0x02 and zero padding.
	end := len(plain)
	for end > 0 && plain[end-1] == 0 {
		end--
	}
	if end == 0 || plain[end-1] != 2 {
		return nil, errors.New("no last-record delimiter")
	}
	return plain[:end-1], nil
}
