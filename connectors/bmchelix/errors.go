package bmchelix

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/rest"
)

// arStatus is one entry of the AR System REST API's error body, a JSON
// array such as
//
//	[{"messageType":"ERROR","messageText":"Authentication failed",
//	  "messageAppendedText":"svc","messageNumber":623}]
type arStatus struct {
	MessageType         string `json:"messageType"`
	MessageText         string `json:"messageText"`
	MessageAppendedText string `json:"messageAppendedText"`
	MessageNumber       int    `json:"messageNumber"`
}

// vendorMessage renders an AR error body as the AR System itself shows
// errors: "ERROR (302): Entry does not exist in database; <appended>",
// several joined with " | ". Any other body (an HTML page from a proxy or
// a load balancer) gives "".
func vendorMessage(_ int, body []byte) string {
	var list []arStatus
	if json.Unmarshal(body, &list) != nil {
		var one arStatus // some gateways answer with a single object
		if json.Unmarshal(body, &one) != nil || one.MessageText == "" {
			return ""
		}
		list = []arStatus{one}
	}
	var parts []string
	for _, s := range list {
		text := strings.TrimSpace(s.MessageText)
		if text == "" {
			continue
		}
		typ := strings.TrimSpace(s.MessageType)
		if typ == "" {
			typ = "ERROR"
		}
		m := fmt.Sprintf("%s (%d): %s", typ, s.MessageNumber, text)
		if a := strings.TrimSpace(s.MessageAppendedText); a != "" {
			m += "; " + a
		}
		parts = append(parts, m)
	}
	return rest.Truncate(strings.Join(parts, " | "), rest.MaxMessage)
}

// AR System error numbers that decide a 5xx answer's class. The AR REST
// API answers some errors the server raised while processing the request
// with 500: a lost database or plug-in connection is worth a retry, but a
// failed validation or a workflow rule's message fails the same way each
// time.
var (
	// transientAR: the server could not do the work now (90 no network
	// connection to the AR server, 91 RPC call failed, 92/93 timeouts
	// during a database update or retrieval, 552 an SQL failure, 9093 the
	// user's session is busy on another connection).
	transientAR = map[int]bool{90: true, 91: true, 92: true, 93: true, 552: true, 9093: true}
	// permanentAR: the request itself is wrong (302 no such entry, 303 no
	// such form, 306 a value outside the field's limits, 307 a required
	// field missing, 314 no such field, 326 a required field blank, 1587 a
	// bad qualification).
	permanentAR = map[int]bool{302: true, 303: true, 306: true, 307: true, 314: true, 326: true, 1587: true}
)

// firstARNumber reads the number of the first message vendorMessage
// rendered ("ERROR (326): …"), or -1.
func firstARNumber(msg string) int {
	_, rest, ok := strings.Cut(msg, " (")
	if !ok {
		return -1
	}
	num, _, ok := strings.Cut(rest, ")")
	n, err := strconv.Atoi(num)
	if !ok || err != nil {
		return -1
	}
	return n
}

// classify refines a 5xx by the AR error it carries: a known request
// error, or a workflow message (numbers from 10000 are the
// applications'), is permanent.
func classify(e *connectors.Error) {
	if e == nil || e.Status < 500 {
		return
	}
	n := firstARNumber(e.Message)
	if n >= 0 && !transientAR[n] && (permanentAR[n] || n >= 10000) {
		e.Class = connectors.Permanent
	}
}
