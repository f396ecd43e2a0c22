package connectors

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// DeliveryKey is the idempotency key the vendor sees for one delivery: a
// ticket (ticketKey, the ticket's own idempotency key) to one connection
// (its configured name). Two connections to the same vendor site, or the
// same connection name on another machine, never share a key, so one
// connection's find-before-create cannot take another's record for its own.
//
// The key is 32 lowercase hexadecimal characters (128 bits of SHA-256 over
// both inputs, length-prefixed so that no two pairs run together). It fits
// every field a connector puts it in as it is: a Jira label (no spaces),
// a ServiceNow correlation_id (at most 100 characters, no query
// separators), a Zendesk external_id, a Salesforce external-id field.
//
// The derivation must never change: a retry after an unknown outcome finds
// the record by the key the earlier attempt sent, possibly from an older
// version of Ticketray.
func DeliveryKey(ticketKey, connection string) string {
	h := sha256.New()
	h.Write([]byte("ticketray delivery v1\x00"))
	for _, s := range []string{ticketKey, connection} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
