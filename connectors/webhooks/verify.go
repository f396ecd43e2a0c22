package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Headers read by Verify.
const (
	HeaderHubSignature        = "X-Hub-Signature"                // Jira admin webhooks: sha256=<hex>
	HeaderJiraSignature       = "X-Jira-Signature"               // <hex>
	HeaderAtlassianDelivery   = "X-Atlassian-Webhook-Identifier" // Jira delivery id, same on retries
	HeaderServiceNowSignature = "X-ServiceNow-Signature"         // hex or base64
	HeaderTicketrayDelivery   = "X-Ticketray-Delivery-Id"        // ServiceNow delivery id (our contract)
	HeaderZendeskSignature    = "X-Zendesk-Webhook-Signature"    // base64
	HeaderZendeskTimestamp    = "X-Zendesk-Webhook-Signature-Timestamp"
	HeaderZendeskInvocation   = "X-Zendesk-Webhook-Invocation-Id" // Zendesk delivery id
)

// MaxSkew is how far Zendesk's signed timestamp may be from now.
const MaxSkew = 5 * time.Minute

// Verify checks one delivery's signature over its raw body with the
// connection's secret, in constant time, and returns the delivery id used
// against replays (see Event.DeliveryID). now is the receiver's clock, for
// Zendesk's timestamp window. Errors wrap ErrMissingSignature,
// ErrBadSignature, ErrStale or ErrUnsupported and name the header, never
// its value.
func Verify(kind Kind, h http.Header, body, secret []byte, now time.Time) (deliveryID string, err error) {
	if len(secret) == 0 {
		return "", fmt.Errorf("%w: no webhook secret", ErrBadSignature)
	}
	switch kind {
	case KindJira, KindJSM:
		err = verifyJira(h, body, secret)
		deliveryID = h.Get(HeaderAtlassianDelivery)
	case KindServiceNow:
		err = verifyServiceNow(h, body, secret)
		deliveryID = h.Get(HeaderTicketrayDelivery)
	case KindZendesk:
		var ts string
		ts, err = verifyZendesk(h, body, secret, now)
		deliveryID = h.Get(HeaderZendeskInvocation)
		if deliveryID == "" && err == nil {
			return bodyID([]byte(ts), body), nil
		}
	default:
		return "", fmt.Errorf("%w: %q", ErrUnsupported, kind)
	}
	if err != nil {
		return "", err
	}
	if deliveryID == "" {
		deliveryID = bodyID(nil, body)
	}
	return deliveryID, nil
}

// bodyID names a delivery that came without an id header by what was
// signed: a sender's retry resends the same bytes.
func bodyID(prefix, body []byte) string {
	s := sha256.New()
	s.Write(prefix)
	s.Write(body)
	return "sha256:" + hex.EncodeToString(s.Sum(nil))
}

func mac(secret []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, secret)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// verifyJira accepts X-Hub-Signature (sha256=<hex>, WebSub) or
// X-Jira-Signature (<hex>, an optional sha256= prefix tolerated).
func verifyJira(h http.Header, body, secret []byte) error {
	header, value := HeaderHubSignature, h.Get(HeaderHubSignature)
	if value == "" {
		header, value = HeaderJiraSignature, h.Get(HeaderJiraSignature)
	}
	if value == "" {
		return fmt.Errorf("%w: %s", ErrMissingSignature, HeaderHubSignature)
	}
	method, sig, ok := strings.Cut(value, "=")
	switch {
	case ok && !strings.EqualFold(method, "sha256"):
		return fmt.Errorf("%w: %s uses %q, want sha256", ErrBadSignature, header, method)
	case !ok && header == HeaderHubSignature:
		return fmt.Errorf("%w: %s has no sha256= prefix", ErrBadSignature, header)
	case !ok:
		sig = value
	}
	got, err := hex.DecodeString(strings.TrimSpace(sig))
	if err != nil || !hmac.Equal(got, mac(secret, body)) {
		return fmt.Errorf("%w: %s", ErrBadSignature, header)
	}
	return nil
}

// verifyServiceNow accepts the HMAC in hex or in base64 (what
// GlideCertificateEncryption.generateMac returns).
func verifyServiceNow(h http.Header, body, secret []byte) error {
	value := strings.TrimSpace(h.Get(HeaderServiceNowSignature))
	if value == "" {
		return fmt.Errorf("%w: %s", ErrMissingSignature, HeaderServiceNowSignature)
	}
	if method, sig, ok := strings.Cut(value, "="); ok && strings.EqualFold(method, "sha256") {
		value = sig
	}
	want := mac(secret, body)
	for _, got := range decodings(value) {
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s", ErrBadSignature, HeaderServiceNowSignature)
}

// decodings returns the byte strings value may stand for: hex, or base64
// with or without padding, standard or URL alphabet. The comparison that
// follows is constant time for each.
func decodings(value string) [][]byte {
	var out [][]byte
	if b, err := hex.DecodeString(value); err == nil {
		out = append(out, b)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(value); err == nil {
			out = append(out, b)
		}
	}
	return out
}

// verifyZendesk checks base64(HMAC-SHA256(secret, timestamp + body)) and
// that the timestamp is within MaxSkew of now. It returns the timestamp.
func verifyZendesk(h http.Header, body, secret []byte, now time.Time) (string, error) {
	sig := strings.TrimSpace(h.Get(HeaderZendeskSignature))
	ts := h.Get(HeaderZendeskTimestamp)
	switch {
	case sig == "":
		return "", fmt.Errorf("%w: %s", ErrMissingSignature, HeaderZendeskSignature)
	case ts == "":
		return "", fmt.Errorf("%w: %s", ErrMissingSignature, HeaderZendeskTimestamp)
	}
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac(secret, []byte(ts), body)) {
		return "", fmt.Errorf("%w: %s", ErrBadSignature, HeaderZendeskSignature)
	}
	at, err := time.Parse(time.RFC3339, ts)
	if err != nil {
		return "", fmt.Errorf("%w: %s is not an RFC 3339 time", ErrStale, HeaderZendeskTimestamp)
	}
	if d := now.Sub(at); d > MaxSkew || d < -MaxSkew {
		return "", fmt.Errorf("%w: %s is %s from now", ErrStale, HeaderZendeskTimestamp, d.Round(time.Second))
	}
	return ts, nil
}
